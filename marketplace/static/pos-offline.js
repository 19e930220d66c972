// POS offline: the service worker keeps the counter's shell; this file keeps, in IndexedDB on the device,
// the snapshot of sellable lots (refreshed whenever the POS is online), the kasir who last opened the POS
// (their signed token), and the queue of sales made offline. The queue belongs to the device, not to a
// session: signing out or another kasir signing in never loses a queued sale nor changes whose it is (each
// sale carries the token of the kasir who made it). When the connection returns the queue is sent, in
// order, to the server, which records each sale exactly once (its client-made UUID).
(function () {
  "use strict";
  var pos = document.getElementById("pos");
  if (!pos || !window.indexedDB) return;
  var shell = !!pos.dataset.shell;
  var D = pos.dataset;
  var $ = function (id) { return document.getElementById(id); };
  var money = window.PasarMoney;

  // --- IndexedDB ---
  var dbp = new Promise(function (resolve, reject) {
    var open = indexedDB.open("pasar-pos", 1);
    open.onupgradeneeded = function () {
      var db = open.result;
      db.createObjectStore("lots", {keyPath: "code"});
      db.createObjectStore("meta", {keyPath: "key"});
      db.createObjectStore("queue", {keyPath: "uuid"});
    };
    open.onsuccess = function () { resolve(open.result); };
    open.onerror = function () { reject(open.error); };
  });
  function tx(store, mode, work) {
    return dbp.then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(store, mode), result;
        var req = work(t.objectStore(store));
        if (req) req.onsuccess = function () { result = req.result; };
        t.oncomplete = function () { resolve(result); };
        t.onerror = t.onabort = function () { reject(t.error); };
      });
    });
  }
  var get = function (store, key) { return tx(store, "readonly", function (s) { return s.get(key); }); };
  var put = function (store, value) { return tx(store, "readwrite", function (s) { return s.put(value); }); };
  var all = function (store) { return tx(store, "readonly", function (s) { return s.getAll(); }); };
  var del = function (store, key) { return tx(store, "readwrite", function (s) { return s.delete(key); }); };

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function fmt(n) { return money ? money.formatRupiah(n) : "Rp" + n; }
  function say(text) { var m = $("pos-message"); m.textContent = text || ""; m.hidden = !text; }

  function button(text, action, onClick) {
    var b = document.createElement("button");
    b.type = "button"; b.className = "btn secondary"; b.textContent = text; b.dataset.action = action;
    b.addEventListener("click", function () { b.disabled = true; onClick().then(function () { b.disabled = false; }); });
    return b;
  }

  // Ask the browser not to evict this site's storage (IndexedDB holds sales not yet on the server) when the
  // queue is first used; Chrome grants it to an installed or much-used site without asking the kasir.
  var storageAsked = false;
  function keepStorage() {
    if (storageAsked || !navigator.storage || !navigator.storage.persist) return;
    storageAsked = true;
    (navigator.storage.persisted ? navigator.storage.persisted() : Promise.resolve(false)).then(function (kept) {
      return kept || navigator.storage.persist();
    }).catch(function () {});
  }

  // --- the header: online/offline and the queue's count ---
  // Online means the server answers. navigator.onLine says only that some network is there (a gerai's
  // router whose uplink is down counts as online, and the browser may not notice a dropped line), so the
  // counter believes its own requests: the shell is shown because the network failed, and a probe or a sync
  // that gets an answer (or not) says which it is now.
  var reachable = shell ? false : navigator.onLine;
  function showNet() {
    var net = $("pos-net"), online = reachable && navigator.onLine;
    net.textContent = online ? net.dataset.online : net.dataset.offline;
    net.className = "badge " + (online ? "net-online" : "net-offline");
    var back = $("pos-back-online");
    if (back) back.hidden = !online;
  }
  function showQueue() {
    return all("queue").then(function (rows) {
      rows.sort(function (a, b) { return a.seq - b.seq; });
      var waiting = rows.filter(function (r) { return r.status !== "refused"; });
      $("pos-queue-n").textContent = waiting.length;
      $("pos-queue").hidden = rows.length === 0;
      var list = $("pending-list");
      list.textContent = "";
      rows.forEach(function (r) {
        var li = document.createElement("li");
        var state = r.status === "refused" ? list.dataset.refused + ": " + (r.message || "") : list.dataset.waiting;
        li.textContent = localTime(r.sold_at, false) + " · " + r.kasir_name + " · " + fmt(r.total) + " · " + state;
        li.className = r.status === "refused" ? "refused" : "waiting";
        if (r.status === "refused") {  // the kasir or pengurus decides: send it again (e.g. after fixing
          var bar = document.createElement("span");  // the account or the clock), or discard it
          bar.className = "bar";
          bar.appendChild(button(list.dataset.retry, "retry", function () {
            r.status = "waiting"; delete r.message;
            return put("queue", r).then(showQueue).then(function () { return sync(); });
          }));
          bar.appendChild(button(list.dataset.discard, "discard", function () {
            if (!window.confirm(list.dataset.confirmDiscard)) return Promise.resolve();
            return del("queue", r.uuid).then(showQueue);
          }));
          li.appendChild(bar);
        }
        list.appendChild(li);
      });
      $("pos-pending").hidden = rows.length === 0;
      document.documentElement.dataset.posQueue = String(waiting.length);
      return waiting.length;
    });
  }

  // --- online: remember the kasir, keep the snapshot, register the service worker, sync ---
  var csrf = D.csrf;
  var SNAPSHOT_MINUTES = 5;  // the POS reloads after every scan online: the list is fetched again at most this often
  function fetchJson(url) {
    return fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}}).then(function (r) {
      if (!r.ok || (r.headers.get("Content-Type") || "").indexOf("json") < 0) throw new Error("signed out");
      return r.json();
    });
  }
  function refreshSnapshot() {
    return get("meta", "snapshot").then(function (kept) {
      if (kept && Date.now() - kept.fetched < SNAPSHOT_MINUTES * 60000) {
        return fetchJson(D.snapshot + "?hanya=token").then(function (answer) { csrf = answer.csrf; });
      }
      return fetchJson(D.snapshot).then(function (snap) {
        csrf = snap.csrf;
        return tx("lots", "readwrite", function (s) {
          s.clear();
          snap.lots.forEach(function (lot) { s.put(lot); });
        }).then(function () {
          return put("meta", {key: "snapshot", taken_at: snap.taken_at, fetched: Date.now(), count: snap.lots.length});
        });
      });
    });
  }

  function setReachable(yes) {
    var was = reachable;
    reachable = yes;
    showNet();
    if (yes && !was) sync();  // the connection is back: send what waits
    if (!yes) goOffline();  // on the online POS: carry the cart to the offline counter
  }
  // Any answer from the app (even a sign-in page) means it is reachable; a network error or a proxy's 5xx
  // means it is not.
  function probe() {
    return fetch(D.snapshot + "?hanya=token", {credentials: "same-origin", cache: "no-store",
                                               headers: {Accept: "application/json"}})
      .then(function (r) {
        setReachable(r.status < 500);  // a proxy's 502 or 504 means the app does not answer
        if (r.ok && (r.headers.get("Content-Type") || "").indexOf("json") >= 0) {
          return r.json().then(function (answer) { csrf = answer.csrf; });
        }
      }, function () { setReachable(false); });
  }

  var syncing = null;
  function sync() {
    if (syncing) return syncing;
    syncing = all("queue").then(function (rows) {
      rows = rows.filter(function (r) { return r.status !== "refused"; }).sort(function (a, b) { return a.seq - b.seq; });
      if (!rows.length || !navigator.onLine || !reachable) return 0;
      return refreshSnapshot().then(function () { return sendBatches(rows); });
    }).catch(function () { return 0; }).then(function (n) {
      syncing = null;
      return showQueue().then(function () { return n; });
    });
    return syncing;
  }
  function sendBatches(rows) {
    var batch = rows.slice(0, 50), rest = rows.slice(50);
    var body = JSON.stringify({sales: batch.map(function (r) {
      return {uuid: r.uuid, token: r.token, sold_at: r.sold_at, cash_received: r.cash_received,
              lines: r.lines.map(function (l) { return {code: l.code, quantity: l.quantity}; })};
    })});
    return fetch(D.sync, {method: "POST", credentials: "same-origin", body: body,
                          headers: {"Content-Type": "application/json", "X-CSRFToken": csrf}})
      .catch(function (error) { probe(); throw error; })  // one lost request is not yet "offline": ask again
      .then(function (r) { if (!r.ok) throw new Error("sync " + r.status); return r.json(); })
      .then(function (answer) {
        var done = answer.results.map(function (res) {
          var row = batch.filter(function (r) { return r.uuid === res.uuid; })[0];
          if (!row) return null;
          if (res.status === "recorded") {
            if (res.discrepancies) say(($("pending-list").dataset.discrepancy) + ": " + res.number);
            return del("queue", row.uuid);
          }
          row.status = "refused"; row.message = res.message;
          return put("queue", row);
        });
        return Promise.all(done);
      }).then(function () { return rest.length ? sendBatches(rest) : batch.length; });
  }

  function rememberKasir() {
    if (!D.kasirToken) return Promise.resolve();
    return put("meta", {key: "kasir", token: D.kasirToken, name: D.kasirName});
  }

  // Signing out (from any page) forgets the kasir on this device: marketplace/static/signout.js.

  // --- the online POS when the connection drops: the cart goes to the offline counter, and back ---
  // The cart lives in one place at a time. Going offline, the server's cart is copied to the phone's cart
  // (localStorage, what the offline shell sells from) and remembered as "carried"; the kasir is taken to the
  // shell kept by the service worker. Back on the online POS, a carried cart still on the server is cleared
  // (it was sold offline, or is in the phone's cart) and what is left in the phone's cart goes to the
  // server's cart, so nothing is sold twice and nothing scanned is lost.
  var CART = "pasar-pos-cart", CARRIED = "pasar-pos-carried", GO_OFFLINE_MS = 1000;
  function localCart() {
    try { return JSON.parse(localStorage.getItem(CART) || "[]") || []; } catch (e) { return []; }
  }
  function serverCart() {
    return Array.prototype.map.call(document.querySelectorAll("#lines li.pos-line[data-code]"), function (li) {
      return {code: li.dataset.code, name: li.dataset.name, price: parseInt(li.dataset.price, 10) || 0,
              on_hand: parseInt(li.dataset.onHand, 10) || 0, quantity: parseInt(li.dataset.quantity, 10) || 0};
    }).filter(function (l) { return l.quantity > 0; });
  }
  function signature(lines) { return lines.map(function (l) { return l.code + ":" + l.quantity; }).join(","); }
  var leaving = false;
  function goOffline() {
    if (shell || leaving) return;
    $("pos-offline-note").hidden = false;
    var go = $("pos-go-offline");
    if (go) go.hidden = false;
    leaving = true;
    var kept = window.caches ? caches.match(D.shellUrl).catch(function () { return null; }) : Promise.resolve(null);
    kept.then(function (response) {
      if (response && navigator.serviceWorker && navigator.serviceWorker.controller) {
        // Only a cart that really goes to the offline counter is carried (and cleared on the server later):
        // one copied while staying here would come back on top of the next scans.
        var lines = serverCart(), local = localCart();
        lines.forEach(function (l) {
          var same = local.filter(function (x) { return x.code === l.code; })[0];
          if (same) same.quantity = Math.max(same.quantity, l.quantity); else local.push(l);
        });
        try {
          localStorage.setItem(CART, JSON.stringify(local));
          localStorage.setItem(CARRIED, signature(lines));
        } catch (e) { /* storage full or blocked: the kasir scans again offline */ }
        setTimeout(function () { location.assign(D.shellUrl); }, GO_OFFLINE_MS);  // the note is read first
      } else {  // this phone has no offline counter yet: say so instead of a browser error page
        leaving = false;
        say($("pos-checkout").dataset.noKasir);
      }
    });
  }
  function post(url, fields) {
    var body = new URLSearchParams(fields);
    body.set("csrf_token", csrf);
    return fetch(url, {method: "POST", credentials: "same-origin", body: body}).then(function (r) {
      if (!r.ok || (r.redirected && r.url.indexOf(D.scope) < 0)) throw new Error("not saved");
    });
  }
  function carryBack() {
    var carried = localStorage.getItem(CARRIED), local = localCart();
    if ((carried === null && !local.length) || !navigator.onLine) return Promise.resolve(false);
    var chain = Promise.resolve();
    if (carried && carried === signature(serverCart())) chain = chain.then(function () { return post(D.clear, {}); });
    local.forEach(function (l) {
      chain = chain.then(function () { return post(D.add, {kode: l.code, jumlah: l.quantity}); });
    });
    return chain.then(function () {
      localStorage.removeItem(CARRIED);
      localStorage.setItem(CART, "[]");
      location.reload();
      return true;
    }).catch(function () { return false; });
  }
  if (!shell) {
    // A form sent without a connection would end on the browser's error page: go to the offline counter.
    document.addEventListener("submit", function (event) {
      if ((navigator.onLine && reachable) || !pos.contains(event.target)) return;
      event.preventDefault();
      goOffline();
    }, true);
    document.addEventListener("pos:offline", goOffline);  // a fetch of the page failed (pos-scan.js)
  }

  window.addEventListener("online", function () { probe(); });
  window.addEventListener("offline", function () { setReachable(false); });
  showNet();

  var ready = [showQueue()];
  if (!shell) {
    ready.push(carryBack());
    ready.push(rememberKasir());
    ready.push(refreshSnapshot().catch(function () {}));
    if ("serviceWorker" in navigator) {
      ready.push(navigator.serviceWorker.register(D.sw, {scope: D.scope}).then(function () {
        return navigator.serviceWorker.ready;
      }).then(function (registration) {
        // A newer shell (another kasir's name, new files) replaces the kept one on every online visit.
        if (registration.active) registration.active.postMessage("keep-shell");
      }).catch(function () {}));
    }
  }
  Promise.all(ready).then(function () { return sync(); }).then(function () {
    document.documentElement.dataset.posReady = "1";  // the device can sell offline from here on
  });
  // While the server does not answer, ask every few seconds (a tiny request) so the queue leaves as soon as
  // the line is back; while it answers, send what waits every 30 s.
  var ticks = 0;
  setInterval(function () {
    ticks += 1;
    if (!reachable) probe();
    else if (ticks % 6 === 0 && navigator.onLine) sync();
  }, 5000);
  if (shell) probe();
  if (!shell) return;

  // --- the offline shell: a cart on the device, cash sales into the queue ---
  var cart = [];
  try { cart = JSON.parse(localStorage.getItem("pasar-pos-cart") || "[]"); } catch (e) { cart = []; }
  var lines = $("lines"), totalEl = $("total"), record = $("record-sale"), form = $("pos-checkout");
  var cash = $("cash_received"), code = $("kode"), found = $("found");

  function total() { return cart.reduce(function (sum, l) { return sum + l.price * l.quantity; }, 0); }
  function render() {
    localStorage.setItem("pasar-pos-cart", JSON.stringify(cart));
    lines.textContent = "";
    if (!cart.length) {
      var empty = document.createElement("li");
      empty.className = "muted"; empty.textContent = lines.dataset.empty;
      lines.appendChild(empty);
    }
    cart.forEach(function (l, i) {
      var li = document.createElement("li");
      li.className = "pos-line" + (l.quantity > l.on_hand ? " short" : "");
      var what = document.createElement("span");
      what.className = "what";
      var name = document.createElement("strong"); name.textContent = l.name;
      var small = document.createElement("small"); small.className = "muted";
      small.textContent = l.code + " · " + fmt(l.price) + " · " +
        (l.quantity > l.on_hand ? lines.dataset.over : lines.dataset.onHand).replace("%(n)s", l.on_hand);
      what.appendChild(name); what.appendChild(document.createElement("br")); what.appendChild(small);
      var qty = document.createElement("span"); qty.className = "qty";
      [["−", -1, lines.dataset.less], [null], ["+", 1, lines.dataset.more]].forEach(function (b) {
        if (b[0] === null) {
          var out = document.createElement("output"); out.textContent = l.quantity; qty.appendChild(out); return;
        }
        var btn = document.createElement("button");
        btn.type = "button"; btn.className = "btn secondary"; btn.textContent = b[0];
        btn.setAttribute("aria-label", b[2] + " " + l.name);
        btn.addEventListener("click", function () {
          l.quantity += b[1];
          if (l.quantity <= 0) cart.splice(i, 1);
          render();
        });
        qty.appendChild(btn);
      });
      var sub = document.createElement("span"); sub.className = "sub num"; sub.textContent = fmt(l.price * l.quantity);
      li.appendChild(what); li.appendChild(qty); li.appendChild(sub);
      lines.appendChild(li);
    });
    var t = total();
    totalEl.dataset.total = t;
    totalEl.textContent = fmt(t);
    record.disabled = !cart.length;
    var clear = $("pos-clear");
    if (clear) clear.hidden = !cart.length;
    document.dispatchEvent(new Event("pos:total"));
  }

  function addLot(lot) {
    var line = cart.filter(function (l) { return l.code === lot.code; })[0];
    if (line) line.quantity += 1;
    else cart.push({code: lot.code, name: lot.name, price: lot.price, on_hand: lot.on_hand, quantity: 1});
    say("");
    found.textContent = "";
    render();
  }

  function searchSnapshot(q) {
    q = q.toLowerCase();
    return all("lots").then(function (lots) {
      return lots.filter(function (lot) {
        return lot.name.toLowerCase().indexOf(q) >= 0 || lot.member.toLowerCase().indexOf(q) >= 0;
      }).slice(0, 20);
    });
  }
  function showFound(lots) {
    found.textContent = "";
    var ul = document.createElement("ul"); ul.className = "pos-found";
    lots.forEach(function (lot) {
      var li = document.createElement("li"), row = document.createElement("div"), text = document.createElement("span");
      row.className = "found";
      text.textContent = lot.name + " · " + lot.member + " · " + lot.code + " · " + fmt(lot.price);
      var btn = document.createElement("button");
      btn.type = "button"; btn.className = "btn"; btn.textContent = "+"; btn.dataset.code = lot.code;
      btn.addEventListener("click", function () { addLot(lot); code.value = ""; code.focus(); });
      row.appendChild(text); row.appendChild(btn); li.appendChild(row); ul.appendChild(li);
    });
    found.appendChild(ul);
  }

  $("pos-add").addEventListener("submit", function (event) {
    event.preventDefault();
    var typed = code.value.trim();
    if (!typed) return;
    get("lots", typed.toUpperCase()).then(function (lot) {
      if (lot) { addLot(lot); code.value = ""; code.focus(); return; }
      return searchSnapshot(typed).then(function (lots) {
        if (lots.length) showFound(lots);
        else say(form.dataset.notFound.replace("%(q)s", typed));
      });
    });
  });
  code.addEventListener("input", function () {
    var q = code.value.trim();
    if (q.length < 2) { found.textContent = ""; return; }
    searchSnapshot(q).then(function (lots) { if (code.value.trim() === q) showFound(lots); });
  });
  var clearButton = $("pos-clear");
  if (clearButton) clearButton.addEventListener("click", function () { cart = []; render(); });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!cart.length) return;
    var t = total(), received = t;
    if (cash.value.trim()) {
      var parsed = money.parseRupiah(cash.value);
      if (parsed.amount === undefined || parsed.amount < t) { cash.focus(); say(form.dataset.short); return; }
      received = parsed.amount;
    }
    get("meta", "kasir").then(function (kasir) {
      if (!kasir) { say(form.dataset.noKasir); return; }
      var sale = {uuid: uuid(), seq: Date.now() * 1000 + Math.floor(Math.random() * 1000), token: kasir.token,
                  kasir_name: kasir.name, sold_at: new Date().toISOString(), cash_received: received, total: t,
                  status: "waiting", lines: cart.map(function (l) {
                    return {code: l.code, name: l.name, price: l.price, quantity: l.quantity};
                  })};
      keepStorage();
      return put("queue", sale).then(function () {
        return tx("lots", "readwrite", function (s) {  // the saved list counts what this phone sold since
          sale.lines.forEach(function (l) {
            var req = s.get(l.code);
            req.onsuccess = function () { if (req.result) { req.result.on_hand -= l.quantity; s.put(req.result); } };
          });
        });
      }).then(function () {
        cart = []; cash.value = ""; render(); showReceipt(sale); showQueue();
        if (navigator.onLine) sync();
      });
    });
  });

  // The receipt on screen (printable on 58 mm, sendable to the shopper's WhatsApp as text).
  var receipt = $("pos-receipt");
  function showReceipt(sale) {
    var R = receipt.dataset, rows = [R.title + " · " + localTime(sale.sold_at, true),
                                     R.cashier + ": " + sale.kasir_name, ""];
    sale.lines.forEach(function (l) {
      rows.push(l.name);
      rows.push("  " + l.quantity + " × " + fmt(l.price) + " = " + fmt(l.price * l.quantity));
    });
    rows.push("", "*" + R.total + ": " + fmt(sale.total) + "*", R.cash + ": " + fmt(sale.cash_received),
              R.change + ": " + fmt(sale.cash_received - sale.total), "", R.offline, R.thanks);
    var body = receipt.querySelector(".receipt-body");
    body.textContent = "";
    var pre = document.createElement("pre"); pre.textContent = rows.join("\n").replace(/\*/g, "");
    body.appendChild(pre);
    receiptText = rows.join("\n");
    paperLength(pre.textContent.split("\n"));
    waNumber.value = "";
    sendTo();
    receipt.hidden = false;
    document.body.classList.add("receipt-open");
    receipt.scrollIntoView();
  }
  // A time as the online receipt writes it: in the cooperative's zone (not the phone's), with its WIB/WITA/WIT.
  function localTime(iso, withDate) {
    var R = $("pos-receipt").dataset, options = {hour: "2-digit", minute: "2-digit", second: "2-digit"};
    if (withDate) { options.day = "numeric"; options.month = "short"; options.year = "numeric"; }
    try {
      return new Intl.DateTimeFormat(R.lang, Object.assign({timeZone: R.zone}, options)).format(new Date(iso)) +
        (R.zoneLabel ? " " + R.zoneLabel : "");  // a shell kept before the zone was written in it: without
    } catch (e) {  // a browser that does not know the zone: the phone's own clock
      return new Date(iso).toLocaleString();
    }
  }
  // Printed on the 58 mm roll: the page is as long as the receipt (a roll has no page length, and CSS has no
  // "auto" one), estimated from its lines at 9 pt (about 28 characters a line on 54 mm).
  function paperLength(textLines) {
    var lines = textLines.reduce(function (n, t) { return n + Math.max(1, Math.ceil(t.length / 28)); }, 0);
    var style = $("receipt-page") || document.head.appendChild(document.createElement("style"));
    style.id = "receipt-page";
    style.textContent = "@page receipt{size:58mm " + Math.ceil(lines * 4.2 + 10) + "mm;margin:2mm}";
  }

  // The shopper's WhatsApp number, as the online receipt reads it (marketplace/text.py normalise_phone):
  // "0812-3456-7890" -> 6281234567890. Nothing is stored or sent by the server; without a number (or with one
  // too short to be a phone's) WhatsApp asks whom to send to.
  var receiptText = "", waNumber = $("receipt-wa-number");
  function normalisePhone(raw) {
    var digits = (raw || "").replace(/\D/g, "");
    if (digits.charAt(0) === "0") digits = "62" + digits.slice(1);
    else if (digits.charAt(0) === "8") digits = "62" + digits;
    return digits;
  }
  function sendTo() {
    var typed = waNumber.value.trim(), number = normalisePhone(typed), wrong = !!typed && number.length < 10;
    $("receipt-wa-wrong").hidden = !wrong;
    $("receipt-wa").href = "https://wa.me/" + (wrong ? "" : number) + "?text=" + encodeURIComponent(receiptText);
  }
  waNumber.addEventListener("input", sendTo);
  $("receipt-next").addEventListener("click", function () {
    receipt.hidden = true;
    document.body.classList.remove("receipt-open");
    code.focus();
  });
  render();
})();
