// Photo, comic and story entries: upload the chosen files one by one with a progress bar,
// count a story's characters as they are typed, and show pieces as they become ready.
// Without JavaScript the form posts every file in one request and the page still works.
(function () {
  "use strict";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return k in values ? values[k] : ""; });
  }

  // Uploads: the form's files in one request, its progress shown; the server takes each file
  // on its own (one refused file stops nothing), and the reloaded page says what happened.
  var form = document.getElementById("pieces-form");
  if (form) {
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      if (!input.files || !input.files.length || !window.FormData) return; // the server says
      event.preventDefault();
      var box = form.querySelector(".upload"), bar = box.querySelector("progress"), text = box.querySelector("span");
      var button = form.querySelector("button"), xhr = new XMLHttpRequest();
      var names = Array.prototype.map.call(input.files, function (f) { return f.name; }).join("、");
      box.hidden = false;
      button.disabled = true;
      text.textContent = fill(form.dataset.uploadingText, { n: input.files.length, name: names });
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) bar.value = Math.floor((e.loaded / e.total) * 100);
      };
      xhr.onload = function () { window.location.reload(); };
      xhr.onerror = function () {
        text.textContent = form.dataset.failedText;
        button.disabled = false;
      };
      xhr.send(new FormData(form));
    });
  }

  // A story's count: characters other than white space, as the server counts them.
  var body = document.getElementById("story_body");
  var counter = document.getElementById("story-count");
  if (body && counter) {
    var limit = Number(body.dataset.limit);
    var count = function () {
      var n = Array.from(body.value.replace(/\s/g, "")).length;
      counter.textContent = fill(body.dataset.countText, { n: n, limit: limit }) +
        (n > limit ? "，" + fill(body.dataset.overText, { over: n - limit }) : "");
      counter.classList.toggle("over", n > limit);
    };
    body.addEventListener("input", count);
    count();
    // Too long: said here before sending (the server checks again, for pages without JS).
    body.form.addEventListener("submit", function (event) {
      if (Array.from(body.value.replace(/\s/g, "")).length <= limit) return;
      event.preventDefault();
      counter.scrollIntoView({ block: "center" });
      body.focus({ preventScroll: true });
    });
  }
  // A refused text came back as the answer to a POST: the history entry becomes the entry
  // page, so going back later opens it instead of asking to send the form again.
  var refused = document.querySelector("[data-refused-url]");
  if (refused && window.history.replaceState) {
    window.history.replaceState(null, "", refused.dataset.refusedUrl);
  }

  // While pieces are processing, the list is fetched again and swapped in, unless a caption
  // is being typed (nothing typed is thrown away).
  var list = document.getElementById("piece-list");
  if (!list || !list.querySelector("[data-state=processing]")) return;
  var refresh = function () {
    var typing = document.activeElement && list.contains(document.activeElement) &&
      document.activeElement.name === "caption";
    if (typing) { setTimeout(refresh, 3000); return; }
    fetch(window.location.pathname, { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("piece-list");
        if (fresh && !fresh.querySelector("[data-state=processing]")) {
          window.location.reload(); // all done: the preview and the status are drawn afresh
          return;
        }
        if (fresh) { list.replaceWith(fresh); list = fresh; }
        setTimeout(refresh, 2500);
      })
      .catch(function () { setTimeout(refresh, 5000); });
  };
  setTimeout(refresh, 2500);
})();
