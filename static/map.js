/* The map: every drawing and artwork placed by the layout, drawn as its own picture from the first frame.
 *
 * Data come from data/map/*.js (see generator/site/mapdata.py), loaded with <script> tags so the map also
 * works from file://. Pictures come from atlas sheets (generator/site/atlas.py): the overview sheet, loaded
 * before the first frame, holds every item; detail sheets are loaded for the part of the map one zooms
 * into; closer still, each item's own thumbnail is drawn. With WebGL every item is one textured point
 * sprite, so 100,000 pictures move smoothly; without WebGL (or from file://, where WebGL may not read
 * pictures) the same pictures are drawn on a 2D canvas. A second, transparent canvas on top carries what
 * changes often: the pointed item, the selection box, group labels.
 * A uniform grid over the quantised coordinates answers "which items are here" without scanning all.
 * The view (layout, centre, zoom, colour, filters) lives in the address, so it can be shared.
 */
(function () {
  "use strict";
  var M = window.SITEGEN_MAP;
  var canvas = document.getElementById("map");
  var overlay = document.getElementById("map-overlay");
  if (!M || !canvas) { return; }
  var root = canvas.getAttribute("data-root") || "../";
  var dataBase = root + "data/map/";
  var n = M.count, Q = M.quant;
  var $ = function (id) { return document.getElementById(id); };
  var countEl = $("map-count"), labelEl = $("map-label"), legendEl = $("map-legend");
  var preview = $("map-preview"), previewImg = $("map-preview-img"), previewLabel = $("map-preview-label");
  var controls = $("map-controls");
  var octx = overlay ? overlay.getContext("2d") : null;
  var noThumb = new Uint8Array(n);  // points whose picture could not be made: drawn as a dot, preview shows the label only
  (M.no_thumb || []).forEach(function (i) { noThumb[i] = 1; });
  var OV = M.atlas[0], DET = M.atlas[1];

  // ------------------------------------------------------------ data
  var QX = new Uint16Array(n), QY = new Uint16Array(n), XY = new Uint16Array(2 * n);
  var F = {}, facetByName = {};
  M.facets.forEach(function (f) { F[f.name] = new Uint16Array(n); facetByName[f.name] = f; });

  function u16reader(bin) {
    var off = 0;
    return { u16: function () { var v = bin.charCodeAt(off) | (bin.charCodeAt(off + 1) << 8); off += 2; return v; },
             u8: function () { return bin.charCodeAt(off++); } };
  }
  function decodeChunk(c, text) {
    var r = u16reader(atob(text)), start = c * M.chunk_size, len = Math.min(M.chunk_size, n - start), i;
    for (i = 0; i < len; i++) { QX[start + i] = r.u16(); }
    for (i = 0; i < len; i++) { QY[start + i] = r.u16(); }
    M.facets.forEach(function (f) {
      var col = F[f.name];
      for (var k = 0; k < len; k++) { col[start + k] = f.wide ? r.u16() : r.u8(); }
    });
  }
  var similarity = null;   // the first layout's coordinates, kept to switch back without loading again
  function decodeLayout(text) {
    var r = u16reader(atob(text)), i;
    for (i = 0; i < n; i++) { QX[i] = r.u16(); }
    for (i = 0; i < n; i++) { QY[i] = r.u16(); }
  }

  function loadScript(src, done) {
    var s = document.createElement("script");
    s.src = src;
    s.onload = function () { done(true); };
    s.onerror = function () { done(false); };
    document.head.appendChild(s);
  }
  function loadImage(src, done) {
    var img = new Image();
    img.onload = function () { img.ready = true; if (done) { done(img); } };
    img.onerror = function () { img.failed = true; if (done) { done(img); } };
    img.src = src;
    return img;
  }
  function pad3(c) { return ("00" + c).slice(-3); }

  // ------------------------------------------------------------ hit-testing grid
  var G = 128, SHIFT = 9;   // 65536 / 128 = 512 = 1 << 9
  var cellStart = new Int32Array(G * G + 1), cellItems = new Int32Array(n);
  function buildGrid() {
    var counts = new Int32Array(G * G), i;
    cellStart[0] = 0;
    for (i = 0; i < n; i++) { counts[(QX[i] >> SHIFT) + (QY[i] >> SHIFT) * G]++; }
    for (i = 0; i < G * G; i++) { cellStart[i + 1] = cellStart[i] + counts[i]; }
    var fill = cellStart.slice(0, G * G);
    for (i = 0; i < n; i++) { cellItems[fill[(QX[i] >> SHIFT) + (QY[i] >> SHIFT) * G]++] = i; }
    for (i = 0; i < n; i++) { XY[2 * i] = QX[i]; XY[2 * i + 1] = QY[i]; }
  }

  // ------------------------------------------------------------ state and view
  var layouts = M.layouts || [];
  var state = { layout: layouts.length ? layouts[0].name : "", x: 0, y: 0, z: 1, color: "kind", filters: {} };
  var W = 0, H = 0, dpr = 1, scale = 1;
  var visible = new Uint8Array(n), nVisible = 0, colour32 = new Uint32Array(n);
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
  // data coordinates in [-1, 1] (y up) <-> canvas pixels
  function sx(q) { return W / 2 + ((q / Q) * 2 - 1 - state.x) * scale; }
  function sy(q) { return H / 2 - ((q / Q) * 2 - 1 - state.y) * scale; }
  function dataX(px) { return (px - W / 2) / scale + state.x; }
  function dataY(py) { return -(py - H / 2) / scale + state.y; }
  // The side of each picture, in canvas pixels: seen whole, the pictures share the canvas between them;
  // zooming in, they grow more slowly than the distances between them, so neighbours come apart.
  var maxPoint = 256;
  function pictureSize() {
    var L = layoutByName(state.layout);
    if (L && L.groups && L.groups.cell) {   // arranged in a grid: each picture fills its cell
      return Math.max(1, Math.min(maxPoint, 200 * dpr, L.groups.cell * scale * 0.9));
    }
    var base = Math.sqrt(W * H / Math.max(1, nVisible)) * 0.8;
    base = Math.max(2 * dpr, Math.min(36 * dpr, base));
    return Math.max(2, Math.min(maxPoint, 200 * dpr, base * Math.pow(state.z, 0.8)));
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
    var f = facetByName[state.color], col = F[state.color], table = new Array(f.values.length), i;
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
      if (others) { legend.push([OTHER, "Others", others]); }
    }
    table[0] = NONE;
    if (f.counts[0]) { legend.push([NONE, f.labels[0], f.counts[0]]); }
    var t32 = table.map(rgb32);
    for (i = 0; i < n; i++) { colour32[i] = t32[col[i]]; }
    renderLegend();
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
    var active = [];
    M.facets.forEach(function (f) {
      var v = state.filters[f.name];
      if (v !== undefined && v !== "") {
        var k = f.values.indexOf(v);
        active.push([F[f.name], k]);   // k = -1 (unknown value) hides everything, as it should
      }
    });
    nVisible = 0;
    for (var i = 0; i < n; i++) {
      var ok = 1;
      for (var a = 0; a < active.length; a++) { if (active[a][0][i] !== active[a][1]) { ok = 0; break; } }
      visible[i] = ok; nVisible += ok;
    }
    if (countEl) {
      countEl.textContent = "Showing " + nVisible + " of " + n + " items.";
      countEl.setAttribute("data-visible", String(nVisible));
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

  // ------------------------------------------------------------ atlas sheets
  var ovSheets = [], detSheets = {}, ovLeft = OV.files.length;
  function detSheet(s) {
    if (!detSheets[s]) { detSheets[s] = loadImage(dataBase + DET.files[s], function () { requestDraw(); }); }
    return detSheets[s];
  }
  // Which detail sheets the current view wants (loading them as a side effect); null: the overview suffices.
  function wantedDetail(size, inView) {
    if (!DET || size <= OV.cell * 1.25 || !inView) { return null; }
    var want = {};
    inView.forEach(function (i) { want[Math.floor(i / DET.per_sheet)] = true; });
    Object.keys(want).forEach(function (s) { detSheet(+s); });
    return want;
  }
  // Where to read point i's picture: [image, sx, sy, cell] or null (no sheet loaded for it).
  function source(i, useDetail) {
    var img, k, L;
    if (useDetail) {
      img = detSheets[Math.floor(i / DET.per_sheet)];
      if (img && img.ready) { L = DET; }
    }
    if (!L) { img = ovSheets[Math.floor(i / OV.per_sheet)]; L = OV; }
    if (!img || !img.ready) { return null; }
    k = i % L.per_sheet;
    return [img, (k % L.per_row) * L.cell, Math.floor(k / L.per_row) * L.cell, L.cell];
  }

  // ------------------------------------------------------------ WebGL: one textured point sprite per item
  var VERT = [
    "attribute vec2 a_pos; attribute float a_idx; attribute vec4 a_col;",
    "uniform vec2 u_centre; uniform vec2 u_canvas; uniform float u_scale; uniform float u_size;",
    "uniform float u_start; uniform float u_perRow; uniform float u_cell;",
    "varying vec2 v_cell; varying vec4 v_col;",
    "void main() {",
    "  vec2 d = (a_pos * 2.0 - 1.0 - u_centre) * u_scale;",
    "  float local = a_idx - u_start;",
    "  float row = floor((local + 0.5) / u_perRow);",
    "  v_cell = vec2(local - row * u_perRow, row) * u_cell;",
    "  v_col = a_col;",
    "  gl_Position = a_col.a < 0.1 ? vec4(2.0, 2.0, 2.0, 1.0) : vec4(2.0 * d / u_canvas, 0.0, 1.0);",
    "  gl_PointSize = u_size;",
    "}"].join("\n");
  var FRAG = [
    "#ifdef GL_FRAGMENT_PRECISION_HIGH", "precision highp float;", "#else", "precision mediump float;", "#endif",
    "uniform sampler2D u_tex; uniform vec2 u_sheet; uniform float u_cell; uniform float u_border;",
    "varying vec2 v_cell; varying vec4 v_col;",
    "void main() {",
    "  vec2 pc = gl_PointCoord;",
    "  if (v_col.a < 0.75) {",   // no picture: a round dot of its colour
    "    if (length(pc - 0.5) > 0.5) { discard; }",
    "    gl_FragColor = vec4(v_col.rgb, 1.0); return;",
    "  }",
    "  float edge = min(min(pc.x, pc.y), min(1.0 - pc.x, 1.0 - pc.y));",
    "  if (edge < u_border) { gl_FragColor = vec4(v_col.rgb, 1.0); return; }",
    "  vec4 t = texture2D(u_tex, (v_cell + 0.5 + pc * (u_cell - 1.0)) / u_sheet);",
    "  if (t.a < 0.5) { discard; }",
    "  gl_FragColor = vec4(t.rgb, 1.0);",
    "}"].join("\n");

  function webglWanted() {
    if (/[?&]draw=2d\b/.test(window.location.search)) { return false; }
    // From file:// every picture counts as another origin's, which WebGL may not read.
    if (window.location.protocol === "file:") { return false; }
    try {   // try on a spare canvas first: a canvas that gave a WebGL context cannot give a 2D one any more
      var probe = document.createElement("canvas").getContext("webgl");
      return !!probe && probe.getParameter(probe.MAX_TEXTURE_SIZE) >= 4096 &&
        probe.getParameter(probe.ALIASED_POINT_SIZE_RANGE)[1] >= 64;
    } catch (e) { return false; }
  }
  var gl = null, glp = null, attributesChanged = true, positionsChanged = true;
  var colourBuf = null, idxBuf = null, posBuf = null, attr32 = null;
  function initGL() {
    gl = canvas.getContext("webgl", { alpha: false, antialias: false, depth: false });
    if (!gl) { return false; }
    function shader(type, src) {
      var s = gl.createShader(type);
      gl.shaderSource(s, src); gl.compileShader(s);
      return s;
    }
    var p = gl.createProgram();
    gl.attachShader(p, shader(gl.VERTEX_SHADER, VERT));
    gl.attachShader(p, shader(gl.FRAGMENT_SHADER, FRAG));
    gl.linkProgram(p);
    if (!gl.getProgramParameter(p, gl.LINK_STATUS)) { gl = null; return false; }
    glp = { p: p, a: {}, u: {} };
    ["a_pos", "a_idx", "a_col"].forEach(function (a) { glp.a[a] = gl.getAttribLocation(p, a); });
    ["u_centre", "u_canvas", "u_scale", "u_size", "u_start", "u_perRow", "u_cell", "u_tex", "u_sheet", "u_border"]
      .forEach(function (u) { glp.u[u] = gl.getUniformLocation(p, u); });
    maxPoint = gl.getParameter(gl.ALIASED_POINT_SIZE_RANGE)[1];
    var idx = new Float32Array(n);
    for (var i = 0; i < n; i++) { idx[i] = i; }
    idxBuf = gl.createBuffer(); gl.bindBuffer(gl.ARRAY_BUFFER, idxBuf); gl.bufferData(gl.ARRAY_BUFFER, idx, gl.STATIC_DRAW);
    posBuf = gl.createBuffer();
    colourBuf = gl.createBuffer();
    attr32 = new Uint32Array(n);
    return true;
  }
  // A graphics card may take its memory back (the driver restarts, the tab sleeps): build everything again.
  canvas.addEventListener("webglcontextlost", function (evt) { evt.preventDefault(); });
  canvas.addEventListener("webglcontextrestored", function () {
    ovSheets.concat(Object.keys(detSheets).map(function (s) { return detSheets[s]; }))
      .forEach(function (img) { if (img) { img.tex = null; } });
    if (initGL()) { positionsChanged = true; attributesChanged = true; requestDraw(); }
  });
  function texture(img) {
    if (!img.tex) {
      img.tex = gl.createTexture();
      gl.bindTexture(gl.TEXTURE_2D, img.tex);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, img);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    }
    return img.tex;
  }
  function drawGL(size, want) {
    if (positionsChanged) {
      gl.bindBuffer(gl.ARRAY_BUFFER, posBuf); gl.bufferData(gl.ARRAY_BUFFER, XY, gl.STATIC_DRAW);
      positionsChanged = false;
    }
    if (attributesChanged) {
      for (var i = 0; i < n; i++) {
        attr32[i] = visible[i] ? ((colour32[i] & 0xffffff) | ((noThumb[i] ? 0x80 : 0xff) << 24)) >>> 0 : 0;
      }
      gl.bindBuffer(gl.ARRAY_BUFFER, colourBuf); gl.bufferData(gl.ARRAY_BUFFER, new Uint8Array(attr32.buffer), gl.DYNAMIC_DRAW);
      attributesChanged = false;
    }
    gl.viewport(0, 0, W, H);
    gl.clearColor(1, 1, 1, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.useProgram(glp.p);
    var a = glp.a, u = glp.u;
    gl.bindBuffer(gl.ARRAY_BUFFER, posBuf); gl.enableVertexAttribArray(a.a_pos);
    gl.vertexAttribPointer(a.a_pos, 2, gl.UNSIGNED_SHORT, true, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, idxBuf); gl.enableVertexAttribArray(a.a_idx);
    gl.vertexAttribPointer(a.a_idx, 1, gl.FLOAT, false, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, colourBuf); gl.enableVertexAttribArray(a.a_col);
    gl.vertexAttribPointer(a.a_col, 4, gl.UNSIGNED_BYTE, true, 0, 0);
    gl.uniform2f(u.u_centre, state.x, state.y);
    gl.uniform2f(u.u_canvas, W, H);
    gl.uniform1f(u.u_scale, scale);
    gl.uniform1f(u.u_size, size);
    gl.uniform1f(u.u_border, size >= 12 * dpr ? Math.max(1, dpr) / size : 0);
    gl.uniform1i(u.u_tex, 0);
    gl.activeTexture(gl.TEXTURE0);
    // Consecutive points share a sheet: one draw call per range of points, from the sharpest sheet loaded.
    var step = want ? DET.per_sheet : OV.per_sheet;
    for (var start = 0; start < n; start += step) {
      var det = want && want[start / step] ? detSheets[start / step] : null, L = DET, img = det;
      if (!det || !det.ready) { L = OV; img = ovSheets[Math.floor(start / OV.per_sheet)]; }
      if (!img || !img.ready) { continue; }
      gl.bindTexture(gl.TEXTURE_2D, texture(img));
      gl.uniform1f(u.u_start, L === OV ? Math.floor(start / OV.per_sheet) * OV.per_sheet : start);
      gl.uniform1f(u.u_perRow, L.per_row);
      gl.uniform1f(u.u_cell, L.cell);
      gl.uniform2f(u.u_sheet, img.width, img.height);
      gl.drawArrays(gl.POINTS, start, Math.min(step, n - start));
    }
  }

  // ------------------------------------------------------------ the 2D canvas, where WebGL is not used
  var ctx = null;
  function draw2D(size, want) {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, W, H);
    var half = size / 2, frame = size >= 12 * dpr, lw = Math.max(1, dpr), drawn = 0;
    ctx.lineWidth = lw;
    visitCells(dataX(-half), dataX(W + half), dataY(H + half), dataY(-half), function (i) {
      var px = sx(QX[i]) - half, py = sy(QY[i]) - half;
      if (px < -size || py < -size || px > W || py > H) { return false; }
      var src = noThumb[i] ? null : source(i, want && want[Math.floor(i / DET.per_sheet)]);
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
      own[i] = loadImage(root + M.thumbs[kindOf(i)] + info.id + ".thumb.webp", function () { requestDraw(); });
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
      octx.drawImage(img, sx(QX[i]) - w / 2, sy(QY[i]) - h / 2, w, h);
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
    target.drawImage(snap, Math.round((snapView.x - state.x) * scale), Math.round((state.y - snapView.y) * scale));
    if (octx) { drawOverlay(size, null, gl); }
    return true;
  }
  function keepLastFrame(drawn) {
    if (!gl) { slow = drawn > 2000; }   // 2D time is spent later, when the browser paints: count pictures
    if (!slow) { return; }
    snap = snap || document.createElement("canvas");
    if (snap.width !== W || snap.height !== H) { snap.width = W; snap.height = H; }
    snap.getContext("2d").drawImage(canvas, 0, 0);   // a WebGL canvas can be read in the task that drew it
    snapView = { x: state.x, y: state.y, z: state.z };
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
    resize(); updateScale();
    var size = pictureSize();
    if (moveLastFrame(size)) { return; }
    var inView = itemsInView(size, 20000), want = wantedDetail(size, inView);
    if (gl) { drawGL(size, want); keepLastFrame(0); } else { keepLastFrame(draw2D(size, want)); }
    if (octx) { drawOverlay(size, inView); }
    if (!firstFrame) {
      firstFrame = true;
      if (gl) { timeWebGL(); keepLastFrame(0); }
      window.SITEGEN_FIRST_FRAME_MS = performance.now();
      if (performance.mark) { performance.mark("sitegen-map-first-frame"); }
      canvas.setAttribute("data-ready", "true");
      canvas.setAttribute("data-renderer", gl ? "webgl" : "2d");
    }
  }
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
  function requestDraw() {
    if (!pending) { pending = true; window.requestAnimationFrame(draw); }
  }

  // ------------------------------------------------------------ labels (loaded on demand)
  var labelChunks = {}, countryNames = null;
  // A drawing named as the archive names its scans has no label in the files: it is spelt from its id by the
  // header's search script (static/search.js), with the country names of the map's colours.
  function spelt(id) {
    if (!countryNames) {
      var f = facetByName.country;
      countryNames = {};
      f.values.forEach(function (v, k) { countryNames[v] = f.labels[k]; });
    }
    var got = window.SITEGEN_SPELL ? window.SITEGEN_SPELL(id, countryNames) : null;
    return got ? got.label : id;
  }
  function labelsOf(i, then) {
    var c = Math.floor(i / M.label_chunk_size), got = (window.SITEGEN_MAP_LABELS || {})[c];
    if (got) {
      var k = i % M.label_chunk_size, id = got.ids[k];
      return { id: id, label: got.labels[k] !== null ? got.labels[k] : spelt(id) };
    }
    if (!labelChunks[c]) {
      labelChunks[c] = [];
      loadScript(dataBase + "labels-" + pad3(c) + ".js", function () {
        var cbs = labelChunks[c]; labelChunks[c] = null; cbs.forEach(function (f) { f(); });
      });
    }
    if (then && labelChunks[c]) { labelChunks[c].push(then); }
    return null;
  }
  function kindOf(i) { return facetByName.kind.values[F.kind[i]]; }
  function pageOf(i, id) { return root + M.pages[kindOf(i)] + id + "/index.html"; }

  // ------------------------------------------------------------ hover and click
  function nearest(px, py, radiusPx) {
    var r = radiusPx / scale, x = dataX(px), y = dataY(py);
    var best = -1, bestD = Infinity;
    visitCells(x - r, x + r, y - r, y + r, function (i) {
      var dx = sx(QX[i]) - px, dy = sy(QY[i]) - py, d = dx * dx + dy * dy;
      if (d < bestD || (d === bestD && i < best)) { bestD = d; best = i; }
      return false;
    });
    return bestD <= radiusPx * radiusPx ? best : -1;
  }
  function hitRadius() { return Math.max(8 * dpr, pictureSize() / 2 + 2 * dpr); }
  function showHover(i, clientX, clientY) {
    hovered = i;
    if (i < 0) {
      if (preview) { preview.hidden = true; }
      labelEl.textContent = "";
      labelEl.removeAttribute("data-href");
      canvas.style.cursor = selectMode ? "crosshair" : "grab";
      requestDraw();
      return;
    }
    canvas.style.cursor = selectMode ? "crosshair" : "pointer";
    var info = labelsOf(i, function () { if (hovered === i) { showHover(i, clientX, clientY); } });
    if (info) {
      labelEl.textContent = info.label;
      labelEl.setAttribute("data-href", pageOf(i, info.id));
      if (preview) {
        previewLabel.textContent = info.label;
        previewImg.hidden = !!noThumb[i];
        var src = root + M.thumbs[kindOf(i)] + info.id + ".thumb.webp";
        if (!noThumb[i] && previewImg.getAttribute("src") !== src) { previewImg.src = src; }
        previewImg.alt = "";
        var wrap = canvas.parentNode.getBoundingClientRect();
        var left = clientX - wrap.left + 14, top = clientY - wrap.top + 14;
        if (left + 220 > wrap.width) { left = Math.max(0, clientX - wrap.left - 234); }
        if (top + 150 > wrap.height) { top = Math.max(0, clientY - wrap.top - 150); }
        preview.style.left = left + "px";
        preview.style.top = top + "px";
        preview.hidden = false;
      }
    }
    requestDraw();
  }
  function openItem(i) {
    var info = labelsOf(i, function () { openItem(i); });
    if (info) { window.location.href = pageOf(i, info.id); }
  }
  function canvasPoint(evt) {
    var r = canvas.getBoundingClientRect();
    return [(evt.clientX - r.left - canvas.clientLeft) * W / canvas.clientWidth,
            (evt.clientY - r.top - canvas.clientTop) * H / canvas.clientHeight];
  }

  // ------------------------------------------------------------ selecting an area
  var selectMode = false, box = null, selected = [];
  var selBox = $("map-selection"), selCount = $("map-selection-count"), selList = $("map-selection-list");
  var selMore = $("map-selection-more"), SHOW_SELECTED = 100;
  function setSelectMode(on) {
    selectMode = on;
    var b = $("map-select");
    if (b) { b.setAttribute("aria-pressed", on ? "true" : "false"); }
    canvas.style.cursor = on ? "crosshair" : "grab";
  }
  function selectBox(px0, px1, py0, py1) {
    selected = itemsInBox(Math.min(px0, px1), Math.max(px0, px1), Math.min(py0, py1), Math.max(py0, py1), n) || [];
    selected.sort(function (a, b) { return a - b; });
    renderSelection();
    requestDraw();
  }
  function renderSelection() {
    if (!selBox) { return; }
    selBox.hidden = false;
    var shown = selected.slice(0, SHOW_SELECTED), token = {};
    renderSelection.token = token;
    selCount.textContent = selected.length === 0 ? "No item in the selected area." :
      selected.length === 1 ? "1 item selected:" : selected.length + " items selected:";
    selCount.setAttribute("data-count", String(selected.length));
    selList.textContent = "";
    selMore.textContent = selected.length > shown.length ?
      "and " + (selected.length - shown.length) + " more (zoom in or select a smaller area to list them)." : "";
    var missing = 0;
    function fill() {   // once every label of the listed items has arrived
      if (renderSelection.token !== token) { return; }
      selList.textContent = "";
      shown.forEach(function (i) {
        var info = labelsOf(i), li = document.createElement("li"), a = document.createElement("a");
        a.href = pageOf(i, info.id);
        a.textContent = info.label;
        li.appendChild(a);
        selList.appendChild(li);
      });
      selList.setAttribute("data-complete", "true");
    }
    selList.removeAttribute("data-complete");
    shown.forEach(function (i) {
      if (!labelsOf(i, function () { if (--missing === 0) { fill(); } })) { missing++; }
    });
    if (missing === 0) { fill(); }
  }
  function clearSelection() {
    selected = [];
    if (selBox) { selBox.hidden = true; selList.textContent = ""; }
    requestDraw();
  }

  // ------------------------------------------------------------ pointer, wheel, keys
  var drag = null, keyboardMode = false;
  canvas.addEventListener("pointerdown", function (evt) {
    if (!ready) { return; }
    keyboardMode = false;
    if (selectMode || evt.shiftKey) {
      var p = canvasPoint(evt);
      box = { x0: p[0], y0: p[1], x1: p[0], y1: p[1] };
    } else {
      drag = { x: evt.clientX, y: evt.clientY, sx: state.x, sy: state.y, moved: false };
    }
    try { canvas.setPointerCapture(evt.pointerId); } catch (e) { /* not all pointers can be captured */ }
  });
  canvas.addEventListener("pointermove", function (evt) {
    if (!ready) { return; }
    if (box) {
      var q = canvasPoint(evt);
      box.x1 = q[0]; box.y1 = q[1];
      requestDraw();
      return;
    }
    if (drag) {
      var dx = evt.clientX - drag.x, dy = evt.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 4) { drag.moved = true; }
      if (drag.moved) {
        state.x = drag.sx - dx * dpr / scale; state.y = drag.sy + dy * dpr / scale;
        canvas.style.cursor = "grabbing";
        viewChanged();
        return;
      }
    }
    var p = canvasPoint(evt);
    showHover(nearest(p[0], p[1], hitRadius()), evt.clientX, evt.clientY);
  });
  canvas.addEventListener("pointerup", function (evt) {
    if (box) {
      var b = box;
      box = null;
      if (Math.abs(b.x1 - b.x0) + Math.abs(b.y1 - b.y0) > 4) { selectBox(b.x0, b.x1, b.y0, b.y1); return; }
    }
    if (!drag && !selectMode) { return; }
    var moved = drag && drag.moved;
    drag = null;
    if (moved) { requestDraw(); }   // the whole frame again, after moving the last one
    if (!moved) {
      var p = canvasPoint(evt), i = nearest(p[0], p[1], hitRadius());
      if (i >= 0) { openItem(i); }
    }
    canvas.style.cursor = selectMode ? "crosshair" : "grab";
  });
  canvas.addEventListener("pointerleave", function () { if (!drag && !box) { showHover(-1); } });
  canvas.addEventListener("wheel", function (evt) {
    if (!ready) { return; }
    evt.preventDefault();
    var p = canvasPoint(evt);
    zoomAt(Math.pow(1.0015, -evt.deltaY), p[0], p[1]);
  }, { passive: false });

  function zoomAt(factor, px, py) {
    var bx = dataX(px), by = dataY(py);
    state.z = Math.max(0.5, Math.min(400, state.z * factor));
    updateScale();
    state.x = bx - (px - W / 2) / scale; state.y = by + (py - H / 2) / scale;
    viewChanged();
  }
  function centreItem() { return nearest(W / 2, H / 2, Math.max(hitRadius(), 24 * dpr)); }
  canvas.addEventListener("keydown", function (evt) {
    if (!ready) { return; }
    var step = 0.15 * Math.min(W, H) / scale, handled = true;
    switch (evt.key) {
      case "ArrowLeft": state.x -= step; break;
      case "ArrowRight": state.x += step; break;
      case "ArrowUp": state.y += step; break;
      case "ArrowDown": state.y -= step; break;
      case "+": case "=": zoomAt(1.5, W / 2, H / 2); break;
      case "-": case "_": zoomAt(1 / 1.5, W / 2, H / 2); break;
      case "0": home(); break;
      case "Enter": var i = centreItem(); if (i >= 0) { openItem(i); } break;
      default: handled = false;
    }
    if (handled) {
      evt.preventDefault();
      keyboardMode = true;
      viewChanged();
      var c = centreItem(), r = canvas.getBoundingClientRect();
      showHover(c, r.left + r.width / 2, r.top + r.height / 2);
    }
  });

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
      buildGrid(); positionsChanged = true; then();
    }
    if (!L.file) { use(null); return; }
    var got = (window.SITEGEN_MAP_LAYOUTS || {})[L.name];
    if (got) { use(got); return; }
    loadScript(dataBase + L.file, function () { use((window.SITEGEN_MAP_LAYOUTS || {})[L.name] || null); });
  }

  // ------------------------------------------------------------ the address keeps the view
  var FIELDS = M.facets.map(function (f) { return f.name; });
  function hashOf() {
    var parts = [];
    if (layouts.length && state.layout !== layouts[0].name) { parts.push("layout=" + encodeURIComponent(state.layout)); }
    parts.push("x=" + state.x.toFixed(4), "y=" + state.y.toFixed(4), "z=" + state.z.toFixed(3),
               "color=" + encodeURIComponent(state.color));
    FIELDS.forEach(function (name) {
      var v = state.filters[name];
      if (v !== undefined && v !== "") { parts.push(name + "=" + encodeURIComponent(v)); }
    });
    return "#" + parts.join("&");
  }
  var lastHash = null, hashTimer = null;
  function writeHash() {
    var h = hashOf();
    if (h === lastHash) { return; }
    lastHash = h;
    try { history.replaceState(null, "", h); } catch (e) { window.location.replace(h); }
  }
  function readHash() {
    var h = window.location.hash.replace(/^#/, "");
    if (!h) { return false; }
    var got = {};
    h.split("&").forEach(function (kv) {
      var p = kv.indexOf("=");
      if (p > 0) { got[decodeURIComponent(kv.slice(0, p))] = decodeURIComponent(kv.slice(p + 1)); }
    });
    ["x", "y", "z"].forEach(function (k) { var v = parseFloat(got[k]); if (isFinite(v)) { state[k] = v; } });
    state.z = Math.max(0.5, Math.min(400, state.z));
    if (got.color && facetByName[got.color]) { state.color = got.color; }
    state.layout = got.layout && layoutByName(got.layout) ? got.layout : (layouts.length ? layouts[0].name : "");
    state.filters = {};
    FIELDS.forEach(function (name) { if (got[name] !== undefined) { state.filters[name] = got[name]; } });
    return true;
  }
  function syncControls() {
    $("map-color").value = state.color;
    var lay = $("map-layout");
    if (lay) { lay.value = state.layout; }
    FIELDS.forEach(function (name) {
      var sel = $("filter-" + name), v = state.filters[name] || "";
      if (sel) {
        sel.value = v;
        if (sel.value !== v) { sel.value = ""; delete state.filters[name]; }   // a value this site does not have
      }
    });
  }
  function viewChanged() {
    requestDraw();
    clearTimeout(hashTimer);
    hashTimer = setTimeout(writeHash, 150);
  }
  window.addEventListener("hashchange", function () {
    if (window.location.hash === lastHash) { return; }
    if (readHash()) {
      syncControls(); computeColours(); computeVisible();
      applyLayout(state.layout, function () { lastHash = hashOf(); clearSelection(); requestDraw(); });
    }
  });

  // ------------------------------------------------------------ controls
  function on(id, type, f) { var el = $(id); if (el) { el.addEventListener(type, f); } }
  function wireControls() {
    controls.hidden = false;
    controls.addEventListener("submit", function (evt) { evt.preventDefault(); });
    on("map-color", "change", function () { state.color = this.value; computeColours(); viewChanged(); });
    on("map-layout", "change", function () {
      var name = this.value;
      applyLayout(name, function () {
        state.layout = name; resize(); home();
        clearSelection(); viewChanged();
      });
    });
    FIELDS.forEach(function (name) {
      on("filter-" + name, "change", function () {
        if (this.value) { state.filters[name] = this.value; } else { delete state.filters[name]; }
        computeVisible(); viewChanged();
      });
    });
    on("map-zoom-in", "click", function () { zoomAt(1.5, W / 2, H / 2); });
    on("map-zoom-out", "click", function () { zoomAt(1 / 1.5, W / 2, H / 2); });
    on("map-reset", "click", function () { home(); viewChanged(); });
    on("map-select", "click", function () { setSelectMode(!selectMode); });
    on("map-select-view", "click", function () { selectBox(0, W, 0, H); });
    on("map-selection-clear", "click", clearSelection);
  }
  window.addEventListener("resize", requestDraw);

  // ------------------------------------------------------------ start: points and overview sheets, then draw
  function start() {
    buildGrid();
    readHash();
    if (webglWanted() && initGL()) { /* WebGL draws the pictures */ } else { ctx = canvas.getContext("2d"); }
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
  var waiting = M.chunks + 1;
  function arrived() { if (--waiting === 0) { start(); } }
  if (ovLeft === 0) { arrived(); }
  OV.files.forEach(function (f, s) {
    ovSheets[s] = loadImage(dataBase + f, function () { if (--ovLeft === 0) { arrived(); } });
  });
  for (var c = 0; c < M.chunks; c++) {
    (function (c) {
      loadScript(dataBase + "points-" + pad3(c) + ".js", function (ok) {
        var text = (window.SITEGEN_MAP_POINTS || {})[c];
        if (ok && text) { decodeChunk(c, text); delete window.SITEGEN_MAP_POINTS[c]; }
        arrived();
      });
    })(c);
  }
  var tainted = false;
  window.SITEGEN_MAP_API = {   // for tests and the benchmark: where an item is drawn, in page pixels
    position: function (i) {
      var r = canvas.getBoundingClientRect();
      return { x: r.left + canvas.clientLeft + sx(QX[i]) * canvas.clientWidth / W,
               y: r.top + canvas.clientTop + sy(QY[i]) * canvas.clientHeight / H };
    },
    visibleCount: function () { return nVisible; },
    isVisible: function (i) { return !!visible[i]; },
    state: function () { return JSON.parse(JSON.stringify(state)); },
    renderer: function () { return gl ? "webgl" : "2d"; },
    pictureSize: function () { return pictureSize() / dpr; },
    sheetsLoaded: function () { return Object.keys(detSheets).filter(function (s) { return detSheets[s].ready; }).length; },
    selected: function () { return selected.slice(); },
    drawMs: function () {   // one full frame, waiting for the graphics card to finish it
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
    hitMs: function (px, py) { var t0 = performance.now(); nearest(px, py, hitRadius()); return performance.now() - t0; }
  };
})();
