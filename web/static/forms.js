// Behaviour that would otherwise be inline handlers, which the content security policy forbids:
// <form data-confirm="..."> asks before submitting; <select data-autosubmit> submits on change.
// Errors next to fields (_field.html's [data-error-for] slots) are shown and cleared here, for
// the server-rendered forms and for the scripts that post forms themselves (upload.js).
(function () {
  "use strict";

  // The first field in error gets the focus, scrolled to the middle of the screen: on a phone
  // the user sees what to fix, not the button they pressed.
  function focusFirstError(form) {
    var field = form.querySelector(".field.has-error");
    var summary = form.querySelector(".form-summary:not([hidden])");
    var target = field || summary;
    if (!target) return;
    target.scrollIntoView({ block: "center" });
    var control = field && field.querySelector("input:not([type=hidden]), select, textarea");
    if (control) control.focus({ preventScroll: true });
  }

  // Old messages and red borders go before a new attempt, so nothing stale shows while it runs.
  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach(function (el) {
      el.textContent = "";
      el.hidden = true;
    });
    form.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    form.querySelectorAll(".form-summary").forEach(function (el) { el.textContent = ""; el.hidden = true; });
  }

  // `errors` maps field names to messages; `summary` shows at the top of the form.
  function showErrors(form, errors, summary) {
    clearErrors(form);
    form.querySelectorAll("[data-error-for]").forEach(function (el) {
      var message = errors[el.dataset.errorFor];
      if (!message) return;
      el.textContent = message;
      el.hidden = false;
      var field = el.closest(".field");
      if (field) field.classList.add("has-error");
    });
    var box = form.querySelector(".form-summary");
    if (box && summary) { box.textContent = summary; box.hidden = false; }
    focusFirstError(form);
  }

  window.fpForm = { clear: clearErrors, show: showErrors };

  // A form the server sent back with errors: straight to the first of them (forms that ask
  // for it with data-focus-errors; elsewhere a page keeps its own scroll position).
  var refused = document.querySelector("form[data-focus-errors] .field.has-error");
  if (refused) focusFirstError(refused.closest("form"));

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
    // A plain post (no script took it over): the page is about to be replaced, and until then
    // the messages about the last attempt no longer apply.
    if (!event.defaultPrevented && form.querySelector) clearErrors(form);
  });
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.hasAttribute && field.hasAttribute("data-autosubmit") && field.form) {
      field.form.submit();
    }
  });
})();
