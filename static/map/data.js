// @ts-check
/* The map's data: the points (decoded from data/map/points-NNN.js), the grid that finds the items of an
   area, the colours and filters, the atlas sheets, the labels (loaded on demand) and the other layouts. */

// ------------------------------------------------------------ data
var n = 0, Q = 0;   // the item count; the quantised coordinates run from 0 to Q
var QX = new Uint16Array(0), QY = new Uint16Array(0), XY = new Uint16Array(0);
/** @type {Object<string, Uint16Array>} */
var F = {};
/** @type {Object<string, SiteMapFacet>} */
var facetByName = {};
// points whose picture could not be made: drawn as a dot, preview shows the label only
var noThumb = new Uint8Array(0);
/** @type {SiteAtlas} */
var OV;
/** @type {SiteAtlas} */
var DET;
// the detail sheet (one per tile of the map) that holds each point's picture
var detOf = new Int32Array(0);

function initData() {
  n = M.count; Q = M.quant;
  QX = new Uint16Array(n); QY = new Uint16Array(n); XY = new Uint16Array(2 * n);
  M.facets.forEach(function (f) { F[f.name] = new Uint16Array(n); facetByName[f.name] = f; });
  noThumb = new Uint8Array(n);
  (M.no_thumb || []).forEach(function (i) { noThumb[i] = 1; });
  // a tiled map has no overview sheet: seen from afar, its picture tiles show every item (tiles.js)
  OV = M.tiles ? { files: [], cell: 0, per_row: 1, per_sheet: 1 } : M.atlas[0];
  DET = M.tiles ? M.atlas[0] : M.atlas[1];
  initTiles();
  detOf = new Int32Array(n);
  if (DET) {
    var starts = DET.starts;
    starts.forEach(function (start, s) { detOf.fill(s, start, s + 1 < starts.length ? starts[s + 1] : n); });
  }
  cellItems = new Int32Array(n);
  layouts = M.layouts || [];
  state.layout = layouts.length ? layouts[0].name : "";
  visible = new Uint8Array(n); colour32 = new Uint32Array(n);
  ovLeft = OV.files.length;
  FIELDS = M.facets.map(function (f) { return f.name; });
}

/**
 * @param {number} c
 * @param {string} text
 */
function decodeChunk(c, text) {
  var start = c * M.chunk_size, len = Math.min(M.chunk_size, n - start);
  var got = decodePoints(text, len, M.facets.map(function (f) { return Boolean(f.wide); }));
  QX.set(got.x, start);
  QY.set(got.y, start);
  M.facets.forEach(function (f, k) { F[f.name].set(got.columns[k], start); });
}
/** @type {Uint16Array[] | null} */
var similarity = null;   // the first layout's coordinates, kept to switch back without loading again
/** @param {string} text */
function decodeLayout(text) {
  var got = decodePoints(text, n, []);
  QX.set(got.x);
  QY.set(got.y);
}

// ------------------------------------------------------------ hit-testing grid
var G = 128, SHIFT = 9;   // 65536 / 128 = 512 = 1 << 9
var cellStart = new Int32Array(G * G + 1), cellItems = new Int32Array(0);
// Only the items loaded are placed (on a tiled map, a few thousand of a million): the loops run over their ranges.
function buildGrid() {
  var counts = new Int32Array(G * G), i, r, end;
  cellStart[0] = 0;
  for (r = 0; r < loadedRanges.length; r++) {
    for (i = loadedRanges[r][0], end = loadedRanges[r][1]; i < end; i++) { counts[(QX[i] >> SHIFT) + (QY[i] >> SHIFT) * G]++; }
  }
  for (i = 0; i < G * G; i++) { cellStart[i + 1] = cellStart[i] + counts[i]; }
  var fill = cellStart.slice(0, G * G);
  for (r = 0; r < loadedRanges.length; r++) {
    for (i = loadedRanges[r][0], end = loadedRanges[r][1]; i < end; i++) {
      cellItems[fill[(QX[i] >> SHIFT) + (QY[i] >> SHIFT) * G]++] = i;
      XY[2 * i] = QX[i]; XY[2 * i + 1] = QY[i];
    }
  }
}

