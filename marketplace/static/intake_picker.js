// The intake's product picker: shows matching products (member, price, photo) as the kasir types, and
// choosing one fills the form's hidden product field. Optional sugar: without it the search form and
// the "Choose" links do the same with page loads.
(function () {
  var input = document.querySelector("input[data-picker]");
  var picks = document.getElementById("picks");
  var field = document.querySelector("input[name=product_id]");
  var chosen = document.getElementById("chosen");
  if (!input || !picks || !field || !window.fetch) return;
  var timer = null, last = input.value.trim();
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = input.value.trim();
      if (q === last) return;
      last = q;
      if (q.length < 2) { picks.innerHTML = ""; return; }
      fetch(input.dataset.picker + "?q=" + encodeURIComponent(q), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) { if (q === last) picks.innerHTML = html; })
        .catch(function () {});
    }, 200);
  });
  picks.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-product-id]");
    if (!link) return;
    event.preventDefault();
    field.value = link.dataset.productId;
    chosen.textContent = "";
    var summary = link.cloneNode(true);
    summary.removeAttribute("href");
    var button = summary.querySelector(".btn");
    if (button) button.remove();
    chosen.appendChild(summary);
    picks.innerHTML = "";
    var quantity = document.querySelector("input[name=quantity]");
    if (quantity) quantity.focus();
  });
})();
