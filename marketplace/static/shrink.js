// Makes phone photos smaller in the browser before they are uploaded: a 12-megapixel camera photo of
// 3-5 MB becomes about 1 MB at 2048 px, which matters on a thin, paid-by-the-megabyte connection.
// The browser draws the photo upright (EXIF orientation) and the new JPEG carries no EXIF/GPS.
// Without JavaScript, on an old browser, or when a file cannot be decoded, the original is sent and
// the server checks and resizes it as always (and says why when it refuses one).
(function () {
  "use strict";
  var MAX_SIDE = 2048, QUALITY = 0.85, MIN_BYTES = 400 * 1024;
  var form = document.querySelector("form[data-shrink-photos]");
  if (!form || !window.DataTransfer || !window.URL || !HTMLCanvasElement.prototype.toBlob) return;
  var input = form.querySelector("input[type=file]");
  var status = form.querySelector("[data-shrink-status]");
  if (!input) return;

  function shrink(file) {
    if (!/^image\/(jpeg|webp)$/.test(file.type) || file.size < MIN_BYTES) return Promise.resolve(file);
    var url = URL.createObjectURL(file);
    var img = new Image();
    img.src = url;
    return img.decode().then(function () {
      var scale = Math.min(1, MAX_SIDE / Math.max(img.naturalWidth, img.naturalHeight));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(img.naturalWidth * scale);
      canvas.height = Math.round(img.naturalHeight * scale);
      canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", QUALITY); });
    }).then(function (blob) {
      if (!blob || blob.size >= file.size) return file;
      var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
      return new File([blob], name, {type: "image/jpeg", lastModified: file.lastModified});
    }).catch(function () {
      return file;
    }).then(function (result) {
      URL.revokeObjectURL(url);
      return result;
    });
  }

  var ready = false;
  form.addEventListener("submit", function (event) {
    if (ready || !input.files.length) return;
    event.preventDefault();
    if (status) status.textContent = status.getAttribute("data-shrink-status");
    Promise.all(Array.prototype.map.call(input.files, shrink)).then(function (files) {
      var transfer = new DataTransfer();
      files.forEach(function (file) { transfer.items.add(file); });
      input.files = transfer.files;
    }).catch(function () { /* send the originals */ }).then(function () {
      ready = true;
      form.submit();
    });
  });
})();
