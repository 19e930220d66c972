// POS: show the change to give as the cashier types the cash received ("50000", "50.000", "50rb"...).
// Reads money with PasarMoney (money.js), the same rules as the server. Optional sugar. The total is read
// each time (the offline counter changes it; it sends "pos:total" when it does).
(function () {
  var cash = document.getElementById("cash_received");
  var out = document.getElementById("change");
  var totalEl = document.getElementById("total");
  if (!cash || !out || !totalEl || !window.PasarMoney) return;
  function update() {
    var total = parseInt(totalEl.dataset.total, 10) || 0;
    var typed = cash.value.trim();
    var result = typed ? window.PasarMoney.parseRupiah(typed) : {};
    out.textContent = result.amount !== undefined ? window.PasarMoney.formatRupiah(result.amount - total) : "–";
    out.classList.toggle("short", result.amount !== undefined && result.amount < total);
  }
  cash.addEventListener("input", update);
  document.addEventListener("pos:total", update);
  update();
})();
