// The spreadsheet import's preview while its photos are being checked: ask for the next batch by itself,
// so a member need not tap "Check the next photos" again and again (the button stays for when this
// script does not run).
(function () {
  var form = document.querySelector("form[data-auto-submit]");
  if (!form) return;
  var button = form.querySelector("button");
  window.setTimeout(function () {
    if (button) button.disabled = true;
    form.submit();
  }, 300);
})();
