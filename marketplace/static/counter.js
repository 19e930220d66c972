// A live "12/200" under every text field with a maximum length (the field macro in _form.html marks
// them). Without JavaScript the field's maxlength and the hint "At most 200 characters." still say it.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-counter-for]"), function (counter) {
    var field = document.getElementById(counter.getAttribute("data-counter-for"));
    if (!field || !(field.maxLength > 0)) return;
    var limit = field.maxLength;
    function update() {
      var n = field.value.length;
      counter.textContent = n + "/" + limit;
      counter.classList.toggle("at-limit", n >= limit);
    }
    field.addEventListener("input", update);
    update();
  });
})();
