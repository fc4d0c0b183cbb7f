// @ts-check
/* A map too large to load whole (M.tiles, see generator/pipeline/maptiles.py): seen from afar it is drawn from
   picture tiles, as street maps are (each item already drawn in them as its picture, shrunk with the map);
   zoomed in to where the items stand apart, the points and detail sheets of the tiles in view are loaded, and
   the items are drawn one by one over the tiles, pointed at, listed, filtered. Of the parts of the map out of
   view only the tiles likely needed next are fetched (the ring around the view, the next level down over its
   middle); no points, no sheets. A frame is drawn whole only when the zoom changes: while the view moves,
   the last frame is moved and what it uncovers drawn (drawTiledFrame). */

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
      redrawSquare(-1 + x * 2 / (1 << level), -1 + y * 2 / (1 << level), 2 / (1 << level), 0);
      if (aheadOf[name]) { delete aheadOf[name]; aheadLeft--; askAhead(); }
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
  aheadWanted = [];
  /** @param {number} lv @returns {function(number, number): void} */
  function ask(lv) {
    return function (tx, ty) {
      if (!tileImages["tile-" + lv + "-" + tx + "-" + ty + ".webp"]) { aheadWanted.push([lv, tx, ty]); }
    };
  }
  if (level + 1 < M.tiles.levels) {
    tilesOver(level + 1, state.x - hw / 1.5, state.x + hw / 1.5, state.y - hh / 1.5, state.y + hh / 1.5, ask(level + 1));
  }
  tilesOver(level, state.x - hw - ring, state.x + hw + ring, state.y - hh - ring, state.y + hh + ring, ask(level));
  askAhead();
}
// The tiles fetched ahead come a few at a time (each is decoded on one of the processor's cores, which the
// frames being drawn need too), those of the latest view first.
/** @type {Array<[number, number, number]>} */
var aheadWanted = [];
/** @type {Object<string, boolean>} */
var aheadOf = {};
var aheadLeft = 0;
function askAhead() {
  while (aheadLeft < 3 && aheadWanted.length) {
    var t = aheadWanted.shift(), name = "tile-" + t[0] + "-" + t[1] + "-" + t[2] + ".webp";
    if (tileImages[name]) { continue; }
    aheadOf[name] = true;
    aheadLeft++;
    // not drawn yet: let go before the tiles drawn lately, after those drawn long ago
    tileImage(t[0], t[1], t[2]).used = frameNo - 2;
  }
}
// The side of an item's picture in canvas pixels: as drawn in the deepest tiles, grown with the zoom.
function tiledPictureSize() {
  var T = M.tiles, deepest = T.tile_px * Math.pow(2, T.levels - 1);
  return T.item_px * 2 * scale / deepest;
}
// Items are drawn one by one from about the size the deepest tiles draw them at (below it the tiles show them).
function itemsStandApart(size) { return size >= 0.75 * M.tiles.item_px * dpr; }

// The level of tiles drawn at the current zoom: the first whose tiles are drawn at most at their own size.
function tileLevel() {
  var T = M.tiles;
  return Math.max(0, Math.min(T.levels - 1, Math.ceil(Math.log2(2 * scale / T.tile_px))));
}
/**
 * Draws the picture tiles over the canvas box [px0, px1] x [py0, py1] on the 2D canvas; a tile not loaded yet is
 * drawn from the nearest loaded tile above it, enlarged, so zooming never shows a blank map.
 * @param {number} px0
 * @param {number} px1
 * @param {number} py0
 * @param {number} py1
 */
