// The site's only script: the side-by-side/inline/text switch, comparing any two versions of an
// article, and starting the search box. Article text is only ever set as text, never as HTML.
(function () {
  "use strict";

  var VIEW_KEY = "archiver-view";
  var CELL_LIMIT = 2000000; // past this many table cells an LCS is too slow: replace whole

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

  // --- diffs ----------------------------------------------------------------------------------

  var TOKEN = /[\p{L}\p{N}_]+|\s+|[^\p{L}\p{N}_\s]/gu;
  var WORD = /[\p{L}\p{N}_]+/gu;

  function tokens(text) {
    return text.match(TOKEN) || [];
  }

  // Longest common subsequence of two arrays under `same`: the matched index pairs, in order,
  // or null when the table would be too large.
  function lcs(a, b, same) {
    var n = a.length;
    var m = b.length;
    if ((n + 1) * (m + 1) > CELL_LIMIT) return null;
    var width = m + 1;
    var table = new Uint32Array((n + 1) * width);
    for (var i = n - 1; i >= 0; i--) {
      for (var j = m - 1; j >= 0; j--) {
        table[i * width + j] = same(a[i], b[j])
          ? table[(i + 1) * width + j + 1] + 1
          : Math.max(table[(i + 1) * width + j], table[i * width + j + 1]);
      }
    }
    var pairs = [];
    i = 0;
    j = 0;
    while (i < n && j < m) {
      if (same(a[i], b[j])) {
        pairs.push([i, j]);
        i++;
        j++;
      } else if (table[(i + 1) * width + j] >= table[i * width + j + 1]) {
        i++;
      } else {
        j++;
      }
    }
    return pairs;
  }

  function push(spans, op, text) {
    if (!text) return;
    var last = spans[spans.length - 1];
    if (last && last.op === op) last.text += text;
    else spans.push({ op: op, text: text });
  }

  // Word-level diff: spans of "equal", "delete" and "insert", deletions before insertions.
  function wordDiff(oldText, newText) {
    if (oldText === newText) return oldText ? [{ op: "equal", text: oldText }] : [];
    var a = tokens(oldText);
    var b = tokens(newText);
    var start = 0;
    while (start < a.length && start < b.length && a[start] === b[start]) start++;
    var endA = a.length;
    var endB = b.length;
    while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
      endA--;
      endB--;
    }
    var spans = [];
    push(spans, "equal", a.slice(0, start).join(""));
    var midA = a.slice(start, endA);
    var midB = b.slice(start, endB);
    var pairs = lcs(midA, midB, function (x, y) {
      return x === y;
    });
    if (pairs === null) pairs = [];
    var i = 0;
    var j = 0;
    pairs.concat([[midA.length, midB.length]]).forEach(function (pair) {
      var deleted = midA.slice(i, pair[0]).join("");
      var inserted = midB.slice(j, pair[1]).join("");
      push(spans, "delete", deleted);
      push(spans, "insert", inserted);
      if (pair[0] < midA.length) push(spans, "equal", midA[pair[0]]);
      i = pair[0] + 1;
      j = pair[1] + 1;
    });
    push(spans, "equal", a.slice(endA).join(""));
    return fold(
      spans.filter(function (s) {
        return s.text;
      })
    );
  }

  // An equal stretch of only spaces or punctuation between two changes joins them, so a
  // replaced phrase reads as one replacement rather than alternating fragments.
  function fold(spans) {
    var pieces = [];
    spans.forEach(function (span) {
      var last = pieces[pieces.length - 1];
      if (span.op === "equal") {
        pieces.push({ equal: span.text });
        return;
      }
      if (!last || last.equal !== undefined) {
        last = { del: "", ins: "" };
        pieces.push(last);
      }
      if (span.op === "delete") last.del += span.text;
      else last.ins += span.text;
    });
    for (var k = 1; k < pieces.length - 1; k++) {
      var before = pieces[k - 1];
      var middle = pieces[k];
      var after = pieces[k + 1];
      var joins = middle.equal !== undefined && before.equal === undefined && after.equal === undefined;
      if (joins && !/[\p{L}\p{N}]/u.test(middle.equal)) {
        pieces.splice(k - 1, 3, {
          del: before.del + middle.equal + after.del,
          ins: before.ins + middle.equal + after.ins,
        });
        k -= 1;
      }
    }
    var out = [];
    pieces.forEach(function (piece) {
      if (piece.equal !== undefined) out.push({ op: "equal", text: piece.equal });
      else {
        if (piece.del) out.push({ op: "delete", text: piece.del });
        if (piece.ins) out.push({ op: "insert", text: piece.ins });
      }
    });
    return out;
  }

  function key(text) {
    return text.replace(/\s+/g, " ").trim().toLowerCase();
  }

  function similarity(a, b) {
    var x = key(a).match(WORD) || [];
    var y = key(b).match(WORD) || [];
    if (!x.length || !y.length) return 0;
    var counts = new Map();
    x.forEach(function (w) {
      counts.set(w, (counts.get(w) || 0) + 1);
    });
    var shared = 0;
    y.forEach(function (w) {
      var c = counts.get(w) || 0;
      if (c) {
        shared++;
        counts.set(w, c - 1);
      }
    });
    return (2 * shared) / (x.length + y.length);
  }

  // Paragraph rows in reading order: identical paragraphs anchor both columns, similar ones
  // between anchors pair as edits, identical ones out of order are moves.
  function alignParagraphs(oldParas, newParas) {
    var oldKeys = oldParas.map(key);
    var newKeys = newParas.map(key);
    var anchors = lcs(oldKeys, newKeys, function (x, y) {
      return x === y;
    });
    if (anchors === null) anchors = [];
    var rows = [];
    var i = 0;
    var j = 0;
    anchors.concat([[oldParas.length, newParas.length]]).forEach(function (anchor) {
      var olds = [];
      var news = [];
      for (; i < anchor[0]; i++) olds.push(i);
      for (; j < anchor[1]; j++) news.push(j);
      gapRows(olds, news, oldParas, newParas).forEach(function (row) {
        rows.push(row);
      });
      if (anchor[0] < oldParas.length) {
        rows.push({ kind: "same", oldIndex: anchor[0], newIndex: anchor[1] });
        i = anchor[0] + 1;
        j = anchor[1] + 1;
      }
    });
    markMoves(rows, oldKeys, newKeys);
    return rows;
  }

  function gapRows(olds, news, oldParas, newParas) {
    var rows = [];
    var next = 0;
    olds.forEach(function (i) {
      for (var k = next; k < news.length; k++) {
        if (similarity(oldParas[i], newParas[news[k]]) >= 0.5) {
          for (; next < k; next++) rows.push({ kind: "added", oldIndex: null, newIndex: news[next] });
          rows.push({ kind: "changed", oldIndex: i, newIndex: news[k] });
          next = k + 1;
          return;
        }
      }
      rows.push({ kind: "removed", oldIndex: i, newIndex: null });
    });
    for (; next < news.length; next++) rows.push({ kind: "added", oldIndex: null, newIndex: news[next] });
    return rows;
  }

  function markMoves(rows, oldKeys, newKeys) {
    var removed = new Map();
    rows.forEach(function (row) {
      if (row.kind !== "removed") return;
      var list = removed.get(oldKeys[row.oldIndex]) || [];
      list.push(row);
      removed.set(oldKeys[row.oldIndex], list);
    });
    rows.forEach(function (row) {
      if (row.kind !== "added") return;
      var list = removed.get(newKeys[row.newIndex]);
      if (!list || !list.length) return;
      var away = list.shift();
      away.kind = "moved-away";
      away.movedTo = row.newIndex;
      row.kind = "moved";
      row.movedFrom = away.oldIndex;
    });
    rows.forEach(function (row, index) {
      if (row.kind !== "moved-away") return;
      var target = rows.findIndex(function (r) {
        return r.kind === "moved" && r.movedFrom === row.oldIndex;
      });
      row.down = target > index;
    });
  }

  // --- rendering --------------------------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function appendSpans(parent, spans, keep) {
    spans.forEach(function (span) {
      if (span.op === "equal") {
        parent.appendChild(document.createTextNode(span.text));
      } else if (!keep || span.op === keep) {
        var mark = el(span.op === "delete" ? "del" : "ins");
        mark.appendChild(el("span", "vh", span.op === "delete" ? "deleted: " : "inserted: "));
        mark.appendChild(document.createTextNode(span.text));
        parent.appendChild(mark);
      }
    });
  }

  // One side of a row, as sitehtml._cell writes it: `merged` (the row's one-column reading)
  // marks the cell the one-column view shows, and replaces its words there when it differs.
  function cell(spans, keep, label, number, note, muted, merged) {
    var td = el("td", (label ? "field" : muted ? "p muted" : "p") + (merged ? " io" : ""));
    td.dir = "auto";
    if (label) {
      td.appendChild(el("span", "label", label));
      td.appendChild(document.createTextNode(" "));
    }
    if (number) {
      td.appendChild(el("span", "pn", "¶" + number));
      td.appendChild(document.createTextNode(" "));
    }
    if (note) {
      td.appendChild(el("span", "note", note));
      td.appendChild(document.createTextNode(" "));
    }
    if (!merged || merged.same) {
      appendSpans(td, spans, keep);
      return td;
    }
    var words = el("span", "w");
    appendSpans(words, spans, keep);
    td.appendChild(words);
    if (merged.spans.length) {
      var oneColumn = el("span", "m");
      appendSpans(oneColumn, merged.spans, null);
      td.appendChild(oneColumn);
    }
    return td;
  }

  // What the one-column view shows of a row (sitehtml._one_column): the cell's own words when
  // the row's spans hold no change that cell leaves out, the note alone when moved away.
  function oneColumn(row, keep) {
    if (row.kind === "moved-away") return { same: false, spans: [] };
    var dropped = keep === "insert" ? "delete" : "insert";
    var mixed = row.inline.some(function (span) {
      return span.op === dropped;
    });
    return { same: !mixed, spans: row.inline };
  }

  function displayRows(older, newer) {
    var out = [];
    out.push(fieldRow("Headline", older.title, newer.title));
    if (older.byline !== newer.byline) out.push(fieldRow("Byline", older.byline, newer.byline));
    if (older.date !== newer.date) out.push(fieldRow("Date", older.date, newer.date));
    alignParagraphs(older.paragraphs, newer.paragraphs).forEach(function (row) {
      var oldIndex = row.kind === "moved" ? row.movedFrom : row.oldIndex;
      var oldText = oldIndex === null ? "" : older.paragraphs[oldIndex];
      var newText = row.newIndex === null ? "" : newer.paragraphs[row.newIndex];
      var oldNo = row.oldIndex === null ? null : row.oldIndex + 1;
      var newNo = row.newIndex === null ? null : row.newIndex + 1;
      if (row.kind === "moved-away") {
        var away = "moved " + (row.down ? "down" : "up") + " to ¶" + (row.movedTo + 1);
        out.push({
          kind: row.kind,
          old: { spans: [{ op: "equal", text: oldText }], number: oldNo, note: away, muted: true },
          inline: [],
          note: "¶" + oldNo + " " + away,
        });
        return;
      }
      var spans = wordDiff(oldText, newText);
      var note = row.kind === "moved" ? "moved from ¶" + (row.movedFrom + 1) : "";
      var oldCell = null;
      if (row.kind === "moved") oldCell = { spans: oldText === newText ? [] : spans, number: oldNo, note: note };
      else if (oldText) oldCell = { spans: spans, number: oldNo };
      out.push({
        kind: row.kind,
        old: oldCell,
        new: newText ? { spans: spans, number: newNo, note: note } : null,
        inline: spans,
        note: note,
      });
    });
    return out;
  }

  function fieldRow(label, oldText, newText) {
    var spans = wordDiff(oldText || "", newText || "");
    return {
      kind: oldText === newText ? "same" : "field",
      label: label,
      old: { spans: spans },
      new: { spans: spans },
      inline: spans,
    };
  }

  function renderComparison(target, older, newer) {
    var rows = displayRows(older, newer);
    target.textContent = "";

    var section = el("section", "changes");
    var table = el("table", "diff");
    var caption = el("caption", "vh", "Version " + older.number + " on the left, version " + newer.number + " on the right");
    table.appendChild(caption);
    var head = el("thead");
    var headRow = el("tr");
    [older, newer].forEach(function (v) {
      var th = el("th", "", "Version " + v.number + " ");
      th.scope = "col";
      th.appendChild(el("span", "when", v.time.replace("T", " ").replace(/:\d\dZ$/, " UTC")));
      headRow.appendChild(th);
    });
    head.appendChild(headRow);
    table.appendChild(head);
    var body = el("tbody");
    rows.forEach(function (row) {
      var tr = el("tr", row.kind);
      var shown = row.new ? "insert" : "delete";
      [
        [row.old, "delete"],
        [row.new, "insert"],
      ].forEach(function (side) {
        var data = side[0];
        var merged = side[1] === shown ? oneColumn(row, shown) : null;
        tr.appendChild(
          data
            ? cell(data.spans, side[1], row.label, data.number, data.note, data.muted, merged)
            : el("td", "blank")
        );
      });
      body.appendChild(tr);
    });
    table.appendChild(body);
    section.appendChild(table);
    target.appendChild(section);
  }

  function startCompare() {
    var data = document.getElementById("versions-data");
    var form = document.getElementById("compare-form");
    var target = document.getElementById("compare-result");
    if (!data || !form || !target) return;
    var payload = JSON.parse(data.textContent);
    // Each version lists its paragraphs by number in the payload's shared list.
    var versions = payload.versions.map(function (version) {
      version.paragraphs = version.body.map(function (n) {
        return payload.paragraphs[n];
      });
      return version;
    });
    var pick = function (name) {
      return form.querySelector("select[name=" + name + "]");
    };
    var show = function () {
      var a = versions[Number(pick("a").value) - 1];
      var b = versions[Number(pick("b").value) - 1];
      if (!a || !b) return;
      renderComparison(target, a, b);
      try {
        window.history.replaceState(null, "", "?a=" + a.number + "&b=" + b.number);
      } catch (e) {
        // Some browsers refuse to rewrite file:// addresses; the comparison still shows.
      }
    };
    var params = new URLSearchParams(window.location.search);
    ["a", "b"].forEach(function (name) {
      var wanted = Number(params.get(name));
      if (Number.isInteger(wanted) && wanted >= 1 && wanted <= versions.length) {
        pick(name).value = String(wanted);
      }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      show();
    });
    show();
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
