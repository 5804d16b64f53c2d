// The settings page's rubric per work type: a type's rows are shown only while its
// "own rubric" box is ticked (unticked, the type uses the shared rubric and its rows are
// ignored). Without this script every type's rows stay visible and the box still decides.
(function () {
  "use strict";

  function sync(box) {
    var section = box.closest("[data-type-rubric]");
    var rows = section && section.querySelector("[data-own-rows]");
    if (rows) { rows.hidden = !box.checked; }
  }

  document.querySelectorAll("[data-own-rubric]").forEach(function (box) {
    sync(box);
    box.addEventListener("change", function () { sync(box); });
  });
})();
