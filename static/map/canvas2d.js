// @ts-check
/* The map drawn on a 2D canvas where WebGL is not used, and the overlay canvas over either: each item's own
   thumbnail close up, group labels, the selection, the pointed item. */

// ------------------------------------------------------------ the 2D canvas, where WebGL is not used
var ctx = null;
/**
 * Draws the visible items whose picture meets the canvas box (all the canvas without one); returns how many.
 * @param {number} size
 * @param {Object<number, boolean> | null} want  the detail sheets to draw from, where loaded
 * @param {number[]} [box]  [px0, px1, py0, py1]
 */
function draw2D(size, want, box) {
  if (!tiled) {   // a tiled map's items are drawn over its picture tiles
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, W, H);
  }
  var b = box || [0, W, 0, H], half = size / 2, frame = size >= 12 * dpr, lw = Math.max(1, dpr), drawn = 0;
  ctx.lineWidth = lw;
  visitCells(dataX(b[0] - half), dataX(b[1] + half), dataY(b[3] + half), dataY(b[2] - half), function (i) {
    var px = sx(QX[i]) - half, py = sy(QY[i]) - half;
    if (px < b[0] - size || py < b[2] - size || px > b[1] || py > b[3]) { return false; }
    var src = noThumb[i] ? null : source(i, want && want[detOf[i]]);
    if (!src && tiled && !noThumb[i]) { return false; }   // its picture tile shows it until its sheet is in
    drawn++;
    if (src) {
      ctx.drawImage(src[0], src[1], src[2], src[3], src[3], px, py, size, size);
      if (frame) { ctx.strokeStyle = css32(colour32[i]); ctx.strokeRect(px + lw / 2, py + lw / 2, size - lw, size - lw); }
    } else {
      ctx.fillStyle = css32(colour32[i]);
      ctx.beginPath(); ctx.arc(px + half, py + half, Math.max(1.5, half), 0, 2 * Math.PI); ctx.fill();
    }
    return false;
  });
  return drawn;
}

// ------------------------------------------------------------ each item's own thumbnail, close up
var own = {}, ownCount = 0;
function ownThumb(i) {
  if (own[i] === undefined) {
    own[i] = null;
    var info = labelsOf(i, function () { own[i] = undefined; requestDraw(); });
    if (!info) { return null; }
    if (ownCount > 400) { own = {}; ownCount = 0; }   // forget far-away pictures now and then
    ownCount++;
    own[i] = loadPicture(root + thumbUrl(M.thumbs[kindOf(i)], info.id), function () { requestDraw(); });
  }
  return own[i] && own[i].ready ? own[i] : null;
}
function drawOwn(size, inView) {
  if (!inView || !DET || size <= DET.cell * 1.25 || inView.length > 150) { return; }
  inView.forEach(function (i) {
    var img = noThumb[i] ? null : ownThumb(i);
    if (!img) { return; }
    var f = Math.min(size / img.width, size / img.height), w = img.width * f, h = img.height * f;
    octx.fillStyle = "#fff";
    octx.fillRect(sx(QX[i]) - size / 2, sy(QY[i]) - size / 2, size, size);
    octx.drawImage(drawable(img), sx(QX[i]) - w / 2, sy(QY[i]) - h / 2, w, h);
    octx.strokeStyle = css32(colour32[i]); octx.lineWidth = Math.max(1, dpr);
    octx.strokeRect(sx(QX[i]) - size / 2, sy(QY[i]) - size / 2, size, size);
  });
}

// ------------------------------------------------------------ group labels
function drawGroupLabels(size) {
  var g = currentGroups();
  if (!g || !g.labels.length) { return; }
  // Labels help while the pictures are small; close up the pictures speak for themselves.
  if (g.kind === "clusters" && size > 48 * dpr) { return; }
  octx.font = (g.kind === "clusters" ? "600 " : "") + Math.round(13 * dpr) + "px system-ui, sans-serif";
  octx.textAlign = "center"; octx.textBaseline = "middle";
  octx.lineJoin = "round"; octx.lineWidth = 4 * dpr; octx.strokeStyle = "rgba(255,255,255,0.92)"; octx.fillStyle = "#111";
  var taken = [];
  g.labels.forEach(function (text, k) {
    var px = sx(g.x[k]), py = sy(g.y[k]), w = octx.measureText(text).width, h = 16 * dpr;
    if (px < -w || px > W + w || py < -h || py > H + h) { return; }
    for (var t = 0; t < taken.length; t++) {   // larger groups come first; a label never covers another
      var o = taken[t];
      if (Math.abs(o[0] - px) < (o[2] + w) / 2 + 4 * dpr && Math.abs(o[1] - py) < h) { return; }
    }
    taken.push([px, py, w]);
    octx.strokeText(text, px, py);
    octx.fillText(text, px, py);
  });
}
function currentGroups() {
  var L = layoutByName(state.layout);
  return L && L.groups ? L.groups : M.clusters || null;
}

// ------------------------------------------------------------ the overlay
function drawOverlay(size, inView, keep) {
  if (!keep) { octx.clearRect(0, 0, W, H); }
  drawOwn(size, inView);
  drawGroupLabels(size);
  var lw = Math.max(1, dpr);
  if (selected.length && selected.length <= 5000) {
    octx.strokeStyle = "#111"; octx.lineWidth = 2 * lw;
    selected.forEach(function (i) {
      if (visible[i]) { octx.strokeRect(sx(QX[i]) - size / 2 - lw, sy(QY[i]) - size / 2 - lw, size + 2 * lw, size + 2 * lw); }
    });
  }
  if (box) {
    octx.fillStyle = "rgba(29,78,216,0.12)"; octx.strokeStyle = "#1d4ed8"; octx.lineWidth = lw;
    var x0 = Math.min(box.x0, box.x1), y0 = Math.min(box.y0, box.y1);
    octx.fillRect(x0, y0, Math.abs(box.x1 - box.x0), Math.abs(box.y1 - box.y0));
    octx.strokeRect(x0, y0, Math.abs(box.x1 - box.x0), Math.abs(box.y1 - box.y0));
  }
  if (hovered >= 0 && visible[hovered]) {
    octx.beginPath();
    octx.lineWidth = 2 * dpr;
    octx.strokeStyle = "#111";
    octx.arc(sx(QX[hovered]), sy(QY[hovered]), size * 0.72 + 3 * dpr, 0, 2 * Math.PI);
    octx.stroke();
  }
  if (keyboardMode) {   // the crosshair marks what Enter opens
    octx.strokeStyle = "rgba(0,0,0,0.6)"; octx.lineWidth = dpr;
    octx.beginPath(); octx.moveTo(W / 2 - 10 * dpr, H / 2); octx.lineTo(W / 2 + 10 * dpr, H / 2);
    octx.moveTo(W / 2, H / 2 - 10 * dpr); octx.lineTo(W / 2, H / 2 + 10 * dpr); octx.stroke();
  }
}
