// POS: show the change to give as the cashier types the cash received. Optional sugar.
(function () {
  var cash = document.getElementById("cash_received");
  var out = document.getElementById("change");
  var totalEl = document.getElementById("total");
  if (!cash || !out || !totalEl) return;
  var total = parseInt(totalEl.dataset.total, 10) || 0;
  function rupiah(n) { return (n < 0 ? "-" : "") + "Rp" + Math.abs(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, "."); }
  function update() {
    var digits = cash.value.replace(/,\d*$/, "").replace(/\D/g, "");
    out.textContent = digits ? rupiah(parseInt(digits, 10) - total) : "–";
  }
  cash.addEventListener("input", update);
  update();
})();
