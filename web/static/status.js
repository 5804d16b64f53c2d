// Entry page: poll the entry's status while its video is being processed.
(function () {
  "use strict";
  var box = document.getElementById("status");
  if (!box) return;
  var url = box.dataset.statusUrl;
  var waiting = { submitted: true, processing: true };
  if (!waiting[box.dataset.status]) return;

  function minutes(seconds) {
    if (seconds == null) return "";
    return "，" + (seconds >= 60 ? fpText("minutes_left", { n: Math.ceil(seconds / 60) }) : fpText("seconds_left", { n: seconds }));
  }

  // A presigned URL's path names the file; its signature changes with every answer.
  function fileOf(url) { return (url || "").split("?")[0]; }

  function swapPlayer(player, media) {
    var video = document.createElement("video");
    video.controls = true;
    video.playsInline = true;
    video.preload = "metadata";
    video.src = media.rendition_url;
    if (media.poster_url) video.poster = media.poster_url;
    player.replaceChildren(video);
    if (media.storyboard_vtt_url) player.dataset.storyboardUrl = media.storyboard_vtt_url;
    player.hidden = false;
    var offer = document.getElementById("switch-video");
    if (offer) offer.remove();
  }

  // The player is touched only for a new video, and never under someone watching: while a
  // replacement processes, the old video stays playable where it is; once the new one is
  // ready, a playing viewer is offered the switch instead.
  function showMedia(media) {
    var player = document.getElementById("player");
    var current = player.querySelector("video");
    if (current && fileOf(current.getAttribute("src")) === fileOf(media.rendition_url)) return;
    if (!current || current.paused || current.ended) { swapPlayer(player, media); return; }
    var offer = document.getElementById("switch-video");
    if (!offer) {
      offer = document.createElement("button");
      offer.type = "button";
      offer.id = "switch-video";
      offer.className = "button secondary";
      offer.textContent = player.dataset.switchText;
      player.after(offer);
    }
    offer.onclick = function () { swapPlayer(player, media); };
  }

  function render(data) {
    document.getElementById("status-label").textContent = data.status_label;
    var job = data.job;
    var progress = document.getElementById("progress");
    var reason = document.getElementById("reason");
    if (job) {
      progress.hidden = !(job.state === "queued" || job.state === "running");
      document.getElementById("progress-bar").value = job.percent;
      document.getElementById("progress-text").textContent =
        job.state_label + " " + job.percent + "%" + minutes(job.eta_seconds);
      reason.textContent = job.reason;
      reason.hidden = !job.reason;
    }
    if (data.media) showMedia(data.media);
    var quality = document.getElementById("quality");
    if (quality && data.qc && data.qc.length) {
      var list = document.createElement("ul");
      list.className = "findings";
      data.qc.forEach(function (finding) {
        var item = document.createElement("li");
        item.dataset.kind = finding.kind;
        item.textContent = finding.message;
        list.appendChild(item);
      });
      quality.querySelector("ul.findings").replaceWith(list);
      quality.hidden = false;
    }
    return waiting[data.status];
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) { if (render(data)) setTimeout(poll, 2000); })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
