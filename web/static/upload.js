// Resumable video upload (tus 1.0) with a progress bar, speed and time left.
// A dropped chunk is retried; a reload or a new tab resumes where the upload stopped: the
// browser remembers the upload's URL, and the entry page names the server's unfinished
// upload, so the same file chosen again goes on from the server's offset.
// A chosen file is checked (size, and duration where the browser can read it) before a
// byte is sent, with the worker's own sentences. Leaving the page mid-upload asks first.
// Without JavaScript the forms post the file in one request and still work.
(function () {
  "use strict";
  var RETRY_DELAYS = [1000, 2000, 4000, 8000, 15000, 30000];
  var TUS = { "Tus-Resumable": "1.0.0" };

  function mb(bytes) { return (bytes / 1048576).toFixed(1) + " MB"; }

  function timeLeft(seconds) {
    if (!isFinite(seconds)) return "";
    return seconds >= 60 ? fpText("minutes_left", { n: Math.ceil(seconds / 60) }) : fpText("seconds_left", { n: Math.ceil(seconds) });
  }

  function request(method, url, headers, body, onProgress) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      Object.keys(headers).forEach(function (k) { xhr.setRequestHeader(k, headers[k]); });
      if (onProgress) xhr.upload.onprogress = function (e) { onProgress(e.loaded); };
      xhr.onload = function () { resolve(xhr); };
      xhr.onerror = xhr.ontimeout = xhr.onabort = function () { resolve(null); };
      xhr.send(body || null);
    });
  }

  function errorOf(xhr, fallback) {
    try { return JSON.parse(xhr.responseText).error || fallback; } catch (e) { return fallback; }
  }

  function checksum(blob) {
    // WebCrypto exists only on HTTPS pages and localhost; elsewhere the length check remains.
    if (!(window.crypto && window.crypto.subtle && blob.arrayBuffer)) return Promise.resolve(null);
    return blob.arrayBuffer().then(function (buf) { return window.crypto.subtle.digest("SHA-256", buf); })
      .then(function (digest) {
        var bytes = new Uint8Array(digest), text = "";
        for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
        return "sha256 " + btoa(text);
      });
  }

  function wait(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  // Leaving (reload, back, closing the tab) while bytes are on their way asks first.
  var running = 0;
  window.addEventListener("beforeunload", function (event) {
    if (!running) return;
    event.preventDefault();
    event.returnValue = "";
  });

  // The server's unfinished upload for this form (the entry page names it), if `file` is
  // the same file: same name and size.
  function serverUpload(form, file) {
    var d = form.dataset;
    return d.resumeUrl && d.resumeName === file.name && Number(d.resumeLength) === file.size ? d.resumeUrl : null;
  }

  // Upload `file` to the tus creation URL; `ui` has bar, text; resolves to the entry URL.
  // `known` is an upload URL the server holds for this file, tried when the browser has none.
  function upload(file, createUrl, ui, known) {
    var key = "fp-upload:" + createUrl + ":" + file.name + ":" + file.size + ":" + file.lastModified;
    var url = null, offset = 0, chunk = 8 * 1048576, started = Date.now(), startOffset = 0;

    function show(done) {
      var seconds = (Date.now() - started) / 1000;
      var speed = seconds > 0.5 ? (done - startOffset) / seconds : 0;
      ui.bar.value = Math.floor((done / file.size) * 100);
      ui.text.textContent = fpText("uploaded", { done: mb(done), total: mb(file.size) }) +
        (speed > 0 ? fpText("speed", { speed: mb(speed), left: timeLeft((file.size - done) / speed) }) : "");
    }

    function locate() {
      var saved = (window.localStorage && localStorage.getItem(key)) || known;
      if (!saved) return create();
      return request("HEAD", saved, TUS).then(function (xhr) {
        if (xhr && xhr.status === 200) {
          url = saved;
          offset = startOffset = Number(xhr.getResponseHeader("Upload-Offset"));
          chunk = Number(xhr.getResponseHeader("Footprints-Chunk-Size")) || chunk;
          ui.text.textContent = fpText("resuming", { done: mb(offset) });
          return;
        }
        if (window.localStorage) localStorage.removeItem(key);
        return create();
      });
    }

    function create() {
      var name = btoa(unescape(encodeURIComponent(file.name)));
      var headers = Object.assign({ "Upload-Length": String(file.size), "Upload-Metadata": "filename " + name }, TUS);
      return request("POST", createUrl, headers).then(function (xhr) {
        if (!xhr) throw new Error(fpText("network_error"));
        if (xhr.status !== 201) throw new Error(errorOf(xhr, fpText("cannot_start", { status: xhr.status })));
        url = xhr.getResponseHeader("Location");
        chunk = Number(xhr.getResponseHeader("Footprints-Chunk-Size")) || chunk;
        if (window.localStorage) localStorage.setItem(key, url);
      });
    }

    function sendFrom(attempt) {
      // At the end with no answer yet (joining the parts failed before): an empty PATCH
      // asks the server to finish.
      var blob = offset >= file.size ? new Blob([]) : file.slice(offset, Math.min(offset + chunk, file.size));
      return checksum(blob).then(function (sum) {
        var headers = Object.assign({ "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" }, TUS);
        if (sum) headers["Upload-Checksum"] = sum;
        return request("PATCH", url, headers, blob, function (loaded) { show(offset + loaded); });
      }).then(function (xhr) {
        if (xhr && xhr.status === 204) {
          offset = Number(xhr.getResponseHeader("Upload-Offset"));
          show(offset);
          var entry = xhr.getResponseHeader("Footprints-Entry");
          if (entry) return entry;
          return offset >= file.size ? null : sendFrom(0);
        }
        // A 409 without an offset is final (the deadline passed, the entry was withdrawn).
        var refused = xhr && xhr.status === 409 && !xhr.getResponseHeader("Upload-Offset");
        if (xhr && (refused || [404, 413, 415].indexOf(xhr.status) >= 0)) {
          if (window.localStorage) localStorage.removeItem(key);
          throw new Error(errorOf(xhr, fpText("upload_failed")));
        }
        if (attempt >= RETRY_DELAYS.length) {
          throw new Error(fpText("paused"));
        }
        ui.text.textContent = fpText("retrying", { s: RETRY_DELAYS[attempt] / 1000 });
        return wait(RETRY_DELAYS[attempt]).then(function () {
          // Ask the server where it stands: the chunk may or may not have arrived.
          return request("HEAD", url, TUS);
        }).then(function (head) {
          if (head && head.status === 200) offset = Number(head.getResponseHeader("Upload-Offset"));
          return sendFrom(attempt + 1);
        });
      });
    }

    running += 1;
    return locate().then(function () { return sendFrom(0); }).then(function (entryUrl) {
      running -= 1;
      if (window.localStorage) localStorage.removeItem(key);
      return entryUrl;
    }, function (error) {
      running -= 1;
      throw error;
    });
  }

  // Messages next to the fields, the summary at the top, the first error scrolled to and
  // focused: forms.js shows them the same way for every form.
  function showErrors(form, errors, summary) { window.fpForm.show(form, errors, summary); }

  function uiOf(form) {
    return { box: form.querySelector(".upload"), bar: form.querySelector("progress"),
             text: form.querySelector(".upload span"), button: form.querySelector("button.button") };
  }

  function fail(ui, message) {
    ui.text.textContent = message;
    ui.box.hidden = false;
    ui.button.disabled = false;
  }

  // As worker/media/probe.format_duration_zh writes a duration: 12分30秒, 10分钟, 45秒.
  function durationZh(seconds) {
    var total = Math.round(seconds), minutes = Math.floor(total / 60), secs = total % 60;
    if (minutes && secs) return minutes + "分" + secs + "秒";
    return minutes ? minutes + "分钟" : secs + "秒";
  }

  // The chosen file's duration from its metadata, or null where this browser cannot read it
  // (HEVC on desktop chromium, say): the worker then decides.
  function durationOf(file) {
    if (!window.URL || !URL.createObjectURL) return Promise.resolve(null);
    return new Promise(function (resolve) {
      var video = document.createElement("video"), url = URL.createObjectURL(file);
      var timer = setTimeout(function () { done(null); }, 5000);
      function done(value) {
        clearTimeout(timer);
        video.onloadedmetadata = video.onerror = null;
        video.removeAttribute("src");
        URL.revokeObjectURL(url);
        resolve(value);
      }
      video.preload = "metadata";
      video.muted = true;
      video.onloadedmetadata = function () { done(isFinite(video.duration) ? video.duration : null); };
      video.onerror = function () { done(null); };
      video.src = url;
    });
  }

  // Why the worker would refuse `file` (its own sentence, from the form's data), or null.
  function refusal(form, file) {
    var d = form.dataset;
    if (!file) return Promise.resolve(null);
    if (Number(d.maxBytes) && file.size > Number(d.maxBytes)) {
      return Promise.resolve(d.tooLarge.replace("{size}", (file.size / 1048576).toFixed(0)));
    }
    return durationOf(file).then(function (seconds) {
      var long = seconds !== null && Number(d.maxSeconds) && seconds > Number(d.maxSeconds);
      return long ? d.tooLong.replace("{duration}", durationZh(seconds)) : null;
    });
  }

  // Check a file as soon as it is chosen; `show` gets the sentence, or "" for a good file.
  function checkOnChoice(form, show) {
    var input = form.querySelector('input[type="file"]');
    if (!input) return;
    input.addEventListener("change", function () {
      var file = input.files[0];
      refusal(form, file).then(function (reason) {
        if (input.files[0] === file) show(reason || "");  // not a file chosen since
      });
    });
  }

  // The video field's own message, leaving the other fields' as they are.
  function showVideoError(form, message) {
    var el = form.querySelector('[data-error-for="video"]');
    if (!el) return;
    el.textContent = message;
    el.hidden = !message;
    var field = el.closest(".field");
    if (field) field.classList.toggle("has-error", !!message);
  }

  // The new-entry form: create the entry, then upload its video.
  var entryForm = document.getElementById("entry-form");
  if (entryForm && window.FormData && window.Promise) {
    entryForm.addEventListener("submit", function (event) {
      var input = entryForm.querySelector('input[type="file"]');
      var file = input && input.files[0];
      var ui = uiOf(entryForm);
      event.preventDefault();
      window.fpForm.clear(entryForm);  // the last attempt's messages go before this one runs
      ui.box.hidden = true;
      ui.button.disabled = true;
      refusal(entryForm, file).then(function (reason) {
        if (reason) {
          showErrors(entryForm, { video: reason });
          ui.button.disabled = false;
          return;
        }
        send(file, input, ui);
      });
    });
    checkOnChoice(entryForm, function (reason) { showVideoError(entryForm, reason); });
  }

  // Save the entry from the form (without its file), then upload the file to it.
  function send(file, input, ui) {
    var data = new FormData(entryForm);
    data.delete(input.name);
    fetch(entryForm.action || window.location.href, {
      method: "POST", body: data, headers: { Accept: "application/json" }, credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (!result.ok) {
        showErrors(entryForm, result.body.errors || {}, result.body.error || fpText("submit_failed"));
        ui.bar.hidden = true;
        fail(ui, result.body.error || fpText("submit_failed"));
        return;
      }
      if (!file) { window.location = result.body.entry_url; return; }
      ui.bar.hidden = false;
      ui.box.hidden = false;
      return upload(file, result.body.upload_url, ui).then(function (entryUrl) {
        window.location = entryUrl || result.body.entry_url;
      }, function (error) {
        ui.text.textContent = error.message + " " + fpText("entry_saved");
        setTimeout(function () { window.location = result.body.entry_url; }, 5000);
      });
    }).catch(function () {
      ui.bar.hidden = true;
      fail(ui, fpText("network_error"));
    });
  }

  // The entry page: upload or replace the video.
  var videoForm = document.getElementById("video-form");
  if (videoForm && window.Promise) {
    videoForm.addEventListener("submit", function (event) {
      var file = videoForm.querySelector('input[type="file"]').files[0];
      var ui = uiOf(videoForm);
      if (!file) return;
      event.preventDefault();
      ui.button.disabled = true;
      refusal(videoForm, file).then(function (reason) {
        if (reason) { ui.bar.hidden = true; fail(ui, reason); return; }
        ui.bar.hidden = false;
        ui.box.hidden = false;
        return upload(file, videoForm.dataset.uploadUrl, ui, serverUpload(videoForm, file)).then(function () {
          window.location.reload();
        }, function (error) { fail(ui, error.message); });
      });
    });
    checkOnChoice(videoForm, function (reason) {
      var ui = uiOf(videoForm);
      ui.text.textContent = reason;
      ui.bar.hidden = !!reason;
      ui.box.hidden = !reason;
    });
  }
})();
