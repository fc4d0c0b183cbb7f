// @ts-check
/* The lists under a drawing: its other suggested artworks and its similar drawings, drawn from the shared
   data files in data/related/ (see generator/site/related.py). The files are loaded with script tags, so this
   works from file:// too. The page holds <div id="related" data-id="DRAWING_ID" data-skip="RANK">, RANK being
   the suggestion already shown beside the drawing (0: none). It also puts in the header's links, and loads the
   page's other scripts (named in its data-with attribute). */
(function () {
  "use strict";
  var box = document.getElementById("related");
  var me = document.currentScript;
  if (!box || !me) { return; }
  var root = (me.getAttribute("src") || "").replace(/static\/related\.js$/, "");
  // The page's other scripts, loaded from here so that 100,000 pages carry one script tag, not several:
  // the header's search box (search.js), thumbnails in lists (cards.js), the overlay comparing the two pictures
  // (overlay.js), and review.js when the site has it (it adds confirm and reject to the suggestions). Each works
  // whichever loads first.
  (me.getAttribute("data-with") || "").split(" ").forEach(function (name) {
    if (!name) { return; }
    var s = document.createElement("script");
    if (name === "search") {  // search.js finds the site's root on its own script tag, as on the other pages
      s.id = "search-script";
      s.setAttribute("data-root", root);
    }
    s.src = root + "static/" + name + ".js";
    document.head.appendChild(s);
  });
  var id = box.getAttribute("data-id");
  var skip = parseInt(box.getAttribute("data-skip") || "0", 10);
  var store = function () { return window.SITEGEN_RELATED || {}; };

  function load(name, key, done) {
    if (store()[key] !== undefined) { done(); return; }
    var src = root + "data/related/" + name + ".js";
    loadScript(src, function (ok) {
      if (ok) { done(); } else { say(t("The lists of similar artworks and drawings could not be loaded (%(address)s).", {address: new URL(src, document.baseURI).href})); }
    });
  }
  function say(text) {
    box.appendChild(el("p", {"class": "note"}, text));
  }
  function sim(v) { return formatDecimal(v / 1000, 3); }
  // Similarities are stored as the first one, in thousandths, then each one's fall from the one before (related.py).
  function similarities(falls) {
    var now = 0;
    return falls.map(function (f, k) { now = k ? now - f : f; return now; });
  }
  function spelt(did, countries) {
    var got = spellDrawing(did, countries);
    return got ? got.label : did;
  }

  function artworkList(entry, artworks) {
    var extra = entry[4] || {}, confirmed = extra.c || [], sims = similarities(entry[1]);
    var ol = el("ol", {"class": "cards strip"}), shown = 0, ranked = 0;
    entry[0].forEach(function (j, k) {
      var rank = k + 1, a = artworks(j), isConfirmed = confirmed.indexOf(j) >= 0;
      if (isConfirmed) { ranked++; }
      if (rank === skip || !a) { return; }
      var li = el("li");
      var cls = (isConfirmed ? "confirmed" : "") + (a[4] ? "" : " no-pic");
      if (cls.trim()) { li.className = cls.trim(); }
      if (!isConfirmed) { li.setAttribute("data-pair", id + " " + a[0]); }
      li.appendChild(el("a", {href: root + pageUrl(PAGE_FOLDERS.a, a[0])}, rank + ". " + a[1]));
      li.appendChild(document.createTextNode(" " + a[2] + (a[3] ? ", " + a[3] : "") + " · " + sim(sims[k]) +
                                              (isConfirmed ? " · " + t("confirmed") : "")));
      ol.appendChild(li);
      shown++;
    });
    var note = confirmed.length ? t("Ranked by the model, not confirmed (unless marked); similarity runs from -1 to 1.") :
      t("Ranked by the model, not confirmed; similarity runs from -1 to 1.");
    if (confirmed.length && ranked < confirmed.length) {
      note += " " + (confirmed.length > 1 ? t("The model does not rank every confirmed artwork among these %(n)s.", {n: entry[0].length}) :
        t("The model does not rank the confirmed artwork among these %(n)s.", {n: entry[0].length}));
    }
    box.appendChild(el("h2", {}, skip ? t("Other similar artworks") : t("Most similar artworks")));
    box.appendChild(el("p", {"class": "note"}, note));
    if (shown) { box.appendChild(ol); }
  }

  // The suggestion shown beside the drawing can be reviewed too (static/review.js), unless it is confirmed.
  function offerFeatured(entry, artworks) {
    var figure = document.querySelector(".pair-artwork"), j = entry[0][skip - 1];
    var confirmed = (entry[4] || {}).c || [];
    if (figure && skip > 0 && artworks(j) && confirmed.indexOf(j) < 0) {
      figure.setAttribute("data-pair", id + " " + artworks(j)[0]);
    }
  }

  function drawingList(entry, countries) {
    if (!entry[2].length) { return; }
    var extra = entry[4] || {}, labels = extra.l || {}, noPic = extra.n || [], sims = similarities(entry[3]);
    var ul = el("ul", {"class": "cards"});
    entry[2].forEach(function (did, k) {
      var li = el("li", noPic.indexOf(did) >= 0 ? {"class": "no-pic"} : {});
      li.appendChild(el("a", {href: root + pageUrl(PAGE_FOLDERS.d, did)}, labels[did] || spelt(did, countries)));
      li.appendChild(document.createTextNode(" · " + sim(sims[k])));
      ul.appendChild(li);
    });
    box.appendChild(el("h2", {}, t("Similar drawings")));
    box.appendChild(ul);
  }

  function draw() {
    var data = store(), meta = data.meta, chunk = data["d" + chunkOf(id, meta.chunks)] || {};
    var entry = chunk[id];
    if (!entry) { say(t("This drawing is missing from the lists of similar artworks; rebuild the site.")); return; }
    var per = meta.artwork_chunk, wanted = {};
    entry[0].forEach(function (j) { wanted[Math.floor(j / per)] = true; });
    var names = Object.keys(wanted), left = names.length;
    // A row of the artworks' table, spelt out: [id, title, artist, year, has a picture].
    var artworks = function (j) {
      var chunk = store()["a" + Math.floor(j / per)], row = chunk && chunk.rows[j % per];
      if (!row) { return row; }
      var artist = chunk.artists[row[2]];   // [name, what the ids of its artworks in this file begin with]
      var aid = artist[1] + row[0];   // a title of 0: spelt from the artist and the id (core/ids.js)
      return [aid, row[1] === 0 ? spellTitle(aid, artist[0]) : row[1], artist[0], String(row[3]), row.length > 4 ? row[4] : 1];
    };
    var finish = function () {
      if (--left > 0) { return; }
      Array.prototype.forEach.call(box.querySelectorAll("noscript"), function (n) { n.remove(); });
      offerFeatured(entry, artworks);
      artworkList(entry, artworks);
      drawingList(entry, meta.countries);
      if (window.SITEGEN_CARDS) { window.SITEGEN_CARDS(box); }
    };
    if (!left) { left = 1; finish(); return; }
    names.forEach(function (n) { load("a-" + pad3(Number(n)), "a" + n, finish); });
  }

  // The header's links (the page carries one, to the home page).
  function fillNav(items) {
    var nav = document.getElementById("nav");
    if (!nav || !nav.hasAttribute("data-later")) { return; }
    nav.textContent = "";
    items.forEach(function (item, k) {
      if (k) { nav.appendChild(document.createTextNode(" ")); }
      nav.appendChild(el("a", {href: root + item[1]}, item[0]));
    });
    nav.removeAttribute("data-later");
  }

  load("meta", "meta", function () {
    fillNav(store().meta.nav);
    var c = chunkOf(id, store().meta.chunks);
    load("d-" + pad3(c), "d" + c, draw);
  });
})();
