// @ts-check
/* The map: every drawing and artwork placed by the layout, drawn as its own picture from the first frame.
 *
 * Data come from data/map/*.js (see generator/site/mapdata.py), loaded with <script> tags so the map also
 * works from file://. Pictures come from atlas sheets (generator/pipeline/atlas.py): the overview sheet, loaded
 * before the first frame, holds every item; detail sheets, one per tile of the map, are loaded for the tiles
 * one zooms into; closer still, each item's own thumbnail is drawn. With WebGL every item is one textured point
 * sprite, so 100,000 pictures move smoothly; without WebGL (or from file://, where WebGL may not read
 * pictures) the same pictures are drawn on a 2D canvas. A second, transparent canvas on top carries what
 * changes often: the pointed item, the selection box, group labels.
 * A uniform grid over the quantised coordinates answers "which items are here" without scanning all.
 * The view (layout, centre, zoom, colour, filters) lives in the address, so it can be shared.
 *
 * A map too large to load whole is drawn from picture tiles until one zooms in (tiles.js).
 * The build joins the map's files into static/map.js, in this order: data.js (points, grid, colours, filters,
 * labels, layouts), view.js (scale, positions, frames), webgl.js, canvas2d.js (the 2D canvas and the overlay),
 * tiles.js (a tiled map),
 * input.js (pointer, wheel, keys, controls, selection), address.js (the view kept in the address), and this
 * file, which starts it all. The other files only declare: their top-level code uses nothing of the page's
 * data, which initData() and the listen...() functions take up once this file finds the map on the page.
 */
/** @type {SiteMapMeta} */
var M = window.SITEGEN_MAP;
var canvas = /** @type {HTMLCanvasElement} */ (document.getElementById("map"));
var overlay = /** @type {HTMLCanvasElement | null} */ (document.getElementById("map-overlay"));
var root = "../", dataBase = "../data/map/";
/** @param {string} id */
function $(id) { return document.getElementById(id); }
var countEl = $("map-count"), labelEl = /** @type {HTMLElement} */ ($("map-label")), legendEl = $("map-legend");
var preview = $("map-preview");
// The preview's picture is made here, not in the page: an img must have a src, and there is none before a hover.
var previewImg = document.createElement("img");
previewImg.id = "map-preview-img"; previewImg.alt = ""; previewImg.width = 96; previewImg.height = 96;
if (preview) { preview.insertBefore(previewImg, preview.firstChild); }
var previewLabel = /** @type {HTMLElement} */ ($("map-preview-label"));
var controls = /** @type {HTMLElement} */ ($("map-controls"));
var octx = /** @type {CanvasRenderingContext2D} */ (overlay ? overlay.getContext("2d") : null);

// ------------------------------------------------------------ start: points and overview sheets, then draw
function start() {
  buildGrid();
  readHash();
  if (!tiled && webglWanted() && initGL()) { /* WebGL draws the pictures */ } else {
    // every frame covers the canvas (white, then the pictures): an opaque canvas is shown without blending
    ctx = canvas.getContext("2d", { alpha: false });
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  }
  wireControls();
  syncControls();
  computeColours();
  computeVisible();
  applyLayout(state.layout, function () {
    lastHash = window.location.hash || null;
    ready = true;
    canvas.style.cursor = "grab";
    draw();
  });
}
// The overview sheets load alongside the points: the first frame waits for both.
var waiting = 0;
function arrived() { if (--waiting === 0) { start(); } }
function begin() {
  waiting = M.chunks + 1;
  if (ovLeft === 0) { arrived(); }
  OV.files.forEach(function (f, s) {
    ovSheets[s] = loadPicture(dataBase + f, function () { if (--ovLeft === 0) { arrived(); } });
  });
  for (var c = 0; c < M.chunks; c++) {
    (function (c) {
      loadScript(dataBase + chunkFile("points-", c), function (ok) {
        var text = (window.SITEGEN_MAP_POINTS || {})[c];
        if (ok && text) { decodeChunk(c, text); delete window.SITEGEN_MAP_POINTS[c]; }
        arrived();
      });
    })(c);
  }
  window.SITEGEN_MAP_API = api();
}
var tainted = false;
// For tests and the benchmark: where an item is drawn (in page pixels), the state, timings.
function api() {
  return {
    position: function (i) {
      var r = canvas.getBoundingClientRect();
      return { x: r.left + canvas.clientLeft + sx(QX[i]) * canvas.clientWidth / W,
               y: r.top + canvas.clientTop + sy(QY[i]) * canvas.clientHeight / H };
    },
    visibleCount: function () { return nVisible; },
    isVisible: function (i) { return !!visible[i]; },
    isLoaded: function (i) { return !!loaded[i]; },
    state: function () { return JSON.parse(JSON.stringify(state)); },
    renderer: function () { return gl ? "webgl" : "2d"; },
    pictureSize: function () { return pictureSize() / dpr; },
    tiles: function () {   // the level of tiles drawn, whether all of the view's were in, how many are wanted still
      var names = Object.keys(tileImages);
      return { level: tiled ? tileLevel() : -1, complete: lastTilesComplete,
               loading: aheadWanted.length +
                 names.filter(function (k) { return !tileImages[k].ready && !tileImages[k].failed; }).length };
    },
    sheetsLoaded: function () { return Object.keys(detSheets).filter(function (s) { return detSheets[s].ready; }).length; },
    selected: function () { return selected.slice(); },
    item: function (i) { return labelsOf(i); },   // its id and label, null until its labels file is in
    drawMs: function () {   // one full frame, waiting for the graphics card to finish it
      base.ok = false;   // all of it drawn again, not the last frame kept
      var t0 = performance.now(); draw();
      if (gl) { gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4)); } else if (!tainted) {
        try { ctx.getImageData(0, 0, 1, 1); } catch (e) { tainted = true; }   // from file:// the pictures forbid it
      }
      return performance.now() - t0;
    },
    panFrames: function (frames) {   // the mean time between displayed frames while the view is dragged sideways
      return new Promise(function (resolve) {
        var k = 0, t0 = 0;
        benchPanning = true;
        function step() {
          if (k === 0) { t0 = performance.now(); }
          if (k === frames) {
            benchPanning = false;
            resolve((performance.now() - t0) / frames);
            requestDraw();
            return;
          }
          k++;
          state.x += 0.002;
          draw();
          window.requestAnimationFrame(step);
        }
        window.requestAnimationFrame(step);
      });
    },
    zoomFrames: function (frames) {   // the mean time between displayed frames while zooming in at the centre
      return new Promise(function (resolve) {
        var k = 0, t0 = 0, blank = 0;
        function step() {
          if (k === 0) { t0 = performance.now(); }
          if (k === frames) { resolve({ frame: (performance.now() - t0) / frames, blank: blank }); return; }
          k++;
          state.z *= 1.25;
          draw();
          if (tiled && !lastTilesComplete) { blank++; }
          window.requestAnimationFrame(step);
        }
        window.requestAnimationFrame(step);
      });
    },
    hitMs: function (px, py) { var t0 = performance.now(); nearest(px, py, hitRadius()); return performance.now() - t0; }
};
}

if (M && canvas) {
  root = canvas.getAttribute("data-root") || "../";
  dataBase = root + "data/map/";
  initData();
  listenGL();
  listenInput();
  listenAddress();
  begin();
}
