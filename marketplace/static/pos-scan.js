// POS: the phone's camera reads the Code128 label with the browser's own BarcodeDetector (Chrome on
// Android) and adds it like a scanner would; where the browser has none, it says so in Indonesian. Typing
// two letters or more shows the lots that match (product or member name, or a code) without a page load.
// Optional sugar: without it the code field, the search and the Add buttons work with page loads.
(function () {
  "use strict";
  var form = document.getElementById("pos-add");
  var input = document.getElementById("kode");
  var found = document.getElementById("found");
  var pos = document.getElementById("pos");
  if (!form || !input || !pos) return;

  function submitCode(code) {
    input.value = code;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  // --- camera ---
  var button = document.getElementById("camera-button");
  var box = document.getElementById("camera");
  var video = document.getElementById("camera-video");
  var message = document.getElementById("camera-message");
  var stream = null, timer = null;
  function say(key) { message.textContent = message.dataset[key]; message.hidden = false; }
  function stop() {
    clearInterval(timer);
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    box.hidden = true;
  }
  if (button) {
    button.addEventListener("click", function () {
      if (!("BarcodeDetector" in window) || !navigator.mediaDevices) { say("unsupported"); return; }
      var detector;
      try { detector = new window.BarcodeDetector({formats: ["code_128"]}); } catch (e) { say("unsupported"); return; }
      navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false}).then(function (s) {
        stream = s; video.srcObject = s; box.hidden = false; say("looking");
        return video.play();
      }).then(function () {
        var busy = false;
        timer = setInterval(function () {
          if (busy || !stream) return;
          busy = true;
          detector.detect(video).then(function (codes) {
            busy = false;
            if (codes.length && codes[0].rawValue) {
              if (navigator.vibrate) navigator.vibrate(60);
              stop();
              message.hidden = true;
              submitCode(codes[0].rawValue.trim());
            }
          }).catch(function () { busy = false; });
        }, 250);
      }).catch(function () { stop(); say("denied"); });
    });
    document.getElementById("camera-stop").addEventListener("click", stop);
  }

  // --- search as you type (online only; offline the snapshot search in pos-offline.js answers) ---
  if (!found || !window.fetch || pos.dataset.shell) return;
  var wait = null, last = input.value.trim();
  input.addEventListener("input", function () {
    clearTimeout(wait);
    wait = setTimeout(function () {
      var q = input.value.trim();
      if (q === last) return;
      last = q;
      if (q.length < 2) { found.innerHTML = ""; return; }
      fetch(pos.dataset.search + "?q=" + encodeURIComponent(q), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) { if (q === last) found.innerHTML = html; })
        .catch(function () {  // no answer: if the connection is gone, the POS moves to the offline counter
          if (!navigator.onLine) document.dispatchEvent(new Event("pos:offline"));
        });
    }, 250);
  });
})();
