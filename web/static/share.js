// The gallery entry's 复制链接: the clipboard where the browser allows it, else the address
// is selected for the reader to copy (chat apps' browsers often refuse the clipboard).
(function () {
  var button = document.querySelector("[data-copy-link]");
  var field = document.querySelector("[data-share-address]");
  var done = document.querySelector("[data-copied]");
  if (!button || !field) return;
  function copied() { if (done) done.hidden = false; }
  function selectIt() {
    field.focus();
    field.select();
    try { if (document.execCommand("copy")) copied(); } catch (e) { /* left selected */ }
  }
  button.addEventListener("click", function () {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(copied, selectIt);
    } else {
      selectIt();
    }
  });
})();
