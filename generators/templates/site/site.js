/* sops build report site: sortable and filterable tables, zoomable SVG diagrams, search over the static
   index window.sopsSearchIndex (assets/search-index.js). No dependencies, no network. */
(function () {
  "use strict";

  function cellKey(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    var key = cell.getAttribute("data-sort");
    return key !== null ? key : cell.textContent.trim();
  }

  function isNumber(text) {
    return text !== "" && !isNaN(Number(text));
  }

  function sortTable(table, index, th) {
    var body = table.tBodies[0];
    if (!body) return;
    var rows = Array.prototype.slice.call(body.rows);
    var descending = th.getAttribute("aria-sort") === "ascending";
    var numeric = rows.every(function (r) { var k = cellKey(r, index); return k === "" || isNumber(k); });
    rows.sort(function (a, b) {
      var x = cellKey(a, index), y = cellKey(b, index), c;
      if (numeric) {
        if (x === "" && y === "") c = 0; else if (x === "") c = 1; else if (y === "") c = -1;
        else c = Number(x) - Number(y);
        if (descending && x !== "" && y !== "") c = -c;
      } else {
        c = x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" });
        if (descending) c = -c;
      }
      return c;
    });
    Array.prototype.forEach.call(th.parentNode.cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    rows.forEach(function (r) { body.appendChild(r); });
  }

  function initSorting() {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      if (!table.tHead) return;
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
        th.tabIndex = 0;
        th.addEventListener("click", function () { sortTable(table, index, th); });
        th.addEventListener("keydown", function (e) {
          if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortTable(table, index, th); }
        });
      });
    });
  }

  function initFilters() {
    document.querySelectorAll("input.filter").forEach(function (input) {
      var table = document.getElementById(input.getAttribute("data-table"));
      var shown = document.querySelector(".shown[data-table='" + input.getAttribute("data-table") + "']");
      if (!table || !table.tBodies[0]) return;
      function apply() {
        var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
        var rows = table.tBodies[0].rows, visible = 0;
        for (var i = 0; i < rows.length; i++) {
          var text = rows[i].textContent.toLowerCase();
          var ok = words.every(function (w) { return text.indexOf(w) >= 0; });
          rows[i].hidden = !ok;
          if (ok) visible++;
        }
        if (shown) shown.textContent = words.length ? visible + " of " + rows.length + " rows" : "";
      }
      input.addEventListener("input", apply);
    });
  }

  function initZoom(box) {
    var stage = box.querySelector(".zoom-stage");
    var svg = stage && stage.querySelector("svg");
    if (!svg) return;
    var width = svg.width.baseVal.value || svg.getBoundingClientRect().width;
    var height = svg.height.baseVal.value || svg.getBoundingClientRect().height;
    var s = 1, x = 0, y = 0;
    function apply() { stage.style.transform = "translate(" + x + "px," + y + "px) scale(" + s + ")"; }
    function fit() {
      var w = box.clientWidth, h = box.clientHeight;
      s = Math.min(w / width, h / height, 1);
      x = (w - width * s) / 2; y = Math.max((h - height * s) / 2, 0);
      apply();
    }
    function zoomAt(factor, cx, cy) {
      var next = Math.min(Math.max(s * factor, 0.05), 8);
      x = cx - (cx - x) * (next / s); y = cy - (cy - y) * (next / s); s = next;
      apply();
    }
    box.addEventListener("wheel", function (e) {
      // Zoom once the diagram has been clicked (focused) or with Ctrl; otherwise the page scrolls on.
      if (!e.ctrlKey && document.activeElement !== box) return;
      e.preventDefault();
      var r = box.getBoundingClientRect();
      zoomAt(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    var drag = null;
    box.addEventListener("pointerdown", function (e) {
      if (e.target.closest("button, a")) return;
      box.focus();
      drag = { px: e.clientX, py: e.clientY, x: x, y: y };
      box.classList.add("dragging");
      box.setPointerCapture(e.pointerId);
    });
    box.addEventListener("pointermove", function (e) {
      if (!drag) return;
      x = drag.x + e.clientX - drag.px; y = drag.y + e.clientY - drag.py; apply();
    });
    function end() { drag = null; box.classList.remove("dragging"); }
    box.addEventListener("pointerup", end);
    box.addEventListener("pointercancel", end);
    box.querySelectorAll("button[data-zoom]").forEach(function (b) {
      b.addEventListener("click", function () {
        var what = b.getAttribute("data-zoom");
        if (what === "fit") fit();
        else if (what === "one") { s = 1; x = 0; y = 0; apply(); }
        else zoomAt(what === "in" ? 1.25 : 0.8, box.clientWidth / 2, box.clientHeight / 2);
      });
    });
    box.addEventListener("keydown", function (e) {
      if (e.key === "+" || e.key === "=") zoomAt(1.25, box.clientWidth / 2, box.clientHeight / 2);
      else if (e.key === "-") zoomAt(0.8, box.clientWidth / 2, box.clientHeight / 2);
      else if (e.key === "0") fit();
    });
    function fitWidth() {
      s = Math.min(box.clientWidth / width, 1);
      x = Math.max((box.clientWidth - width * s) / 2, 0); y = 0;
      apply();
    }
    var fitted = Math.min(box.clientWidth / width, 1) * height + 16;
    if (fitted < box.clientHeight) box.style.height = Math.max(fitted, 200) + "px";
    fitWidth();
  }

  function rank(e, q) {
    var id = e.id.toLowerCase();
    if (id === q) return 0;
    if (id.indexOf(q) === 0) return 1;
    if (id.indexOf(q) >= 0) return 2;
    if (e.title.toLowerCase().indexOf(q) >= 0) return 3;
    return 4;
  }

  function initSearch() {
    var form = document.querySelector("form.search");
    if (!form) return;
    var input = form.querySelector("input[name=q]"), list = form.querySelector("ol.hits");
    var index = window.sopsSearchIndex || [], base = form.getAttribute("data-base") || "";
    function hits() {
      var q = input.value.trim().toLowerCase(), words = q.split(/\s+/).filter(Boolean);
      if (!words.length) return [];
      var found = index.filter(function (e) {
        var hay = (e.id + " " + e.title + " " + e.text + " " + e.kind).toLowerCase();
        return words.every(function (w) { return hay.indexOf(w) >= 0; });
      });
      found.sort(function (a, b) { return rank(a, q) - rank(b, q) || a.id.localeCompare(b.id); });
      return found;
    }
    function show() {
      var found = hits();
      list.textContent = "";
      found.slice(0, 30).forEach(function (e) {
        var li = document.createElement("li"), a = document.createElement("a"), b = document.createElement("b");
        var kind = document.createElement("span");
        a.href = e.href.charAt(0) === "#" ? e.href : base + e.href;
        b.textContent = e.id;
        kind.className = "kind";
        kind.textContent = e.kind;
        a.appendChild(b);
        a.appendChild(kind);
        a.appendChild(document.createTextNode(e.title));
        li.appendChild(a);
        list.appendChild(li);
      });
      if (input.value.trim() && !found.length) {
        var none = document.createElement("li");
        none.className = "none";
        none.textContent = "nothing found";
        list.appendChild(none);
      } else if (found.length > 30) {
        var more = document.createElement("li");
        more.className = "none";
        more.textContent = (found.length - 30) + " more: type more words";
        list.appendChild(more);
      }
      list.hidden = !input.value.trim();
    }
    input.addEventListener("input", show);
    input.addEventListener("focus", show);
    input.addEventListener("keydown", function (e) { if (e.key === "Escape") { list.hidden = true; input.blur(); } });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var first = list.querySelector("a");
      if (first) location.href = first.href;
    });
    document.addEventListener("click", function (e) { if (!form.contains(e.target)) list.hidden = true; });
    var q = new URLSearchParams(location.search).get("q");
    if (q) { input.value = q; show(); }
  }

  initSorting();
  initSearch();
  initFilters();
  document.querySelectorAll(".zoom").forEach(initZoom);
})();
