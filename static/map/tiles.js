// @ts-check
/* A map too large to load whole (M.tiles, see generator/pipeline/maptiles.py): seen from afar it is drawn from
   picture tiles, as street maps are (each item already drawn in them as its picture, shrunk with the map);
   zoomed in to where the items stand apart, the points and detail sheets of the tiles in view are loaded, and
   the items are drawn one by one over the tiles, pointed at, listed, filtered. Nothing is loaded for the
   parts of the map out of view. */

var tiled = false;
// points whose tile of points is loaded (all of them on a map that is not tiled)
var loaded = new Uint8Array(0), nLoaded = 0, dataDirty = false;
/** @type {Object<string, SitePicture>} */
var tileImages = {};
var tileCount = 0, lastTilesComplete = true;
/** @type {Uint8Array[]} */
var present = [];
/** @type {Object<number, boolean>} */
var leafAsked = {};

function initTiles() {
  tiled = !!M.tiles;
  loaded = new Uint8Array(n);
  if (!tiled) { loaded.fill(1); nLoaded = n; return; }
  present = M.tiles.present.map(function (b64) {
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  });
}
/**
 * @param {number} level
 * @param {number} x
 * @param {number} y
 */
function tileExists(level, x, y) {
  var k = x + y * (1 << level), bits = present[level];
  return !!bits && ((bits[k >> 3] >> (k & 7)) & 1) === 1;
}
/**
 * @param {number} level
 * @param {number} x
 * @param {number} y
 */
function tileImage(level, x, y) {
  var name = "tile-" + level + "-" + x + "-" + y + ".webp";
  if (!tileImages[name]) {
    if (tileCount > 600) { tileImages = {}; tileCount = 0; }   // forget the tiles seen long ago now and then
    tileCount++;
    tileImages[name] = loadImage(dataBase + name, function () { requestDraw(); });
  }
  return tileImages[name];
}
// The side of an item's picture in canvas pixels: as drawn in the deepest tiles, grown with the zoom.
function tiledPictureSize() {
  var T = M.tiles, deepest = T.tile_px * Math.pow(2, T.levels - 1);
  return T.item_px * 2 * scale / deepest;
}
// Items are drawn one by one from about the size the deepest tiles draw them at (below it the tiles show them).
function itemsStandApart(size) { return size >= 0.75 * M.tiles.item_px * dpr; }

/**
 * Draws the picture tiles of the view on the 2D canvas; a tile not loaded yet is drawn from the nearest loaded
 * tile above it, enlarged, so zooming never shows a blank map. Returns whether every tile of the view is in.
 * @returns {boolean}
 */
function drawTiles() {
  var T = M.tiles, px = T.tile_px;
  var level = Math.max(0, Math.min(T.levels - 1, Math.ceil(Math.log2(2 * scale / px))));
  var per = 1 << level, side = 2 / per * scale, complete = true;
  var x0 = Math.max(0, Math.floor((dataX(0) + 1) / 2 * per)), x1 = Math.min(per - 1, Math.floor((dataX(W) + 1) / 2 * per));
  var y0 = Math.max(0, Math.floor((dataY(H) + 1) / 2 * per)), y1 = Math.min(per - 1, Math.floor((dataY(0) + 1) / 2 * per));
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  ctx.imageSmoothingEnabled = true;
  for (var ty = y0; ty <= y1; ty++) {
    for (var tx = x0; tx <= x1; tx++) {
      if (!tileExists(level, tx, ty)) { continue; }
      var left = W / 2 + (-1 + tx * 2 / per - state.x) * scale, top = H / 2 - (-1 + (ty + 1) * 2 / per - state.y) * scale;
      var img = tileImage(level, tx, ty);
      if (img.ready) { ctx.drawImage(img, left, top, side, side); continue; }
      if (!img.failed) { complete = false; }
      for (var k = 1; k <= level; k++) {   // the nearest loaded tile above, the part of it over this one
        var ax = tx >> k, ay = ty >> k, up = tileImages["tile-" + (level - k) + "-" + ax + "-" + ay + ".webp"];
        if (up && up.ready) {
          var sub = px / (1 << k);
          ctx.drawImage(up, (tx - (ax << k)) * sub, ((1 << k) - 1 - (ty - (ay << k))) * sub, sub, sub, left, top, side, side);
          break;
        }
      }
    }
  }
  return complete;
}

// Loads the points of the tiles of the map (quadtree leaves, one detail sheet each) that the view covers,
// nearest to the centre first.
function loadLeavesInView() {
  var starts = DET.starts, wanted = [];
  var vx0 = dataX(0), vx1 = dataX(W), vy0 = dataY(H), vy1 = dataY(0);
  for (var s = 0; s < starts.length; s++) {
    if (leafAsked[s]) { continue; }
    var parts = DET.files[s].slice("atlas-detail-".length, -".webp".length).split("-").map(Number);
    var per = 1 << parts[0], lx0 = -1 + parts[1] * 2 / per, ly0 = -1 + parts[2] * 2 / per, w = 2 / per;
    if (lx0 > vx1 || lx0 + w < vx0 || ly0 > vy1 || ly0 + w < vy0) { continue; }
    var cx = lx0 + w / 2 - state.x, cy = ly0 + w / 2 - state.y;
    wanted.push([cx * cx + cy * cy, s]);
  }
  wanted.sort(function (a, b) { return a[0] - b[0]; });
  wanted.slice(0, 48).forEach(function (e) { loadLeaf(e[1]); });
}
/** @param {number} s */
function loadLeaf(s) {
  leafAsked[s] = true;
  var name = "points-" + DET.files[s].slice("atlas-detail-".length, -".webp".length) + ".js";
  loadScript(dataBase + name, function (ok) {
    var text = (window.SITEGEN_MAP_POINTS || {})[s];
    if (!ok || !text) { return; }
    delete window.SITEGEN_MAP_POINTS[s];
    var start = DET.starts[s], end = s + 1 < DET.starts.length ? DET.starts[s + 1] : n;
    var got = decodePoints(text, end - start, M.facets.map(function (f) { return Boolean(f.wide); }));
    QX.set(got.x, start);
    QY.set(got.y, start);
    M.facets.forEach(function (f, k) { F[f.name].set(got.columns[k], start); });
    loaded.fill(1, start, end);
    nLoaded += end - start;
    dataDirty = true;
    requestDraw();
  });
}
// After points arrived: their colours, filters and place in the grid, once per frame at most.
function refreshLoaded() {
  if (!dataDirty) { return; }
  dataDirty = false;
  computeColours();
  computeVisible();
  buildGrid();
  positionsChanged = true;
}
