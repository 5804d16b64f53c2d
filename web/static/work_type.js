// The entry form: the video field belongs to 微视频 entries only; choosing another work type
// hides it (and drops a file already chosen there). Without JavaScript the server refuses a
// video sent with a photo, comic or story entry, with its reason.
(function () {
  "use strict";
  var select = document.querySelector("select[name=work_type]");
  var video = document.querySelector("[data-video-only]");
  if (!select || !video) return;
  function sync() {
    var hide = select.value !== "" && select.value !== "video";
    video.hidden = hide;
    var input = video.querySelector("input[type=file]");
    if (hide && input) input.value = "";
  }
  select.addEventListener("change", sync);
  sync();
})();