// ------------------------------------------------------------ colours
var PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
               "#bcbd22", "#393b79", "#637939", "#843c39"];
var OTHER = "#9a9a9a", NONE = "#cfcac2";
var KIND = { d: "#b45309", a: "#1d4ed8" };
function rgb32(hex) {   // RGBA in memory: little-endian uint32 = A B G R
  var v = parseInt(hex.slice(1), 16);
  return (0xff << 24 | (v & 0xff) << 16 | (v & 0xff00) | (v >> 16 & 0xff)) >>> 0;
}
var cssCache = {};
function css32(c) {
  if (!cssCache[c]) { cssCache[c] = "rgb(" + (c & 0xff) + "," + (c >> 8 & 0xff) + "," + (c >> 16 & 0xff) + ")"; }
  return cssCache[c];
}
function ramp(t) {   // a viridis-like ramp from dark blue to yellow for years
  var stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  var p = Math.min(0.9999, Math.max(0, t)) * (stops.length - 1), i = Math.floor(p), f = p - i;
  var c = stops[i].map(function (a, k) { return Math.round(a + (stops[i + 1][k] - a) * f); });
  return "#" + c.map(function (v) { return ("0" + v.toString(16)).slice(-2); }).join("");
}
var legend = [];
function computeColours() {
  var f = facetByName[state.color], table = new Array(f.values.length), i;
  legend = [];
  if (f.name === "kind") {
    f.values.forEach(function (v, k) { table[k] = KIND[v] || NONE; if (KIND[v] && f.counts[k]) { legend.push([table[k], f.labels[k], f.counts[k]]); } });
  } else if (f.name === "year") {
    var m = f.values.length - 1;
    f.values.forEach(function (v, k) { table[k] = k === 0 ? NONE : ramp(m > 1 ? (k - 1) / (m - 1) : 0.5); });
    f.values.forEach(function (v, k) { if (k > 0 && f.counts[k]) { legend.push([table[k], f.labels[k], f.counts[k]]); } });
  } else {
    // The largest groups get a colour of their own, the rest share grey.
    var order = f.values.map(function (v, k) { return k; }).filter(function (k) { return k > 0 && f.counts[k] > 0; });
    order.sort(function (a, b) { return f.counts[b] - f.counts[a] || a - b; });
    for (i = 0; i < table.length; i++) { table[i] = OTHER; }
    var others = 0;
    order.forEach(function (k, r) {
      if (r < PALETTE.length) { table[k] = PALETTE[r]; legend.push([PALETTE[r], f.labels[k], f.counts[k]]); } else { others += f.counts[k]; }
    });
    if (others) { legend.push([OTHER, t("Others"), others]); }
  }
  table[0] = NONE;
  if (f.counts[0]) { legend.push([NONE, f.labels[0], f.counts[0]]); }
  colourTable = table.map(rgb32);
  loadedRanges.forEach(function (r) { colourRange(r[0], r[1]); });
  renderLegend();
  base.ok = false;
}
var colourTable = [0];
/**
 * @param {number} start
 * @param {number} end
 */
function colourRange(start, end) {
  var col = F[state.color];
  for (var i = start; i < end; i++) { colour32[i] = colourTable[col[i]]; }
  attributesChanged = true;
}
function renderLegend() {
  if (!legendEl) { return; }
  legendEl.textContent = "";
  legend.forEach(function (e) {
    var li = document.createElement("li"), sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.backgroundColor = e[0];
    li.appendChild(sw);
    li.appendChild(document.createTextNode(e[1] + " (" + e[2] + ")"));
    legendEl.appendChild(li);
  });
}

