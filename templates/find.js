// Finding an article's page by its address, for the forms of class "find-url" and for any
// page that wants it (window.archiverFindUrl): the address is made canonical as archiver
// records URLs (lower-case host, no default port or fragment, no tracking parameters, the
// rest sorted), then looked up in lookup/urls-XX.json, XX from an FNV-1a hash of it.
(function () {
  "use strict";

  var SHARDS = 64;
  var TRACKING = new RegExp(
    "^(utm_\\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|igshid|yclid|" +
      "_ga|_gl|ocid|cmpid|ns_mchannel|ns_source|ns_campaign|ns_linkname|ns_fee|at_medium|" +
      "at_campaign|at_custom\\d*|smid|ref_src|sref|ito|CMP|__twitter_impression)$",
    "i"
  );

  function encode(text) {
    // As Python's quote_plus: letters, digits and "_.-~" kept, spaces as "+".
    return encodeURIComponent(text)
      .replace(/[!'()*]/g, function (c) {
        return "%" + c.charCodeAt(0).toString(16).toUpperCase();
      })
      .replace(/%20/g, "+");
  }

  function canonical(text) {
    var url;
    try {
      url = new URL(String(text).trim());
    } catch (e) {
      return null;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    var kept = [];
    url.searchParams.forEach(function (value, key) {
      if (!TRACKING.test(key)) kept.push([key, value]);
    });
    kept.sort(function (a, b) {
      if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
      return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
    });
    var query = kept
      .map(function (pair) {
        return encode(pair[0]) + "=" + encode(pair[1]);
      })
      .join("&");
    var host = url.hostname.replace(/\.$/, "");
    var port = url.port ? ":" + url.port : "";
    return url.protocol + "//" + host + port + (url.pathname || "/") + (query ? "?" + query : "");
  }

  function shard(url) {
    var bytes = new TextEncoder().encode(url);
    var value = 0x811c9dc5;
    for (var i = 0; i < bytes.length; i++) {
      value = Math.imul(value ^ bytes[i], 0x01000193) >>> 0;
    }
    var name = (value % SHARDS).toString(16);
    return name.length < 2 ? "0" + name : name;
  }

  // The page of the article at `text` as an href from `root` (the site root relative to the
  // page), or null when the archive has none there; rejects when the lookup file cannot be read.
  function findUrl(text, root) {
    var url = canonical(text);
    if (url === null) return Promise.resolve(null);
    return fetch(root + "lookup/urls-" + shard(url) + ".json")
      .then(function (reply) {
        if (!reply.ok) throw new Error("lookup " + reply.status);
        return reply.json();
      })
      .then(function (pages) {
        var page = Object.prototype.hasOwnProperty.call(pages, url) ? pages[url] : null;
        return page === null ? null : root + page;
      });
  }
  findUrl.canonical = canonical;
  findUrl.shard = shard;
  window.archiverFindUrl = findUrl;

  function wire(form) {
    var input = form.querySelector("input");
    var result = form.querySelector(".find-result");
    var root = form.getAttribute("data-root") || "";
    form.hidden = false; // shown only where it works: with this script
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (canonical(input.value) === null) {
        result.textContent = "That is not a web address (http:// or https://).";
        return;
      }
      result.textContent = "Looking it up…";
      findUrl(input.value, root).then(
        function (href) {
          if (href === null) {
            result.textContent = "No article at that address is in the archive.";
          } else {
            window.location.href = href;
          }
        },
        function () {
          result.textContent = "The lookup could not be read (it needs the site served over HTTP).";
        }
      );
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.find-url").forEach(wire);
  });
})();
