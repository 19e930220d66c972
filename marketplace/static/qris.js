// The kasir's QRIS screen: a countdown to the QR's expiry, and every few seconds a POST asking the server
// whether Midtrans has the payment (the server answers JSON: where to go once paid or ended).
(function () {
  "use strict";
  var box = document.getElementById("qris-pay");
  var form = document.getElementById("qris-check");
  if (!box || !form || box.dataset.pending !== "1") return;
  var deadline = Date.now() + parseInt(box.dataset.secondsLeft || "0", 10) * 1000;
  var countdown = document.getElementById("qris-countdown");
  var busy = false;

  function tick() {
    if (!countdown) return;
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    countdown.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
  }

  function poll() {
    if (busy) return;
    busy = true;
    fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                        headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        busy = false;
        if (answer && answer.url) window.location.assign(answer.url);
      })
      .catch(function () { busy = false; });  // offline for a moment: ask again at the next beat
  }

  tick();
  window.setInterval(tick, 1000);
  window.setInterval(poll, parseInt(box.dataset.pollMs || "3000", 10));
})();
