// Entry form: create the entry first, then upload the video with a progress bar.
// Without JavaScript the form posts everything in one request and still works.
(function () {
  "use strict";
  var form = document.getElementById("entry-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  var fileInput = form.querySelector('input[type="file"]');
  var box = document.getElementById("upload-status");
  var bar = document.getElementById("upload-bar");
  var text = document.getElementById("upload-text");
  var button = document.getElementById("submit-button");
  var maxBytes = Number(form.dataset.maxBytes);

  function showErrors(errors) {
    form.querySelectorAll("[data-error-for]").forEach(function (el) {
      var message = errors[el.dataset.errorFor];
      el.textContent = message || "";
      el.hidden = !message;
      el.closest(".field").classList.toggle("has-error", !!message);
    });
  }

  function mb(bytes) { return (bytes / 1048576).toFixed(1) + " MB"; }

  function upload(url, file, done) {
    var xhr = new XMLHttpRequest();
    var started = Date.now();
    xhr.open("PUT", url);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (e) {
      if (!e.lengthComputable) return;
      var seconds = (Date.now() - started) / 1000;
      var speed = seconds > 0 ? e.loaded / seconds : 0;
      var left = speed > 0 ? Math.round((e.total - e.loaded) / speed) : 0;
      bar.value = Math.round((e.loaded / e.total) * 100);
      text.textContent = "已上传 " + mb(e.loaded) + " / " + mb(e.total) + "，" +
        mb(speed) + "/秒，约剩 " + left + " 秒";
    };
    xhr.onload = function () {
      if (xhr.status === 202) return done(null);
      var message = "上传失败（" + xhr.status + "）";
      try { message = JSON.parse(xhr.responseText).error || message; } catch (err) { /* keep */ }
      done(message);
    };
    xhr.onerror = function () { done("网络中断，视频未上传完成。作品已保存，请在作品页面重新上传。"); };
    xhr.send(file);
  }

  form.addEventListener("submit", function (event) {
    var file = fileInput && fileInput.files[0];
    if (file && file.size > maxBytes) {
      event.preventDefault();
      showErrors({ video: "文件过大：上限为 " + mb(maxBytes) });
      return;
    }
    event.preventDefault();
    var data = new FormData(form);
    data.delete(fileInput.name);
    button.disabled = true;
    fetch(form.action || window.location.href, {
      method: "POST", body: data, headers: { Accept: "application/json" }, credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (!result.ok) {
        showErrors(result.body.errors || {});
        text.textContent = result.body.error || "提交失败";
        bar.hidden = true;
        box.hidden = false;
        button.disabled = false;
        return;
      }
      if (!file) { window.location = result.body.entry_url; return; }
      bar.hidden = false;
      box.hidden = false;
      upload(result.body.upload_url, file, function (error) {
        if (error) {
          text.textContent = error;
          setTimeout(function () { window.location = result.body.entry_url; }, 4000);
          return;
        }
        window.location = result.body.entry_url;
      });
    }).catch(function () {
      text.textContent = "网络错误，请检查网络后重试";
      bar.hidden = true;
      box.hidden = false;
      button.disabled = false;
    });
  });
})();
