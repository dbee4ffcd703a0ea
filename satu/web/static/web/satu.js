/* Satu UI glue: phone menu, dropdowns, global search keys, htmx error toasts,
   form autofocus and ECharts charts. No framework; loaded with `defer`. */
(function () {
  "use strict";

  function qs(sel, root) { return (root || document).querySelector(sel); }
  function qsa(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  /* ------------------------------------------------------------ toasts */
  function toast(message, kind) {
    var box = qs("#toasts");
    if (!box) { return; }
    var item = document.createElement("div");
    item.className = "toast" + (kind ? " " + kind : "");
    item.setAttribute("role", kind === "success" ? "status" : "alert");
    var text = document.createElement("div");
    text.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.setAttribute("aria-label", box.dataset.closeLabel || "Close");
    close.textContent = "×";
    close.addEventListener("click", function () { item.remove(); });
    item.appendChild(text);
    item.appendChild(close);
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 8000);
  }
  window.satuToast = toast;

  /* The message of an error response: JSON {"detail"} from the API, or the
     [data-error-message] element of an HTML error page. */
  function errorMessage(xhr) {
    var box = qs("#toasts");
    var fallback = (box && box.dataset.genericError) || "The request failed.";
    if (!xhr) { return fallback; }
    var type = xhr.getResponseHeader("Content-Type") || "";
    var body = xhr.responseText || "";
    try {
      if (type.indexOf("json") !== -1) {
        var data = JSON.parse(body);
        if (data && data.detail) { return String(data.detail); }
      } else if (body) {
        var doc = new DOMParser().parseFromString(body, "text/html");
        var el = doc.querySelector("[data-error-message]");
        if (el && el.textContent.trim()) { return el.textContent.trim(); }
      }
    } catch (e) { /* fall through to the generic text */ }
    return fallback + " (" + xhr.status + ")";
  }

  document.addEventListener("htmx:afterRequest", function (ev) {
    var xhr = ev.detail && ev.detail.xhr;
    // 422 carries a re-rendered form with field errors: it is swapped, not toasted.
    // htmx repeats afterRequest on a parent when the element left the page.
    if (!xhr || xhr.status < 400 || xhr.status === 422 || xhr.satuReported) { return; }
    xhr.satuReported = true;
    toast(errorMessage(xhr));
    // A failed poll would fail again every second: stop it, keep what is shown.
    var elt = ev.detail.elt;
    if (elt && /(^|,)\s*every\s/.test(elt.getAttribute("hx-trigger") || "")) {
      var still = elt.cloneNode(true);
      still.removeAttribute("hx-trigger");
      still.removeAttribute("hx-get");
      elt.replaceWith(still);
    }
  });
  document.addEventListener("htmx:responseError", function (ev) {
    var xhr = ev.detail && ev.detail.xhr;
    if (xhr && xhr.satuReported) { return; }
    if (xhr) { xhr.satuReported = true; }
    toast(errorMessage(xhr));
  });
  document.addEventListener("htmx:sendError", function () {
    var box = qs("#toasts");
    toast((box && box.dataset.networkError) || "The server cannot be reached.");
  });

  /* ------------------------------------------------------------ top bar */
  document.addEventListener("click", function (ev) {
    var toggle = ev.target.closest(".nav-toggle");
    if (toggle) {
      var bar = toggle.closest(".topbar");
      var open = bar.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      return;
    }
    qsa("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(ev.target)) { menu.removeAttribute("open"); }
    });
    var results = qs("#search-results");
    if (results && !ev.target.closest(".topbar-search")) { results.innerHTML = ""; }
  });

  document.addEventListener("keydown", function (ev) {
    var search = qs("#global-search");
    var results = qs("#search-results");
    if (ev.key === "Escape") {
      qsa("details.menu[open]").forEach(function (menu) {
        menu.removeAttribute("open");
        var summary = qs("summary", menu);
        if (summary && menu.contains(document.activeElement)) { summary.focus(); }
      });
      if (results && results.innerHTML) {
        results.innerHTML = "";
        if (search) { search.focus(); }
      }
      return;
    }
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName) ||
      document.activeElement.isContentEditable;
    if (ev.key === "/" && !typing && search) {
      ev.preventDefault();
      search.focus();
      search.select();
      return;
    }
    if (!results || (ev.key !== "ArrowDown" && ev.key !== "ArrowUp")) { return; }
    var links = qsa("a", results);
    if (!links.length) { return; }
    var inSearch = document.activeElement === search;
    var index = links.indexOf(document.activeElement);
    if (!inSearch && index === -1) { return; }
    ev.preventDefault();
    if (ev.key === "ArrowDown") {
      links[inSearch ? 0 : Math.min(index + 1, links.length - 1)].focus();
    } else if (index <= 0) {
      search.focus();
    } else {
      links[index - 1].focus();
    }
  });

  /* ------------------------------------------------------------ forms */
  /* Focus the first invalid field, else the first field of a form page. */
  function autofocus(root) {
    if (qs("[autofocus]", root) || (document.activeElement && document.activeElement !== document.body)) {
      return;
    }
    var invalid = qs("main [aria-invalid=true]", root);
    if (invalid) { invalid.focus(); return; }
    var form = qs("main form[data-autofocus], main form .form-grid", root);
    if (!form) { return; }
    form = form.closest("form");
    var field = qsa("input, select, textarea", form).filter(function (el) {
      return el.type !== "hidden" && !el.disabled && !el.readOnly && el.offsetParent !== null;
    })[0];
    if (field) { field.focus(); }
  }

  /* ------------------------------------------------------------ charts */
  function renderCharts(root) {
    if (!window.echarts) { return; }
    qsa("[data-chart]", root).forEach(function (el) {
      if (el.dataset.chartReady) { return; }
      var source = document.getElementById(el.dataset.chart);
      if (!source) { return; }
      var option = JSON.parse(source.textContent);
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(option);
      el.dataset.chartReady = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  function init(root) {
    renderCharts(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    autofocus(document);
  });
  document.addEventListener("htmx:load", function (ev) { init(ev.detail.elt); });
})();
