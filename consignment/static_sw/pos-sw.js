// The counter's service worker (served at /gerai/kasir/sw.js, scope /gerai/kasir): keeps the POS shell
// (/gerai/kasir/luring) and the files it loads, so the counter opens with no connection. Pages and files
// come from the network while it answers (always fresh); the kept copies answer only when it does not.
// Nothing here sends a sale: pos-offline.js queues them in IndexedDB and syncs them itself.
"use strict";
var CACHE = "pasar-pos-v1";
var SCOPE = new URL(self.registration.scope).pathname.replace(/\/$/, "");
var SHELL = SCOPE + "/luring";

function keepShell() {
  return caches.open(CACHE).then(function (cache) {
    return fetch(SHELL, {credentials: "same-origin", cache: "no-store"}).then(function (response) {
      if (!response.ok || response.redirected) return;  // signed out: keep the copy we have
      return response.clone().text().then(function (html) {
        var files = [], re = /(?:src|href)="(\/static\/[^"]+)"/g, m;
        while ((m = re.exec(html))) files.push(m[1].replace(/&amp;/g, "&"));
        return cache.put(SHELL, response).then(function () { return cache.addAll(files); });
      });
    });
  });
}

self.addEventListener("install", function (event) {
  event.waitUntil(keepShell().catch(function () {}).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("message", function (event) {
  if (event.data === "keep-shell") event.waitUntil(keepShell().catch(function () {}));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && (url.pathname === SCOPE || url.pathname === SHELL)) {
    event.respondWith(fetch(request).catch(function () {
      return caches.match(SHELL).then(function (kept) { return kept || Response.error(); });
    }));
  } else if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(request, {ignoreSearch: false}).then(function (kept) { return kept || Response.error(); });
    }));
  }
});
