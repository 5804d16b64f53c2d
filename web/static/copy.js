// <button data-copy="ID" data-copied="已复制"> copies the value of the field with that id
// (an activation link) and says so on the button. Inline handlers are forbidden by the CSP.
(function () {
  "use strict";
  function copied(button) {
    button.dataset.label = button.dataset.label || button.textContent;
    button.textContent = button.dataset.copied || "✓";
    window.setTimeout(function () { button.textContent = button.dataset.label; }, 4000);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    var field = button && document.getElementById(button.dataset.copy);
    if (!field) return;
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { copied(button); });
    } else if (document.execCommand("copy")) {
      // Plain http on an office network is not a secure context: the old way still works.
      copied(button);
    }
  });
})();
