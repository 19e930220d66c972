// Rupiah as people type it: a port of parse_rupiah in marketplace/money.py (same rules, same test table).
// parseRupiah("50rb") -> {amount: 50000}; parseRupiah("15,000") -> {error: "ambiguous"}.
(function (root) {
  var MAX_RUPIAH = 1e12;
  var MULTIPLIERS = {rb: 1000, ribu: 1000, k: 1000, jt: 1000000, juta: 1000000};
  var PREFIX = /^rp\.?\s*/, NO_CENTS = /\s*[,.]?-$/, SUFFIX = /^(.*?)\s*(rb|ribu|k|jt|juta)$/;
  var GROUPED = /^(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?$/, ENGLISH_GROUPED = /^\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;
  var DECIMAL_POINT = /^\d+\.\d{1,2}$/, SHORT = /^(\d+)(?:[.,](\d+))?$/;

  function parse(s) {
    s = s.replace(PREFIX, "").replace(NO_CENTS, "");
    var multiplier = 1, m = SUFFIX.exec(s);
    if (m) { s = m[1]; multiplier = MULTIPLIERS[m[2]]; }
    s = s.replace(/ /g, "");
    if (multiplier === 1) {
      m = GROUPED.exec(s);
      if (m) {
        var whole = m[1], cents = m[2];
        if (cents !== undefined && cents.length === 3 && whole.indexOf(".") < 0) return {error: "ambiguous"};
        if (cents && /[1-9]/.test(cents)) return {error: "fraction"};
        return {amount: parseInt(whole.replace(/\./g, ""), 10)};
      }
      if (ENGLISH_GROUPED.test(s)) return {error: "ambiguous"};
      if (DECIMAL_POINT.test(s)) return {error: "fraction"};
      return {error: "invalid"};
    }
    m = SHORT.exec(s);
    if (!m) return {error: "invalid"};
    var decimals = m[2] || "";
    if (decimals.length === 3) return {error: "ambiguous"};
    var scale = Math.pow(10, decimals.length), fraction = parseInt(decimals || "0", 10) * multiplier;
    if (fraction % scale) return {error: "fraction"};
    return {amount: parseInt(m[1], 10) * multiplier + fraction / scale};
  }

  function parseRupiah(text) {
    var result = parse((text || "").split(/\s+/).filter(Boolean).join(" ").toLowerCase());
    if (result.amount !== undefined && result.amount > MAX_RUPIAH) return {error: "invalid"};
    return result;
  }

  function formatRupiah(n) {
    return (n < 0 ? "-" : "") + "Rp" + Math.abs(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  }

  root.PasarMoney = {parseRupiah: parseRupiah, formatRupiah: formatRupiah};
  if (typeof module !== "undefined" && module.exports) module.exports = root.PasarMoney;
})(typeof window !== "undefined" ? window : globalThis);
