// @ts-check
/* The map's view: where it looks (centre, zoom), where each item is drawn, the size of the pictures, and
   the frames (drawn with WebGL, webgl.js, or on the 2D canvas, canvas2d.js). */

// ------------------------------------------------------------ state and view
/** @type {SiteMapLayout[]} */
var layouts = [];
/** @type {{layout: string, x: number, y: number, z: number, color: string, filters: Object<string, string>}} */
var state = { layout: "", x: 0, y: 0, z: 1, color: "kind", filters: {} };
var W = 0, H = 0, dpr = 1, scale = 1;
var visible = new Uint8Array(0), nVisible = 0, colour32 = new Uint32Array(0);
var hovered = -1, ready = false, pending = false;

function resize() {
  dpr = window.devicePixelRatio || 1;
  var w = Math.max(200, Math.round(canvas.clientWidth * dpr)), h = Math.max(200, Math.round(canvas.clientHeight * dpr));
  if (w !== canvas.width || h !== canvas.height) { canvas.width = w; canvas.height = h; }
  if (overlay && (overlay.width !== w || overlay.height !== h)) {
    overlay.width = w; overlay.height = h;
    overlay.style.left = canvas.offsetLeft + canvas.clientLeft + "px";
    overlay.style.top = canvas.offsetTop + canvas.clientTop + "px";
    overlay.style.width = canvas.clientWidth + "px";
    overlay.style.height = canvas.clientHeight + "px";
  }
  W = canvas.width; H = canvas.height;
}
// The zoom that shows a whole arrangement: a timeline is wide, so it may fill the width of the canvas.
function homeZoom() {
  var L = layoutByName(state.layout), e = L && L.groups && L.groups.extent;
  if (!e || !W) { return 1; }
  return Math.max(0.5, Math.min(W / (2 * e[0]), H / (2 * e[1])) / (Math.min(W, H) / 2 * 0.94) * 0.97);
}
function home() { state.x = 0; state.y = 0; state.z = homeZoom(); }
function updateScale() { scale = state.z * Math.min(W, H) / 2 * 0.94; }
// data coordinates in [-1, 1] (y up) <-> canvas pixels. The centre is rounded to whole canvas pixels, so that
// two views at the same zoom differ by whole pixels: a frame moved by whole pixels stays sharp (tiles.js).
function originX() { return W / 2 - Math.round(state.x * scale); }   // where the data's x = 0 is drawn
function originY() { return H / 2 + Math.round(state.y * scale); }
function sx(q) { return originX() + ((q / Q) * 2 - 1) * scale; }
function sy(q) { return originY() - ((q / Q) * 2 - 1) * scale; }
function dataX(px) { return (px - originX()) / scale; }
function dataY(py) { return (originY() - py) / scale; }
// The side of each picture, in canvas pixels: seen whole, the pictures share the canvas between them;
// zooming in, they grow more slowly than the distances between them, so neighbours come apart.
var maxPoint = 256;
function pictureSize() {
  if (tiled) { return tiledPictureSize(); }
  var L = layoutByName(state.layout);
  if (L && L.groups && L.groups.cell) {   // arranged in a grid: each picture fills its cell
    return Math.max(1, Math.min(maxPoint, 200 * dpr, L.groups.cell * scale * 0.9));
  }
  var base = Math.sqrt(W * H / Math.max(1, nVisible)) * 0.8;
  base = Math.max(2 * dpr, Math.min(36 * dpr, base));
  return Math.max(2, Math.min(maxPoint, 200 * dpr, base * Math.pow(state.z, 0.8)));
}

// ------------------------------------------------------------ one frame
var firstFrame = false;
// Drawing every picture of a large map can take longer than a frame: without WebGL, or with WebGL drawn
// by the processor (a browser without a usable graphics card). While the map is dragged, the last full
// frame is then moved instead, and everything is drawn again when the drag ends.
var snap = null, snapView = null, slow = false, benchPanning = false;
function panning() { return benchPanning || !!(drag && drag.moved); }
function moveLastFrame(size) {
  if (!slow || !snap || !panning() || snapView.z !== state.z || snap.width !== W || snap.height !== H) {
    return false;
  }
  var target = gl ? octx : ctx;   // over a WebGL canvas, the moved frame covers it on the overlay
  if (!target) { return false; }
  target.fillStyle = "#fff";
  target.fillRect(0, 0, W, H);
  target.drawImage(snap, originX() - snapView.x, originY() - snapView.y);
  if (octx) { drawOverlay(size, null, gl); }
  return true;
}
function keepLastFrame(drawn) {
  if (!gl) { slow = drawn > 2000; }   // 2D time is spent later, when the browser paints: count pictures
  if (!slow) { return; }
  snap = snap || document.createElement("canvas");
  if (snap.width !== W || snap.height !== H) { snap.width = W; snap.height = H; }
  snap.getContext("2d").drawImage(canvas, 0, 0);   // a WebGL canvas can be read in the task that drew it
  snapView = { x: originX(), y: originY(), z: state.z };
}
// Once, after the first frame: how long WebGL takes to finish a whole frame here.
function timeWebGL() {
  var t0 = performance.now();
  gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
  slow = performance.now() - t0 > 30;
}
function draw() {
  pending = false;
  if (!ready) { return; }
  frameNo++;
  resize(); updateScale();
  var size = pictureSize();
  if (moveLastFrame(size)) { return; }
  var complete = true, inView = null;
  if (tiled) {   // the picture tiles, then, close enough, the items of the tiles loaded
    refreshLoaded();
    var apart = itemsStandApart(size);
    if (apart) {
      loadLeavesInView();
      inView = itemsInView(size, 20000);
    }
    complete = lastTilesComplete = drawTiledFrame(size, apart, inView);
  } else {
    inView = itemsInView(size, 20000);
    var want = wantedDetail(size, inView);
    if (gl) { drawGL(size, want); keepLastFrame(0); } else { keepLastFrame(draw2D(size, want)); }
  }
  if (octx) { drawOverlay(size, inView); }
  if (!firstFrame && complete) {
    firstFrame = true;
    if (gl) { timeWebGL(); keepLastFrame(0); }
    window.SITEGEN_FIRST_FRAME_MS = performance.now();
    if (performance.mark) { performance.mark("sitegen-map-first-frame"); }
    canvas.setAttribute("data-ready", "true");
    canvas.setAttribute("data-renderer", gl ? "webgl" : "2d");
  }
}
// One frame drawn per frame shown: a frame already drawn since the request (the benchmark's steps draw
// directly) is not drawn again.
function requestDraw() {
  if (!pending) { pending = true; window.requestAnimationFrame(function () { if (pending) { draw(); } }); }
}
