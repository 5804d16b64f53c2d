// The organizers' review queue (web/templates/admin/_queue.html): select the page's entries
// at once for bulk approval, play a video as soon as its player opens (and stop it when it
// closes), keep unused filters out of the URL, and fold the filters on a phone unless one is
// in use. The page works without this script: the select-all box stays hidden and the
// player's own controls start the video.
(function () {
  "use strict";
  var all = document.querySelector("[data-select-all]");
  if (all) {
    var form = all.getAttribute("data-select-all");
    var boxes = document.querySelectorAll('input[type=checkbox][name=ids][form="' + form + '"]');
    if (boxes.length) all.closest("label").hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
  }
  // "toggle" does not bubble; listening while it is captured catches every player's.
  document.addEventListener("toggle", function (event) {
    var player = event.target;
    if (!player.classList || !player.classList.contains("queue-player")) return;
    var video = player.querySelector("video");
    if (player.open) {
      var playing = video.play();
      if (playing && playing.catch) playing.catch(function () {});
    } else {
      video.pause();
    }
  }, true);
  // Filters left at 全部 stay out of the URL, so links and bookmarks read as what was chosen.
  var bar = document.querySelector("form.queue-filters");
  if (bar) {
    bar.addEventListener("submit", function () {
      bar.querySelectorAll("input, select").forEach(function (field) {
        if (field.name && !field.value) field.disabled = true;
      });
    });
    // Coming back with the back button shows the form as it was left: usable again.
    window.addEventListener("pageshow", function () {
      bar.querySelectorAll("[disabled]").forEach(function (field) { field.disabled = false; });
    });
  }
  var filters = document.querySelector("details.more-filters");
  if (filters && !filters.hasAttribute("data-active") &&
      window.matchMedia("(max-width: 540px)").matches) {
    filters.open = false;
  }
})();