// ------------------------------------------------------------ filters
function computeVisible() {
  nVisible = 0;
  loadedRanges.forEach(function (r) { visibleRange(r[0], r[1]); });
  showCount();
  base.ok = false;
}
/** @returns {Array<[Uint16Array, number]>} each filter's column and the value it keeps */
function activeFilters() {
  /** @type {Array<[Uint16Array, number]>} */
  var active = [];
  M.facets.forEach(function (f) {
    var v = state.filters[f.name];
    if (v !== undefined && v !== "") {
      var k = f.values.indexOf(v);
      active.push([F[f.name], k]);   // k = -1 (unknown value) hides everything, as it should
    }
  });
  return active;
}
/**
 * Which items of [start, end), all loaded, the filters keep; counted into nVisible.
 * @param {number} start
 * @param {number} end
 */
function visibleRange(start, end) {
  var active = activeFilters();
  for (var i = start; i < end; i++) {
    var ok = 1;
    for (var a = 0; a < active.length; a++) { if (active[a][0][i] !== active[a][1]) { ok = 0; break; } }
    visible[i] = ok; nVisible += ok;
  }
  attributesChanged = true;
}
function showCount() {
  var active = activeFilters();
  if (countEl && tiled && active.length) {   // only the items loaded so far can be filtered
    countEl.textContent = t("Filters apply to the items drawn one by one: %(shown)s of the %(loaded)s loaded so far match.",
                            {shown: nVisible, loaded: nLoaded});
    countEl.setAttribute("data-visible", String(nVisible));
  } else if (countEl) {
    var shown = tiled ? n : nVisible;   // seen from afar, the picture tiles show every item
    countEl.textContent = t("Showing %(shown)s of %(total)s items.", {shown: shown, total: n});
    countEl.setAttribute("data-visible", String(shown));
  }
  attributesChanged = true;
}

// ------------------------------------------------------------ walking the items of an area
// Calls visit(i) for every visible item in the grid cells covering data box [x0, x1] x [y0, y1];
// visit returning true stops the walk.
function toCell(v) { return Math.max(0, Math.min(G - 1, Math.floor((v + 1) / 2 * Q) >> SHIFT)); }
function visitCells(x0, x1, y0, y1, visit) {
  var cx0 = toCell(x0), cx1 = toCell(x1), cy0 = toCell(y0), cy1 = toCell(y1);
  for (var cy = cy0; cy <= cy1; cy++) {
    for (var cx = cx0; cx <= cx1; cx++) {
      var c = cx + cy * G;
      for (var k = cellStart[c]; k < cellStart[c + 1]; k++) {
        if (visible[cellItems[k]] && visit(cellItems[k])) { return; }
      }
    }
  }
}
// Visible items inside the canvas box [px0, px1] x [py0, py1]; null when there are more than limit.
function itemsInBox(px0, px1, py0, py1, limit) {
  var out = [], full = false;
  visitCells(dataX(px0), dataX(px1), dataY(py1), dataY(py0), function (i) {
    var px = sx(QX[i]), py = sy(QY[i]);
    if (px < px0 || px > px1 || py < py0 || py > py1) { return false; }
    out.push(i);
    full = out.length > limit;
    return full;
  });
  return full ? null : out;
}
function itemsInView(marginPx, limit) { return itemsInBox(-marginPx, W + marginPx, -marginPx, H + marginPx, limit); }

// ------------------------------------------------------------ pictures decoded before they are drawn
// A browser decodes a picture the first time a canvas draws it, in that frame, and a detail sheet takes tens of
// milliseconds: the map's own files are fetched and decoded into an ImageBitmap off the page's thread instead,
// and count as ready only then. A picture not ready is drawn from what stands in for it (a tile above, the
// overview). From file://, where fetch() is refused, and for pictures elsewhere (the thumbnails may be on
// another server), the picture is loaded as an image and decoded when first drawn.
var frameNo = 1;   // counts the frames drawn: each picture remembers the last one that drew it
// Asking for a file (a fetch, a script tag) takes the page a fraction of a millisecond, and a frame may need
// dozens: they are asked for in the order wanted when the page is idle between frames (where the browser
// says so; elsewhere about a millisecond's worth at a time), so that a frame is not kept waiting.
/** @type {Array<function(): void>} */
var askQueue = [];
var askWaiting = false;
/** @param {function(): void} ask */
function askSoon(ask) {
  askQueue.push(ask);
  if (!askWaiting) { askWaiting = true; askWhenIdle(); }
}
function askWhenIdle() {
  if (typeof window.requestIdleCallback === "function") {
    window.requestIdleCallback(askQueued, { timeout: 100 });
  } else {
    window.setTimeout(function () { askQueued(null); }, 0);
  }
}
/** @param {IdleDeadline | null} idle */
function askQueued(idle) {
  var t0 = performance.now(), done = 0;
  while (askQueue.length) {
    var more = idle && !idle.didTimeout ? idle.timeRemaining() > 1 : performance.now() - t0 < 1 || done < 2;
    if (!more) { break; }
    askQueue.shift()();
    done++;
  }
  askWaiting = askQueue.length > 0;
  if (askWaiting) { askWhenIdle(); }
}
/**
 * @param {string} src
 * @param {function(SiteMapPicture): void} done
 * @returns {SiteMapPicture}
 */
