// The site's only script: the side-by-side/inline/text switch, picking two versions of an
// article to compare, and starting the search box. Text is only ever set as text, never as HTML.
(function () {
  "use strict";

  var VIEW_KEY = "archiver-view";

  // --- the side-by-side / inline switch -----------------------------------------------------

  function savedView() {
    try {
      return window.localStorage.getItem(VIEW_KEY);
    } catch (e) {
      return null;
    }
  }

  // Narrow screens show side by side as one column and hide its button (site.css): the
  // one-column button is the one pressed there.
  var NARROW = window.matchMedia("(max-width: 48rem)");

  function markPressed() {
    var views = document.querySelector(".views");
    var view = views ? views.getAttribute("data-view") : "side";
    var shown = view === "side" && NARROW.matches ? "inline" : view;
    document.querySelectorAll(".view-switch button").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute("data-view") === shown));
    });
  }

  function setView(view) {
    document.querySelectorAll(".views").forEach(function (el) {
      el.setAttribute("data-view", view);
    });
    markPressed();
    try {
      window.localStorage.setItem(VIEW_KEY, view);
    } catch (e) {
      // Storage can be unavailable (private windows, file://): the choice then lasts a page.
    }
  }

  function startSwitch() {
    var switches = document.querySelectorAll(".view-switch");
    if (!switches.length) return;
    switches.forEach(function (el) {
      el.hidden = false;
      el.addEventListener("click", function (event) {
        var button = event.target.closest("button[data-view]");
        if (button) setView(button.getAttribute("data-view"));
      });
    });
    var saved = savedView();
    // "text" only where the switch offers it (a version page; not the comparison).
    var offered = document.querySelector('.view-switch button[data-view="' + saved + '"]');
    if (saved && offered) setView(saved);
    markPressed();
    NARROW.addEventListener("change", markPressed);
  }

  // --- the comparison picker -------------------------------------------------------------------
  // Every comparison is a page the build made with the site's one diff: the script only finds
  // the page of the two versions picked, or says which comparisons there are instead.

  function link(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  function notFound(target, pages, older, newer, count) {
    target.textContent = "";
    var note = document.createElement("p");
    note.className = "notice";
    note.appendChild(
      document.createTextNode(
        "Versions " + older + " and " + newer + " are not compared in advance: " +
          "each version is compared with the one before it, the first and the latest. "
      )
    );
    var nearest = [
      [older, count],
      [1, newer],
    ].filter(function (pair) {
      return pages[pair[0] + "-" + pair[1]];
    });
    nearest.forEach(function (pair, index) {
      note.appendChild(document.createTextNode(index ? " or " : "Compare "));
      note.appendChild(link(pages[pair[0] + "-" + pair[1]], "version " + pair[0] + " with version " + pair[1]));
    });
    if (nearest.length) note.appendChild(document.createTextNode("."));
    target.appendChild(note);
  }

  function startCompare() {
    var data = document.getElementById("compare-pairs");
    var form = document.getElementById("compare-form");
    var target = document.getElementById("compare-result");
    if (!data || !form || !target) return;
    var payload = JSON.parse(data.textContent);
    var pick = function (name) {
      return form.querySelector("select[name=" + name + "]");
    };
    var params = new URLSearchParams(window.location.search);
    ["a", "b"].forEach(function (name) {
      var wanted = Number(params.get(name));
      if (Number.isInteger(wanted) && wanted >= 1 && wanted <= payload.versions) {
        pick(name).value = String(wanted);
      }
    });
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var a = Number(pick("a").value);
      var b = Number(pick("b").value);
      var older = Math.min(a, b);
      var newer = Math.max(a, b);
      if (older === newer) {
        target.textContent = "";
        target.appendChild(link("v" + older + ".html", "Version " + older + " is the same version on both sides: read it"));
        return;
      }
      var href = payload.pages[older + "-" + newer];
      if (href) window.location.assign(href);
      else notFound(target, payload.pages, older, newer, payload.versions);
    });
  }

  // --- search -------------------------------------------------------------------------------

  function startSearch() {
    var box = document.getElementById("search");
    if (!box) return;
    if (window.location.protocol === "file:") {
      var note = document.getElementById("search-offline");
      if (note) note.hidden = false;
      return;
    }
    if (typeof window.PagefindUI !== "function") return;
    var root = new URL(box.getAttribute("data-root") || "../", window.location.href);
    var bundles = (box.getAttribute("data-bundles") || "").split(" ").filter(Boolean).map(function (path) {
      return new URL(path, root).pathname;
    });
    if (!bundles.length) return;
    new window.PagefindUI({
      element: "#search",
      bundlePath: bundles[0],
      mergeIndex: bundles.slice(1).map(function (path) {
        return { bundlePath: path };
      }),
      baseUrl: root.pathname,
      showImages: false,
      showSubResults: false,
    });
  }

  function start() {
    startSwitch();
    startCompare();
    startSearch();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
