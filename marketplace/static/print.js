// The "Print" buttons of receipts, labels, slips and statements (no inline onclick: the
// Content-Security-Policy allows scripts only from files).
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
