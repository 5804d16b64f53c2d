// Rows of a form (the rubric, the award tiers): add, remove, move up and down.
// <div data-rows="NAME"> holds the rows ([data-row]); <template data-row-template="NAME">
// is an empty one whose fields are named NAME-__i__-field. After every change the rows'
// fields are renumbered NAME-0-…, NAME-1-… in the order shown, which is the order the
// server reads them in. Without this script the page still works: its blank rows add,
// and a row emptied is ignored.
(function () {
  "use strict";

  function renumber(list) {
    var name = list.dataset.rows;
    var pattern = new RegExp("^" + name + "-(\\d+|__i__)-");
    var rows = list.querySelectorAll(":scope > [data-row]");
    rows.forEach(function (row, index) {
      var prefix = name + "-" + index + "-";
      row.querySelectorAll("[name], [id], [for], [data-error-for]").forEach(function (el) {
        ["name", "id", "for", "data-error-for"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value && pattern.test(value)) {
            el.setAttribute(attr, value.replace(pattern, prefix));
          }
        });
      });
      var number = row.querySelector("[data-row-number]");
      if (number) {
        number.textContent = String(index + 1);
      }
      var up = row.querySelector("[data-row-action=up]");
      var down = row.querySelector("[data-row-action=down]");
      if (up) { up.disabled = index === 0; }
      if (down) { down.disabled = index === rows.length - 1; }
    });
  }

  function showButtons(root) {
    root.querySelectorAll("[data-row-actions], [data-add-row]").forEach(function (el) {
      el.hidden = false;
    });
  }

  function addRow(name) {
    var list = document.querySelector('[data-rows="' + name + '"]');
    var template = document.querySelector('[data-row-template="' + name + '"]');
    if (!list || !template) { return; }
    var row = template.content.firstElementChild.cloneNode(true);
    showButtons(row);
    list.appendChild(row);
    renumber(list);
    var first = row.querySelector("input, select");
    if (first) { first.focus(); }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-row-action], [data-add-row]");
    if (!button) { return; }
    if (button.dataset.addRow) {
      addRow(button.dataset.addRow);
      return;
    }
    var row = button.closest("[data-row]");
    var list = row && row.parentElement;
    if (!list || !list.dataset.rows) { return; }
    var action = button.dataset.rowAction;
    if (action === "up" && row.previousElementSibling) {
      list.insertBefore(row, row.previousElementSibling);
    } else if (action === "down" && row.nextElementSibling) {
      list.insertBefore(row.nextElementSibling, row);
    } else if (action === "remove") {
      var next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      renumber(list);
      var focus = next ? next.querySelector("input, select") : null;
      if (focus) { focus.focus(); }
      return;
    }
    renumber(list);
    // Keep the pressed button under the finger (it moved with its row), unless it is now off.
    if (!button.disabled) { button.focus(); }
  });

  document.querySelectorAll("[data-rows]").forEach(function (list) {
    showButtons(list);
    renumber(list);
  });
  document.querySelectorAll("[data-add-row]").forEach(function (el) { el.hidden = false; });
  document.querySelectorAll("[data-no-script]").forEach(function (el) { el.hidden = true; });

  // A form sent back with its problems (<form data-posted>) becomes a plain visit of its
  // address in the history: the back button after saving then fetches the page afresh (it
  // is never cached) and shows what is saved, instead of offering to send the old form again.
  if (document.querySelector("form[data-posted]") && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.href);
  }
})();
