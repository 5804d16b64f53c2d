// The work partial's viewers (templates/_work.html): a lightbox for photo grids and a paged
// reader for comics. Without this script the grid's images are links to their 2048 px files
// and a comic's pages are all shown, one under another.
(function () {
  "use strict";
  if (window.worksViewers) return; // the partial may be drawn more than once on a page
  window.worksViewers = true;

  function texts(el, name) {
    try { return JSON.parse(el.getAttribute(name) || "{}"); } catch (e) { return {}; }
  }
  function fill(template, n, total) {
    return (template || "{n} / {total}").replace("{n}", n).replace("{total}", total);
  }
  function button(cls, label, symbol) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.setAttribute("aria-label", label);
    b.textContent = symbol;
    return b;
  }
  // A horizontal swipe of at least 50 px: -1 back, 1 on, 0 none.
  function swipes(el, turn) {
    var x = null, y = null;
    el.addEventListener("touchstart", function (ev) {
      if (ev.touches.length !== 1) { x = null; return; }
      x = ev.touches[0].clientX; y = ev.touches[0].clientY;
    }, { passive: true });
    el.addEventListener("touchend", function (ev) {
      if (x === null) return;
      var dx = ev.changedTouches[0].clientX - x, dy = ev.changedTouches[0].clientY - y;
      x = null;
      if (Math.abs(dx) >= 50 && Math.abs(dx) > Math.abs(dy) * 1.5) turn(dx < 0 ? 1 : -1);
    });
  }

  // The lightbox: one for the page, filled from the grid that opened it.
  var box = null, items = [], at = 0, opener = null, boxText = {};
  function buildBox() {
    box = document.createElement("div");
    box.className = "lightbox";
    box.hidden = true;
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.tabIndex = -1;
    box.innerHTML = '<figure><img alt=""><figcaption><span class="lightbox-count"></span> ' +
      '<span class="lightbox-caption"></span></figcaption></figure>';
    box.appendChild(button("lightbox-close", "", "×"));
    box.appendChild(button("lightbox-prev", "", "‹"));
    box.appendChild(button("lightbox-next", "", "›"));
    document.body.appendChild(box);
    box.querySelector(".lightbox-close").addEventListener("click", closeBox);
    box.querySelector(".lightbox-prev").addEventListener("click", function () { show(at - 1); });
    box.querySelector(".lightbox-next").addEventListener("click", function () { show(at + 1); });
    box.addEventListener("click", function (ev) { if (ev.target === box) closeBox(); });
    swipes(box, function (step) { show(at + step); });
  }
  function show(index) {
    if (index < 0 || index >= items.length) return;
    at = index;
    var item = items[at], img = box.querySelector("img");
    img.removeAttribute("src");
    img.setAttribute("srcset", item.getAttribute("data-srcset") || "");
    img.setAttribute("sizes", "100vw");
    img.src = item.getAttribute("data-src") || item.href;
    img.alt = item.getAttribute("data-caption") || "";
    box.querySelector(".lightbox-caption").textContent = item.getAttribute("data-caption") || "";
    box.querySelector(".lightbox-count").textContent = fill(boxText.of, at + 1, items.length);
    box.querySelector(".lightbox-prev").disabled = at === 0;
    box.querySelector(".lightbox-next").disabled = at === items.length - 1;
    box.setAttribute("aria-label", box.querySelector(".lightbox-count").textContent);
  }
  function openBox(grid, item) {
    if (!box) buildBox();
    boxText = texts(grid, "data-lightbox-text");
    box.querySelector(".lightbox-close").setAttribute("aria-label", boxText.close || "×");
    box.querySelector(".lightbox-prev").setAttribute("aria-label", boxText.prev || "‹");
    box.querySelector(".lightbox-next").setAttribute("aria-label", boxText.next || "›");
    items = Array.prototype.slice.call(grid.querySelectorAll("[data-lightbox-item]"));
    opener = item;
    box.hidden = false;
    document.documentElement.classList.add("lightbox-open");
    show(items.indexOf(item));
    box.querySelector(".lightbox-close").focus();
  }
  function closeBox() {
    if (!box || box.hidden) return;
    box.hidden = true;
    document.documentElement.classList.remove("lightbox-open");
    if (opener) opener.focus();
  }
  document.querySelectorAll("[data-lightbox]").forEach(function (grid) {
    grid.addEventListener("click", function (ev) {
      var item = ev.target.closest("[data-lightbox-item]");
      if (!item || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
      ev.preventDefault();
      openBox(grid, item);
    });
  });

  // The comic reader: one page at a time at 1080 px, 2048 px when zoomed.
  var readers = [];
  function reader(root) {
    var pages = Array.prototype.slice.call(root.querySelectorAll(".comic-page"));
    var t = texts(root, "data-comic-text"), now = 0, zoomed = false;
    var bar = document.createElement("div");
    bar.className = "comic-bar";
    var prev = button("button secondary comic-prev", t.prev || "‹", "‹ " + (t.prev || ""));
    var next = button("button secondary comic-next", t.next || "›", (t.next || "") + " ›");
    var zoom = button("button secondary comic-zoom", t.zoom || "+", t.zoom || "+");
    var count = document.createElement("span");
    count.className = "comic-counter";
    count.setAttribute("aria-live", "polite");
    bar.appendChild(prev); bar.appendChild(count); bar.appendChild(next); bar.appendChild(zoom);
    root.appendChild(bar);
    root.classList.add("paged");
    root.tabIndex = -1;
    function go(index, keepHash) {
      if (index < 0 || index >= pages.length) return;
      if (zoomed) unzoom();
      pages[now].classList.remove("current");
      now = index;
      pages[now].classList.add("current");
      var img = pages[now].querySelector("img");
      img.loading = "eager";
      count.textContent = fill(t.of, now + 1, pages.length);
      prev.disabled = now === 0;
      next.disabled = now === pages.length - 1;
      if (!keepHash && history.replaceState) history.replaceState(null, "", "#page-" + (now + 1));
    }
    function unzoom() {
      zoomed = false;
      root.classList.remove("zoomed");
      var img = pages[now].querySelector("img");
      if (img.dataset.pageSrc) img.src = img.dataset.pageSrc;
      zoom.textContent = t.zoom || "+";
      zoom.setAttribute("aria-pressed", "false");
    }
    function toggleZoom() {
      if (zoomed) { unzoom(); return; }
      var img = pages[now].querySelector("img"), link = pages[now].querySelector("a");
      img.dataset.pageSrc = img.getAttribute("src");
      img.src = link.getAttribute("data-zoom-src");
      zoomed = true;
      root.classList.add("zoomed");
      zoom.textContent = t.unzoom || "-";
      zoom.setAttribute("aria-pressed", "true");
    }
    prev.addEventListener("click", function () { go(now - 1); });
    next.addEventListener("click", function () { go(now + 1); });
    zoom.addEventListener("click", toggleZoom);
    root.addEventListener("click", function (ev) {
      if (ev.target.closest(".comic-zoom-link")) { ev.preventDefault(); toggleZoom(); }
    });
    swipes(root, function (step) { if (!zoomed) go(now + step); });
    var wanted = /^#page-(\d+)$/.exec(location.hash);
    pages[0].classList.add("current");
    go(wanted ? Math.min(Math.max(parseInt(wanted[1], 10) - 1, 0), pages.length - 1) : 0, true);
    return { go: function (step) { go(now + step); }, root: root };
  }
  document.querySelectorAll("[data-comic]").forEach(function (root) { readers.push(reader(root)); });

  document.addEventListener("keydown", function (ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (box && !box.hidden) {
      if (ev.key === "Escape") { ev.preventDefault(); closeBox(); }
      else if (ev.key === "ArrowLeft") { ev.preventDefault(); show(at - 1); }
      else if (ev.key === "ArrowRight") { ev.preventDefault(); show(at + 1); }
      else if (ev.key === "Tab") { // keep the focus inside the dialog
        var buttons = Array.prototype.filter.call(box.querySelectorAll("button"), function (b) { return !b.disabled; });
        var i = buttons.indexOf(document.activeElement);
        ev.preventDefault();
        buttons[(i + (ev.shiftKey ? buttons.length - 1 : 1)) % buttons.length].focus();
      }
      return;
    }
    var target = ev.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    if (readers.length && (ev.key === "ArrowLeft" || ev.key === "ArrowRight")) {
      ev.preventDefault();
      readers[0].go(ev.key === "ArrowLeft" ? -1 : 1);
    }
  });
})();
