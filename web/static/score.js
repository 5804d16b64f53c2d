// The judge's score form: saves in the background so the video keeps playing where it is,
// shows a running total while the judge types, and warns before leaving unsaved changes.
// Without this script the form posts as a plain form and the page reloads.
(function () {
  "use strict";

  var rubricNode = document.getElementById("score-rubric");
  if (!rubricNode || !window.fetch) return;
  var rubric = JSON.parse(rubricNode.textContent);
  var dirty = false;
  var busy = false;

  function sheet() { return document.getElementById("sheet"); }

  function shown(number) {
    return String(Math.round(number * 100) / 100);
  }

  // The same formula as judging/rubric.py Rubric.total: weighted, on the scale of the
  // maximum points. Over the criteria typed so far; the server's total stays the truth.
  function updateTotal() {
    var form = sheet() && sheet().querySelector("form.sheet");
    var out = document.getElementById("running-total");
    if (!form || !out) return;
    var weightedMax = 0;
    var weighted = 0;
    var missing = 0;
    rubric.criteria.forEach(function (c) {
      weightedMax += c.weight * c.max;
      var input = form.elements[c.key];
      var text = input ? input.value.trim() : "";
      var value = Number(text);
      if (text === "" || !isFinite(value) || value < 0 || value > c.max) {
        missing += 1;
      } else {
        weighted += c.weight * value;
      }
    });
    var total = weighted * rubric.max_total / weightedMax;
    out.textContent = missing === rubric.criteria.length ? "—" : shown(total);
    var note = document.getElementById("total-note");
    if (note) note.textContent = missing ? rubric.texts.missing.replace("{n}", missing) : "";
  }

  function notify(message) {
    var node = sheet().querySelector(".flash[role=status]");
    if (!node) {
      node = document.createElement("p");
      node.setAttribute("role", "status");
      sheet().prepend(node);
    }
    node.className = "flash error";
    node.textContent = message;
  }

  function swap(html, saved) {
    var old = sheet();
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var fresh = holder.querySelector("#sheet");
    if (!fresh) throw new Error("no sheet in the answer");
    old.replaceWith(fresh);
    dirty = !saved;  // a refused sheet comes back as typed, still unsaved
    updateTotal();
    var wrong = fresh.querySelector("[aria-invalid=true]");
    if (wrong) wrong.focus();
  }

  // After a sign-out the page's CSRF token belongs to the old session: once the judge has
  // signed in again (in another tab), the next save takes the new session's token first.
  var stale = false;

  function freshToken() {
    if (!stale) return Promise.resolve();
    return fetch(window.location.href, { credentials: "same-origin" }).then(function (r) {
      return r.text();
    }).then(function (text) {
      var page = new DOMParser().parseFromString(text, "text/html");
      var token = page.querySelector("input[name=csrf_token]");
      if (!token) return;
      document.querySelectorAll("input[name=csrf_token]").forEach(function (field) {
        field.value = token.value;
      });
      stale = false;
    });
  }

  function post(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) data.set(submitter.name, submitter.value);
    // Not form.action: the buttons are named "action", which shadows it.
    return fetch(form.getAttribute("action") || window.location.href, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
  }

  function save(form, submitter) {
    busy = true;
    form.setAttribute("aria-busy", "true");
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    return freshToken().then(function () {
      return post(form, submitter);
    }).then(function (response) {
      // Signed out meanwhile: the login page answers, or the CSRF check refuses the token.
      var login = response.redirected && response.url.indexOf("/auth/login") !== -1;
      if (login || [400, 401, 403].indexOf(response.status) !== -1) {
        stale = true;
        throw new Error(rubric.texts.signed_out);
      }
      return response.json().catch(function () { return {}; }).then(function (answer) {
        answer.saved = response.ok;
        return answer;
      });
    }).then(function (answer) {
      if (answer.html) {
        swap(answer.html, answer.saved);
      } else {
        throw new Error(answer.error || "");
      }
    }).catch(function (error) {
      // Nothing typed is lost: the form stays as it was, to try again.
      notify(error.message || rubric.texts.failed);
    }).finally(function () {
      busy = false;
      if (form.isConnected) {
        form.removeAttribute("aria-busy");
        form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      }
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.hasAttribute("data-fetch") || !sheet().contains(form)) {
      return;
    }
    event.preventDefault();
    if (!busy) save(form, event.submitter);
  });

  document.addEventListener("input", function (event) {
    if (event.target.form && event.target.form.hasAttribute("data-fetch")) {
      dirty = true;
      updateTotal();
    }
  });

  window.addEventListener("beforeunload", function (event) {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  updateTotal();
})();