function drawTiles(px0, px1, py0, py1) {
  var px = M.tiles.tile_px, level = tileLevel();
  var per = 1 << level, side = 2 / per * scale, ox = originX(), oy = originY();
  ctx.fillStyle = "#fff";
  ctx.fillRect(px0, py0, px1 - px0, py1 - py0);
  ctx.imageSmoothingEnabled = true;
  tilesOver(level, dataX(px0), dataX(px1), dataY(py1), dataY(py0), function (tx, ty) {
    var left = ox + (-1 + tx * 2 / per) * scale, top = oy - (-1 + (ty + 1) * 2 / per) * scale;
    var img = tileImage(level, tx, ty);
    img.used = frameNo;
    if (img.ready) { ctx.drawImage(drawable(img), left, top, side, side); return; }
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
}

// The frame last drawn on the canvas (tiles, and the items standing apart over them): where it drew the data's
// origin, at which zoom, on which canvas size. Drawing every tile and item again
// takes most of a frame's time: while the view only moves, that frame is moved by whole pixels and only the
// strips it uncovers are drawn, and where a picture or items arrive only their square is drawn again. A change
// of colours, filters or layout draws it all again.
var base = { ok: false, x: 0, y: 0, scale: 0, W: 0, H: 0 };
/** @type {number[][]} squares of the map to draw again: left, bottom, side, margin in canvas pixels */
var redrawSquares = [];
/**
 * Draws the square of the map of left x0, bottom y0 and side again in the next frame, where it lies in the frame
 * last drawn, with a margin of pad canvas pixels around it.
 * @param {number} x0
 * @param {number} y0
 * @param {number} side
 * @param {number} pad
 */
function redrawSquare(x0, y0, side, pad) {
  if (!base.ok || x0 >= (W - base.x) / base.scale || x0 + side <= -base.x / base.scale ||
      y0 >= base.y / base.scale || y0 + side <= (base.y - H) / base.scale) { return; }
  redrawSquares.push([x0, y0, side, pad]);
  requestDraw();
}
/** @param {number} s  a tile of points: its items, which may reach half a picture beyond it */
function redrawLeaf(s) { redrawSquare(leafBox[3 * s], leafBox[3 * s + 1], leafBox[3 * s + 2], pictureSize() / 2 + 2 * dpr); }
/**
 * Draws a tiled map's frame; returns whether every tile of the view is in.
 * @param {number} size  the side of an item's picture
 * @param {boolean} apart  whether the items are drawn one by one over the tiles
 * @param {number[] | null} inView  the items in view, when they are drawn one by one and not too many
 */
function drawTiledFrame(size, apart, inView) {
  var want = apart ? wantedDetail(size, inView) : null;
  var ox = originX(), oy = originY(), dx = ox - base.x, dy = oy - base.y, rects = [];
  if (base.ok && base.scale === scale && base.W === W && base.H === H && Math.abs(dx) < W && Math.abs(dy) < H) {
    if (dx || dy) { ctx.drawImage(canvas, dx, dy); }
    if (dx > 0) { rects.push([0, dx, 0, H]); } else if (dx < 0) { rects.push([W + dx, W, 0, H]); }
    if (dy > 0) { rects.push([0, W, 0, dy]); } else if (dy < 0) { rects.push([0, W, H + dy, H]); }
    redrawSquares.forEach(function (q) {
      var px0 = Math.max(0, Math.floor(ox + q[0] * scale - q[3])), px1 = Math.min(W, Math.ceil(ox + (q[0] + q[2]) * scale + q[3]));
      var py0 = Math.max(0, Math.floor(oy - (q[1] + q[2]) * scale - q[3])), py1 = Math.min(H, Math.ceil(oy - q[1] * scale + q[3]));
      if (px1 > px0 && py1 > py0) { rects.push([px0, px1, py0, py1]); }
    });
  } else {
    rects.push([0, W, 0, H]);
  }
  redrawSquares = [];
  rects.forEach(function (r) {
    ctx.save();
    ctx.beginPath(); ctx.rect(r[0], r[2], r[1] - r[0], r[3] - r[2]); ctx.clip();
    drawTiles(r[0], r[1], r[2], r[3]);
    if (apart) { draw2D(size, want, r); }
    ctx.restore();
  });
  base = { ok: true, x: ox, y: oy, scale: scale, W: W, H: H };
  // every tile of the view, drawn in this frame or before, is kept; is each in?
  var level = tileLevel(), complete = true;
  tilesOver(level, dataX(0), dataX(W), dataY(H), dataY(0), function (tx, ty) {
    var img = tileImage(level, tx, ty);
    img.used = frameNo;
    if (!img.ready && !img.failed) { complete = false; }
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
    redrawLeaf(s);
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
}
