/* The search page: loads only the index pieces a query needs, with <script> tags (works from file://). */
(function () {
  "use strict";
  var meta = window.SITEGEN_SEARCH_META;
  var form = document.getElementById("search-form");
  var input = document.getElementById("search-q");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var me = document.getElementById("search-script");
  if (!meta || !form) { return; }
  var root = (me && me.getAttribute("data-root")) || "../";
  var base = root + "data/search/";
  var shardNames = {};
  meta.shards.forEach(function (s) { shardNames[s] = true; });
  var MAX_SHOWN = 100;
  var loading = {};

  function load(src, done) {
    if (loading[src]) { loading[src].push(done); return; }
    loading[src] = [done];
    var s = document.createElement("script");
    s.src = src;
    s.onload = s.onerror = function () { var cbs = loading[src]; loading[src] = []; cbs.forEach(function (f) { f(); }); };
    document.head.appendChild(s);
  }
  function fold(text) {
    return String(text).normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
  }
  // Query words: the same folding and splitting as generator/search.py (hyphenated words stay whole).
  function words(text) {
    return fold(text).split(/[^\p{L}\p{N}\-]+/u).map(function (w) { return w.replace(/^-+|-+$/g, ""); })
      .filter(function (w) { return w.length > 0; });
  }
  function shardKey(tok) {
    var key = Array.from(tok).slice(0, 2).join("");
    if (/^[a-z0-9]+$/.test(key)) { return key; }
    return Array.from(key).map(function (c) { return "u" + c.codePointAt(0).toString(16); }).join("-");
  }
  function shard(key) { return (window.SITEGEN_SEARCH || {})[key]; }
  function docChunk(c) { return (window.SITEGEN_SEARCH_DOCS || {})[c]; }

  function matches(word) {
    var table = shard(shardKey(word)) || {};
    var found = {};
    Object.keys(table).forEach(function (tok) {
      if (tok.lastIndexOf(word, 0) === 0) { table[tok].forEach(function (n) { found[n] = true; }); }
    });
    return found;
  }
  var seq = 0;
  function run(query) {
    var my = ++seq;
    var ws = words(query);
    list.textContent = "";
    if (!ws.length) { status.textContent = ""; return; }
    var keys = ws.map(shardKey).filter(function (k, i, a) { return a.indexOf(k) === i; });
    var missing = keys.filter(function (k) { return shardNames[k] && !shard(k); });
    if (missing.length) {
      status.textContent = "Searching…";
      var left = missing.length;
      missing.forEach(function (k) { load(base + "t-" + k + ".js", function () { if (--left === 0 && my === seq) { run(query); } }); });
      return;
    }
    var result = null;
    ws.forEach(function (w) {
      var m = matches(w);
      if (result === null) { result = m; } else {
        var both = {};
        Object.keys(result).forEach(function (n) { if (m[n]) { both[n] = true; } });
        result = both;
      }
    });
    var hits = Object.keys(result || {}).map(Number).sort(function (a, b) { return a - b; });
    var shown = hits.slice(0, MAX_SHOWN);
    var chunks = shown.map(function (n) { return Math.floor(n / meta.doc_chunk); })
      .filter(function (c, i, a) { return a.indexOf(c) === i && !docChunk(c); });
    if (chunks.length) {
      var left2 = chunks.length;
      chunks.forEach(function (c) {
        load(base + "docs-" + ("00" + c).slice(-3) + ".js", function () { if (--left2 === 0 && my === seq) { run(query); } });
      });
      return;
    }
    shown.forEach(function (n) {
      var doc = docChunk(Math.floor(n / meta.doc_chunk))[n % meta.doc_chunk];
      var li = document.createElement("li");
      li.className = doc[0] === "a" ? "result-artwork" : "result-drawing";
      var a = document.createElement("a");
      a.href = root + doc[3];
      a.textContent = doc[1];
      var detail = document.createElement("span");
      detail.className = "count";
      detail.textContent = " " + doc[2];
      li.appendChild(a); li.appendChild(detail);
      list.appendChild(li);
    });
    status.textContent = hits.length === 0 ? "Nothing found for “" + query + "”." :
      hits.length + (hits.length === 1 ? " result" : " results") + " for “" + query + "”" +
      (hits.length > MAX_SHOWN ? "; the first " + MAX_SHOWN + " are shown, add words to narrow it down." : ".");
  }
  // The query from the address: "#q=" (kept while searching on this page) or "?q=" (from the search box of any page).
  function fromAddress() {
    var m = /(?:^#|&)q=([^&]*)/.exec(window.location.hash) || /(?:^\?|&)q=([^&]*)/.exec(window.location.search);
    return m ? decodeURIComponent(m[1].replace(/\+/g, " ")) : "";
  }
  form.hidden = false;
  form.addEventListener("submit", function (evt) {
    evt.preventDefault();
    var q = input.value.trim();
    try { history.replaceState(null, "", "#q=" + encodeURIComponent(q)); } catch (e) { window.location.hash = "q=" + encodeURIComponent(q); }
    run(q);
  });
  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { run(input.value.trim()); }, 200);
  });
  var initial = fromAddress();
  if (initial) { input.value = initial; run(initial); }
})();