function loadPicture(src, done) {
  /** @type {SiteMapPicture} */
  var pic = { ready: false, failed: false, image: null, width: 0, height: 0, used: frameNo };
  /** @param {ImageBitmap | HTMLImageElement} image */
  function arrived(image) {
    pic.image = image; pic.width = image.width; pic.height = image.height; pic.ready = true;
    done(pic);
  }
  function asImage() {
    var img = new Image();
    img.onload = function () { arrived(img); };
    img.onerror = function () { pic.failed = true; done(pic); };
    img.src = src;
  }
  askSoon(function () {
    if (pic.failed) { done(pic); return; }   // let go before it was asked for
    if (src.indexOf(dataBase) !== 0 || window.location.protocol === "file:" || typeof window.createImageBitmap !== "function") {
      asImage();
      return;
    }
    window.fetch(src).then(function (r) {
      if (!r.ok) { throw new Error(r.statusText); }
      return r.blob();
    }).then(function (blob) { return window.createImageBitmap(blob); }).then(arrived, asImage);
  });
  return pic;
}
/**
 * What a canvas draws of a picture that is ready.
 * @param {SiteMapPicture} pic
 * @returns {ImageBitmap | HTMLImageElement}
 */
function drawable(pic) { return pic.image; }
/**
 * Lets go of the pictures drawn least recently once those decoded hold more than budget pixels, never one
 * drawn in the last frame (they come back from the browser's cache when they are needed again).
 * @param {Object<string, SiteMapPicture>} pics
 * @param {number} budget
 */
function forgetPictures(pics, budget) {
  var keys = Object.keys(pics), total = 0;
  keys.forEach(function (k) { if (pics[k].ready) { total += pics[k].width * pics[k].height; } });
  if (total <= budget) { return; }
  keys.sort(function (a, b) { return pics[a].used - pics[b].used; });
  for (var j = 0; j < keys.length && total > budget; j++) {
    var pic = pics[keys[j]];
    if (pic.used >= frameNo - 1) { break; }
    if (pic.ready) { total -= pic.width * pic.height; }
    var image = pic.image;
    if (image && "close" in image) { image.close(); }
    if (pic.tex && gl) { gl.deleteTexture(pic.tex); pic.tex = null; }
    pic.image = null; pic.ready = false; pic.failed = true;
    delete pics[keys[j]];
  }
}

// ------------------------------------------------------------ atlas sheets
/** @type {SiteMapPicture[]} */
var ovSheets = [];
/** @type {Object<string, SiteMapPicture>} */
var detSheets = {};
var ovLeft = 0;
// Detail sheets are large (up to 2048 x 2048, 16 MB decoded): about eight of the largest are kept decoded,
// more while the view shows more.
var SHEET_PIXELS = 32 << 20;
function detSheet(s) {
  if (!detSheets[s]) {
    detSheets[s] = loadPicture(dataBase + DET.files[s], function () {
      forgetPictures(detSheets, SHEET_PIXELS);
      if (tiled) { redrawLeaf(s); } else { requestDraw(); }
    });
  }
  detSheets[s].used = frameNo;
  return detSheets[s];
}
/**
 * Which detail sheets the current view wants (loading them as a side effect); null: the overview suffices.
 * @param {number} size
 * @param {number[] | null} inView
 * @returns {Object<number, boolean> | null}
 */
