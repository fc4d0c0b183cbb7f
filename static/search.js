// @ts-check
/* Search, on every page: the header's search box (results shown while typing, Enter opens the search page)
   and the search page itself. Loads only the index pieces a query needs, with <script> tags (works from file://). */
(function () {
  "use strict";
  var me = document.getElementById("search-script");
  var root = (me && me.getAttribute("data-root")) || "";
  var base = root + "data/search/";
  var MAX_SHOWN = 100;
  var LIVE_SHOWN = 8;
  var finished = {};

  // Each file once: a file that could not be loaded (or lacked what it should hold) is not asked for again.
  /**
   * @param {string} src
   * @param {function(): void} done
   */
  function load(src, done) {
    if (finished[src]) { return; }
    loadScript(src, function () { finished[src] = true; done(); });
  }
  // Query words: the same folding and splitting as generator/site/search.py (core/text.js).
  var words = queryWords;
  // A shard lists the numbers held by one document each under "#" and their count of digits ("#6"), apart from
  // its words (see generator/site/search.py build_index); each list is read once.
  var NUMBERS = "#";
  var numbersOf = {};
  var chunks = {};
  function shard(key) { return (window.SITEGEN_SEARCH || {})[key]; }
  // A chunk's rows (an artist's artworks, drawings) are undone once, when it is first read.
  function docChunk(c) {
    var chunk = (window.SITEGEN_SEARCH_DOCS || {})[c];
    if (chunk && !chunks[c]) { chunks[c] = {artists: chunk.artists, docs: expandDocs(chunk.docs)}; }
    return chunks[c];
  }
  function matches(word) {
    var key = shardKey(word), table = shard(key) || {};
    var found = {};
    Object.keys(table).forEach(function (tok) {
      if (tok.charAt(0) === NUMBERS) {
        var listed = numbersOf[key + tok] || (numbersOf[key + tok] = undoNumbers(table[tok], Number(tok.slice(1))));
        listed.forEach(function (pair) { if (pair[0].lastIndexOf(word, 0) === 0) { found[pair[1]] = true; } });
        return;
      }
      if (tok.lastIndexOf(word, 0) !== 0) { return; }
      // the list holds gaps between document numbers (see generator/site/search.py)
      undoGaps(table[tok]).forEach(function (n) { found[n] = true; });
    });
    return found;
  }
  // Calls done(total, docs) with the first `limit` documents matching every word; null when not worth telling.
  function find(query, limit, done) {
    var meta = window.SITEGEN_SEARCH_META;
    if (!meta) { load(base + "meta.js", function () { if (window.SITEGEN_SEARCH_META) { find(query, limit, done); } }); return; }
    var ws = words(query);
    if (!ws.length) { done(0, []); return; }
    var keys = ws.map(shardKey).filter(function (k, i, a) { return a.indexOf(k) === i; });
    var missing = keys.filter(function (k) { return meta.shards.indexOf(k) >= 0 && !shard(k); });
    if (missing.length) {
      var left = missing.length;
      missing.forEach(function (k) { load(base + "t-" + k + ".js", function () { if (--left === 0) { find(query, limit, done); } }); });
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
    var shown = hits.slice(0, limit);
    var chunks = shown.map(function (n) { return Math.floor(n / meta.doc_chunk); })
      .filter(function (c, i, a) { return a.indexOf(c) === i && !docChunk(c); });
    if (chunks.length) {
      var left2 = chunks.length;
      chunks.forEach(function (c) {
        load(base + "docs-" + pad3(c) + ".js", function () { if (--left2 === 0) { find(query, limit, done); } });
      });
      return;
    }
    done(hits.length, shown.map(function (n) {
      var chunk = docChunk(Math.floor(n / meta.doc_chunk)), doc = chunk.docs[n % meta.doc_chunk];
      // an artwork names its artist by number in the chunk's list, which also holds the start of its id
      // (see search.py doc_chunk)
      if (doc[0] !== "a" || doc.length !== 5) { return doc; }
      var artist = chunk.artists[Number(doc[3])], id = artist[1] + doc[1];
      return ["a", id, doc[2] === 0 ? spellTitle(id, artist[0]) : doc[2], artist[0], String(doc[4])];
    }));
  }
  // A drawing stored by its id alone: its label, detail and page follow from the id; an artwork stored by its
  // id, title, artist and date: its detail and page follow from them (see search.py doc_entry).
  function expand(doc) {
    if (doc[0] === "a" && doc.length === 5) {
      var art = window.SITEGEN_SEARCH_META;
      return ["a", doc[2], t("Artwork by %(artist)s", {artist: doc[3]}) + (doc[4] ? ", " + doc[4] : ""),
        pageUrl(art.artworks, doc[1])];
    }
    if (doc.length !== 2) { return doc; }
    var meta = window.SITEGEN_SEARCH_META, id = doc[1], spelt = spellDrawing(id, meta.countries);
    if (!spelt) { return [doc[0], id, "", pageUrl(meta.drawings, id)]; }
    return [doc[0], spelt.label, t("Age group %(group)s", {group: spelt.age}), pageUrl(meta.drawings, id)];
  }
  function resultItem(doc) {
    doc = expand(doc);
    var li = document.createElement("li");
    li.className = doc[0] === "a" ? "result-artwork" : "result-drawing";
    var a = document.createElement("a");
    a.href = root + doc[3];
    a.textContent = doc[1];
    var detail = document.createElement("span");
    detail.className = "count";
    detail.textContent = " " + doc[2];
    li.appendChild(a); li.appendChild(detail);
    return li;
  }
  function debounce(f) {
    var timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(f, 200); };
  }

  // ---- the search box in the header of every page
  // The form is made here rather than written into every page: without this script it could not work anyway.
  function headerForm() {
    var bar = document.querySelector("header.site-header");
    if (!bar) { return null; }
    var form = document.createElement("form");
    form.className = "site-search";
    form.setAttribute("role", "search");
    form.setAttribute("aria-label", t("Site search"));
    form.action = root + "search/index.html";
    var label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = "site-search-q";
    label.textContent = t("Search drawings and artworks");
    var input = document.createElement("input");
    input.id = "site-search-q";
    input.name = "q";
    input.type = "search";
    input.placeholder = t("Search drawings and artworks");
    input.autocomplete = "off";
    input.spellcheck = false;
    var button = document.createElement("button");
    button.type = "submit";
    button.textContent = t("Search");
    form.appendChild(label); form.appendChild(input); form.appendChild(button);
    bar.appendChild(form);
    return form;
  }
  function header() {
    var form = headerForm();
    if (!form) { return; }
    var input = form.querySelector("input");
    var live = document.createElement("div");
    live.className = "site-search-live";
    live.id = "site-search-live";
    live.hidden = true;
    var status = document.createElement("p");
    status.className = "site-search-status";
    status.setAttribute("aria-live", "polite");
    var list = document.createElement("ul");
    live.appendChild(status); live.appendChild(list);
    form.appendChild(live);
    var seq = 0;
    function close() { live.hidden = true; }
    function show() {
      // While typing, a last word of one letter would find nothing yet: leave it out until the next letter.
      var q = input.value.trim().replace(/(^|\s)\S$/u, "").trim(), my = ++seq;
      if (!q) { close(); status.textContent = ""; return; }
      find(q, LIVE_SHOWN, function (total, docs) {
        if (my !== seq) { return; }
        list.textContent = "";
        docs.forEach(function (doc) { list.appendChild(resultItem(doc)); });
        status.textContent = total === 0 ? t("Nothing found.") :
          (total > docs.length ? tn("%(num)s result; press Enter to see them all.", "%(num)s results; press Enter to see them all.", total) :
            tn("%(num)s result.", "%(num)s results.", total)) + " " +
          (docs.length === 1 ? t("Press the down arrow to reach it.") : t("Press the down arrow to reach them."));
        live.hidden = false;
      });
    }
    input.addEventListener("input", debounce(show));
    form.addEventListener("keydown", function (evt) {
      var links = Array.prototype.slice.call(list.querySelectorAll("a"));
      var at = links.indexOf(document.activeElement);
      if (evt.key === "Escape") { close(); input.focus(); } else if (evt.key === "ArrowDown" && !live.hidden && links.length) {
        evt.preventDefault();
        links[Math.min(at + 1, links.length - 1)].focus();
      } else if (evt.key === "ArrowUp" && at >= 0) {
        evt.preventDefault();
        if (at === 0) { input.focus(); } else { links[at - 1].focus(); }
      }
    });
    form.addEventListener("focusout", function (evt) { if (!form.contains(/** @type {Node | null} */ (evt.relatedTarget))) { close(); } });
    form.addEventListener("submit", function (evt) {
      evt.preventDefault();
      var q = input.value.trim();
      // form.action is the search page's address, resolved against this page (works from a subfolder and file://).
      window.location.href = form.action + (q ? "?q=" + encodeURIComponent(q) : "");
    });
  }

  // ---- the search page
  function page() {
    var form = document.getElementById("search-form");
    var input = /** @type {HTMLInputElement} */ (document.getElementById("search-q"));
    var status = document.getElementById("search-status");
    var list = document.getElementById("search-results");
    if (!form || !window.SITEGEN_SEARCH_META) { return; }
    var seq = 0;
    function run(query) {
      var my = ++seq;
      list.textContent = "";
      if (!words(query).length) { status.textContent = ""; return; }
      status.textContent = t("Searching…");
      find(query, MAX_SHOWN, function (total, docs) {
        if (my !== seq) { return; }
        docs.forEach(function (doc) { list.appendChild(resultItem(doc)); });
        status.textContent = total === 0 ? t("Nothing found for “%(query)s”.", {query: query}) :
          total > MAX_SHOWN ? tn("%(num)s result for “%(query)s”; the first %(shown)s are shown, add words to narrow it down.",
                                 "%(num)s results for “%(query)s”; the first %(shown)s are shown, add words to narrow it down.",
                                 total, {query: query, shown: MAX_SHOWN}) :
            tn("%(num)s result for “%(query)s”.", "%(num)s results for “%(query)s”.", total, {query: query});
      });
    }
    // The query from the address: "#q=" (kept while searching on this page) or "?q=" (from the header of any page).
    function fromAddress() {
      var m = /(?:^#|&)q=([^&]*)/.exec(window.location.hash) || /(?:^\?|&)q=([^&]*)/.exec(window.location.search);
      return m ? decodeURIComponent(m[1].replace(/\+/g, " ")) : "";
    }
    form.hidden = false;
    form.addEventListener("submit", function (evt) {
      evt.preventDefault();
      var q = input.value.trim();
      replaceAddress("#q=" + encodeURIComponent(q));
      run(q);
    });
    input.addEventListener("input", debounce(function () { run(input.value.trim()); }));
    var initial = fromAddress();
    if (initial) { input.value = initial; run(initial); }
  }

  header();
  page();
})();
