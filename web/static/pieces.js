// Photo, comic and story entries: upload the chosen files one by one with a progress bar,
// count a story's characters as they are typed, and show pieces as they become ready.
// Without JavaScript the form posts every file in one request and the page still works.
(function () {
  "use strict";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return k in values ? values[k] : ""; });
  }

  // Uploads: one request per file, so the bar moves and one refused file stops nothing.
  var form = document.getElementById("pieces-form");
  if (form) {
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      var files = Array.prototype.slice.call(input.files || []);
      if (!files.length || !window.FormData) return; // the server says what is missing
      event.preventDefault();
      var box = form.querySelector(".upload"), bar = box.querySelector("progress"), text = box.querySelector("span");
      var token = form.querySelector("input[name=csrf_token]").value;
      var total = files.reduce(function (sum, f) { return sum + f.size; }, 0) || 1, done = 0;
      box.hidden = false;
      form.querySelector("button").disabled = true;
      var send = function (i) {
        if (i >= files.length) { window.location.reload(); return; }
        var file = files[i], data = new FormData(), xhr = new XMLHttpRequest();
        data.append("csrf_token", token);
        data.append("files", file, file.name);
        text.textContent = fill(form.dataset.uploadingText, { i: i + 1, n: files.length, name: file.name });
        xhr.open("POST", form.action);
        xhr.setRequestHeader("Accept", "application/json");
        xhr.upload.onprogress = function (e) { bar.value = Math.floor(((done + e.loaded) / total) * 100); };
        xhr.onload = function () { done += file.size; send(i + 1); }; // refusals show after reload
        xhr.onerror = function () {
          text.textContent = form.dataset.failedText;
          form.querySelector("button").disabled = false;
        };
        xhr.send(data);
      };
      send(0);
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
        if (fresh) { list.replaceWith(fresh); list = fresh; }
        if (list.querySelector("[data-state=processing]")) setTimeout(refresh, 2500);
      })
      .catch(function () { setTimeout(refresh, 5000); });
  };
  setTimeout(refresh, 2500);
})();
