// Storyboard scrubbing: a slider under the video shows the thumbnail of the moment it points
// at (from the storyboard's WebVTT sprite cues) and seeks there on release.
(function () {
  "use strict";

  function seconds(stamp) {
    var parts = stamp.split(":").map(Number);
    return parts.reduce(function (total, part) { return total * 60 + part; }, 0);
  }

  function parse(text) {
    var cues = [];
    text.split(/\r?\n\r?\n/).forEach(function (block) {
      var lines = block.trim().split(/\r?\n/);
      var timing = lines[0] && lines[0].match(/([\d:.]+)\s*-->\s*([\d:.]+)/);
      var target = lines[1] && lines[1].match(/^(.*)#xywh=(\d+),(\d+),(\d+),(\d+)$/);
      if (timing && target) {
        cues.push({ start: seconds(timing[1]), end: seconds(timing[2]), url: target[1],
                    x: +target[2], y: +target[3], w: +target[4], h: +target[5] });
      }
    });
    return cues;
  }

  function attach(player) {
    var video = player.querySelector("video");
    var url = player.dataset.storyboardUrl;
    // Once per video element, marked before the fetch: the observer below fires again while
    // it is under way, and each call used to add a slider of its own.
    if (!video || !url || player.scrubbing === video) return;
    player.scrubbing = video;
    fetch(url, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.text() : "";
    }).then(function (text) {
      var cues = parse(text);
      if (!cues.length) return;
      var duration = cues[cues.length - 1].end;
      var box = document.createElement("div");
      box.className = "scrub";
      var preview = document.createElement("div");
      preview.className = "scrub-preview";
      preview.hidden = true;
      var label = document.createElement("span");
      var slider = document.createElement("input");
      slider.type = "range";
      slider.min = 0;
      slider.max = duration;
      slider.step = 0.1;
      slider.value = 0;
      slider.setAttribute("aria-label", fpText("scrub"));
      box.append(preview, slider);
      preview.append(label);
      // At most one slider per player, whatever happened to the player meanwhile (a video
      // replaced in place, a page that runs this script twice): the newest one stays.
      player.querySelectorAll(":scope > .scrub").forEach(function (old) { old.remove(); });
      player.append(box);

      function show() {
        var t = Number(slider.value);
        var cue = cues.find(function (c) { return t >= c.start && t < c.end; }) || cues[cues.length - 1];
        preview.style.width = cue.w + "px";
        preview.style.height = cue.h + "px";
        preview.style.backgroundImage = "url('" + cue.url + "')";
        preview.style.backgroundPosition = -cue.x + "px " + -cue.y + "px";
        preview.style.left = "calc(" + (t / duration) * 100 + "% - " + cue.w / 2 + "px)";
        label.textContent = Math.floor(t / 60) + ":" + String(Math.floor(t % 60)).padStart(2, "0");
        preview.hidden = false;
      }
      slider.addEventListener("input", show);
      slider.addEventListener("change", function () {
        video.currentTime = Number(slider.value);
        preview.hidden = true;
      });
      video.addEventListener("timeupdate", function () {
        if (preview.hidden) slider.value = video.currentTime;
      });
    });
  }

  document.querySelectorAll("[data-storyboard-url]").forEach(attach);
  // The entry page adds its player once processing ends.
  new MutationObserver(function () {
    document.querySelectorAll("[data-storyboard-url]").forEach(attach);
  }).observe(document.body, { childList: true, subtree: true });
})();
