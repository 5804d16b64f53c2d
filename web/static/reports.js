// Activity report page: upload progress for the photo/video form, and processing progress
// until every file is done (then the page reloads to show the images).
(function () {
  "use strict";
  // The form shown again with its errors answers a POST: make its history entry a plain
  // page, so the back button and a reload never ask to send the form again.
  if (document.querySelector("form.report-form [data-error-for]") && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.href);
  }
  var upload = document.querySelector("form.report-upload");
  if (upload && window.FormData && window.XMLHttpRequest) {
    upload.addEventListener("submit", function (event) {
      var input = upload.querySelector("input[type=file]");
      if (!input.files.length) { return; } // the server says what is missing
      event.preventDefault();
      var bar = upload.querySelector(".upload-progress");
      var button = upload.querySelector("button[type=submit]");
      bar.hidden = false;
      button.disabled = true;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", upload.action);
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) { bar.value = Math.round(e.loaded * 100 / e.total); }
      };
      xhr.onload = function () {
        // The answer is the report page after the redirect, with its messages: show it as is
        // (loading it again would lose them).
        if (xhr.responseURL) { window.history.replaceState(null, "", xhr.responseURL); }
        document.open();
        document.write(xhr.responseText);
        document.close();
      };
      xhr.onerror = function () { button.disabled = false; bar.hidden = true; upload.submit(); };
      xhr.send(new FormData(upload));
    });
  }
  var files = document.querySelector("form.report-files[data-status-url]");
  if (!files || !document.querySelector(".report-file progress")) { return; }
  function poll() {
    fetch(files.getAttribute("data-status-url"), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.done) { window.location.reload(); return; }
        data.files.forEach(function (f) {
          var bar = files.querySelector('[data-file="' + f.id + '"] progress');
          if (bar) { bar.value = f.percent; }
        });
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1500);
})();
