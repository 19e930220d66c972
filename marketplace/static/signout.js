// Signing out, from any page: this phone no longer sells offline as that kasir. The offline counter keeps the
// kasir who last opened it online in IndexedDB ("pasar-pos", store "meta", key "kasir"); it is forgotten
// before the sign-out form is sent. The queue of sales made offline is not touched: each sale carries its
// own kasir's token and still syncs. A browser that never opened the counter has no such database, and none
// is made here (the version change that would create it is aborted).
(function () {
  "use strict";
  if (!window.indexedDB) return;
  function forgetKasir() {
    return new Promise(function (resolve) {
      var open;
      try { open = indexedDB.open("pasar-pos"); } catch (e) { resolve(); return; }
      open.onupgradeneeded = function () { open.transaction.abort(); };  // no counter on this browser
      open.onerror = open.onblocked = function () { resolve(); };
      open.onsuccess = function () {
        var db = open.result;
        if (!db.objectStoreNames.contains("meta")) { db.close(); resolve(); return; }
        var t = db.transaction("meta", "readwrite");
        t.objectStore("meta").delete("kasir");
        t.oncomplete = t.onerror = t.onabort = function () { db.close(); resolve(); };
      };
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("form[data-sign-out]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.forgotten) return;
      event.preventDefault();
      var sent = false;
      function send() { if (sent) return; sent = true; form.dataset.forgotten = "1"; form.submit(); }
      forgetKasir().then(send);
      setTimeout(send, 2000);  // never keep someone from signing out
    });
  });
})();
