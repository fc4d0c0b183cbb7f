// @ts-check
/* A map too large to load whole (M.tiles, see generator/pipeline/maptiles.py): seen from afar it is drawn from
   picture tiles, as street maps are (each item already drawn in them as its picture, shrunk with the map);
   zoomed in to where the items stand apart, the points and detail sheets of the tiles in view are loaded, and
   the items are drawn one by one over the tiles, pointed at, listed, filtered. Nothing is loaded for the
   parts of the map out of view. */

var tiled = false;
// points whose tile of points is loaded (all of them on a map that is not tiled), and their ranges of indices
var loaded = new Uint8Array(0), nLoaded = 0;
/** @type {Array<[number, number]>} */
var loadedRanges = [], freshRanges = [];
/** @type {Object<string, SiteMapPicture>} */
var tileImages = {};
var lastTilesComplete = true;
/** @type {Uint8Array[]} */
var present = [];
/** @type {Object<number, boolean>} */
var leafAsked = {};
// each tile of points (one detail sheet each): its square on the map, left, bottom, side
var leafBox = new Float64Array(0);

function initTiles() {
  tiled = !!M.tiles;
  loaded = new Uint8Array(n);
  if (!tiled) { loaded.fill(1); nLoaded = n; loadedRanges = [[0, n]]; return; }
  present = M.tiles.present.map(function (b64) {
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  });
  leafBox = new Float64Array(3 * DET.files.length);
  DET.files.forEach(function (f, s) {   // atlas-detail-LEVEL-X-Y.webp
    var parts = f.slice("atlas-detail-".length, -".webp".length).split("-").map(Number), per = 1 << parts[0];
    leafBox[3 * s] = -1 + parts[1] * 2 / per; leafBox[3 * s + 1] = -1 + parts[2] * 2 / per; leafBox[3 * s + 2] = 2 / per;
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
// About 400 tiles are kept decoded (a view shows up to about 80, more are fetched ahead of the view).
var TILES_KEPT = 400;
/**
 * The tile's picture, loading it if it is not yet.
 * @param {number} level
 * @param {number} x
 * @param {number} y
 * @returns {SiteMapPicture}
 */
function tileImage(level, x, y) {
  var name = "tile-" + level + "-" + x + "-" + y + ".webp";
  if (!tileImages[name]) {
    tileImages[name] = loadPicture(dataBase + name, function () {
      forgetPictures(tileImages, TILES_KEPT * M.tiles.tile_px * M.tiles.tile_px);
      requestDraw();
    });
  }
  return tileImages[name];
}
/**
 * The tiles of a level that cover the data box [x0, x1] x [y0, y1]: visit(x, y) for each tile the map has.
 * @param {number} level
 * @param {number} x0
 * @param {number} x1
 * @param {number} y0
 * @param {number} y1
 * @param {function(number, number): void} visit
 */
function tilesOver(level, x0, x1, y0, y1, visit) {
  var per = 1 << level, tx0 = Math.max(0, Math.floor((x0 + 1) / 2 * per)), tx1 = Math.min(per - 1, Math.floor((x1 + 1) / 2 * per));
  var ty0 = Math.max(0, Math.floor((y0 + 1) / 2 * per)), ty1 = Math.min(per - 1, Math.floor((y1 + 1) / 2 * per));
  for (var ty = ty0; ty <= ty1; ty++) {
    for (var tx = tx0; tx <= tx1; tx++) {
      if (tileExists(level, tx, ty)) { visit(tx, ty); }
    }
  }
}
/**
 * Once every tile of the view is in: the tiles one is likely to need next are fetched and decoded, so that they
 * are ready when the view reaches them: those of the next level down over the middle of the view (where zooming
 * in with the buttons or the keys leads), and the ring of tiles around the view.
 * @param {number} level  the level of the view
 */
function fetchAhead(level) {
  var hw = W / 2 / scale, hh = H / 2 / scale, ring = 2 / (1 << level);
  /** @param {number} lv @returns {function(number, number): void} */
  function ask(lv) {
    return function (tx, ty) {   // not drawn yet: let go before the tiles drawn lately, after those drawn long ago
      if (!tileImages["tile-" + lv + "-" + tx + "-" + ty + ".webp"]) { tileImage(lv, tx, ty).used = frameNo - 2; }
    };
  }
  if (level + 1 < M.tiles.levels) {
    tilesOver(level + 1, state.x - hw / 1.5, state.x + hw / 1.5, state.y - hh / 1.5, state.y + hh / 1.5, ask(level + 1));
  }
  tilesOver(level, state.x - hw - ring, state.x + hw + ring, state.y - hh - ring, state.y + hh + ring, ask(level));
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
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  ctx.imageSmoothingEnabled = true;
  tilesOver(level, dataX(0), dataX(W), dataY(H), dataY(0), function (tx, ty) {
    var left = W / 2 + (-1 + tx * 2 / per - state.x) * scale, top = H / 2 - (-1 + (ty + 1) * 2 / per - state.y) * scale;
    var img = tileImage(level, tx, ty);
    img.used = frameNo;
    if (img.ready) { ctx.drawImage(drawable(img), left, top, side, side); return; }
    if (!img.failed) { complete = false; }
    for (var k = 1; k <= level; k++) {   // the nearest loaded tile above, the part of it over this one
      var ax = tx >> k, ay = ty >> k, up = tileImages["tile-" + (level - k) + "-" + ax + "-" + ay + ".webp"];
      if (up && up.ready) {
        var sub = px / (1 << k);
        up.used = frameNo;
        ctx.drawImage(drawable(up), (tx - (ax << k)) * sub, ((1 << k) - 1 - (ty - (ay << k))) * sub, sub, sub, left, top, side, side);
        break;
      }
    }
  });
  if (complete) { fetchAhead(level); }
  return complete;
}

// Loads the points of the tiles of the map (quadtree leaves, one detail sheet each) that the view covers,
// nearest to the centre first.
function loadLeavesInView() {
  var starts = DET.starts, wanted = [];
  var vx0 = dataX(0), vx1 = dataX(W), vy0 = dataY(H), vy1 = dataY(0);
  for (var s = 0; s < starts.length; s++) {
    if (leafAsked[s]) { continue; }
    var lx0 = leafBox[3 * s], ly0 = leafBox[3 * s + 1], w = leafBox[3 * s + 2];
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
  askSoon(function () { loadScript(dataBase + name, leafArrived(s)); });
}
/**
 * @param {number} s
 * @returns {function(boolean): void}
 */
function leafArrived(s) {
  return function (ok) {
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
    loadedRanges.push([start, end]);
    freshRanges.push([start, end]);
    requestDraw();
  };
}
// After points arrived: their colours, filters and place in the grid, once per frame at most (only the new
// items are coloured and filtered; the grid is made again of the loaded items only).
function refreshLoaded() {
  if (!freshRanges.length) { return; }
  freshRanges.forEach(function (r) { colourRange(r[0], r[1]); visibleRange(r[0], r[1]); });
  freshRanges = [];
  showCount();
  buildGrid();
  positionsChanged = true;
}