function wantedDetail(size, inView) {
  if (!DET || size <= OV.cell * 1.25 || !inView) { return null; }
  /** @type {Object<number, boolean>} */
  var want = {};
  inView.forEach(function (i) { want[detOf[i]] = true; });
  Object.keys(want).forEach(function (s) { detSheet(+s); });
  return want;
}
// Where to read point i's picture: [image, sx, sy, cell] or null (no sheet loaded for it).
function source(i, useDetail) {
  var img, k, L;
  if (useDetail) {
    img = detSheets[detOf[i]];
    if (img && img.ready) { L = DET; k = i - DET.starts[detOf[i]]; }
  }
  if (!L) { img = ovSheets[Math.floor(i / OV.per_sheet)]; L = OV; k = i % L.per_sheet; }
  if (!img || !img.ready) { return null; }
  return [drawable(img), (k % L.per_row) * L.cell, Math.floor(k / L.per_row) * L.cell, L.cell];
}

// ------------------------------------------------------------ labels (loaded on demand)
var labelChunks = {}, countryNames = null;
// A drawing named as the archive names its scans has no label in the files: it is spelt from its id
// (core/ids.js), with the country names of the map's colours.
/** @param {string} id */
function spelt(id) {
  if (!countryNames) {
    var f = facetByName.country;
    countryNames = {};
    f.values.forEach(function (v, k) { countryNames[v] = f.labels[k]; });
  }
  var got = spellDrawing(id, countryNames);
  return got ? got.label : id;
}
function labelsOf(i, then) {
  var c = Math.floor(i / M.label_chunk_size), got = (window.SITEGEN_MAP_LABELS || {})[c];
  if (got) {
    var k = i % M.label_chunk_size, id = got.ids[k], label = got.labels[k];
    // an artwork's id is written without what its artist's artworks' ids begin with (see mapdata.py)
    if (kindOf(i) === "a") { id = M.artwork_id_prefix[F.artist[i]] + id; }
    // null: a drawing spelt from its id; [title] or []: an artwork, its artist the one of its point (mapdata.py)
    if (label === null) { label = spelt(id); } else if (typeof label !== "string") {
      var artist = facetByName.artist.values[F.artist[i]];   // [] : the title spelt from the id (core/ids.js)
      label = (label.length ? label[0] : spellTitle(id, artist)) + " (" + artist + ")";
    }
    return { id: id, label: label };
  }
  if (!labelChunks[c]) {
    labelChunks[c] = [];
    loadScript(dataBase + chunkFile("labels-", c), function () {
      var cbs = labelChunks[c]; labelChunks[c] = null; cbs.forEach(function (f) { f(); });
    });
  }
  if (then && labelChunks[c]) { labelChunks[c].push(then); }
  return null;
}
function kindOf(i) { return facetByName.kind.values[F.kind[i]]; }
function pageOf(i, id) { return root + pageUrl(M.pages[kindOf(i)], id); }

// ------------------------------------------------------------ layouts
function layoutByName(name) {
  for (var k = 0; k < layouts.length; k++) { if (layouts[k].name === name) { return layouts[k]; } }
  return null;
}
function applyLayout(name, then) {
  var L = layoutByName(name);
  if (!L) { then(); return; }
  if (!similarity) { similarity = [QX.slice(), QY.slice()]; }
  function use(text) {
    if (text) { decodeLayout(text); } else { QX.set(similarity[0]); QY.set(similarity[1]); }
    buildGrid(); positionsChanged = true; base.ok = false; then();
  }
  if (!L.file) { use(null); return; }
  var got = (window.SITEGEN_MAP_LAYOUTS || {})[L.name];
  if (got) { use(got); return; }
  loadScript(dataBase + L.file, function () { use((window.SITEGEN_MAP_LAYOUTS || {})[L.name] || null); });
}
