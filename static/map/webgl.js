// @ts-check
/* The map drawn with WebGL: one textured point sprite per item, read from the atlas sheets. */

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
function listenGL() {
  canvas.addEventListener("webglcontextlost", function (evt) { evt.preventDefault(); });
  canvas.addEventListener("webglcontextrestored", function () {
    ovSheets.concat(Object.keys(detSheets).map(function (s) { return detSheets[s]; }))
      .forEach(function (img) { if (img) { img.tex = null; } });
    if (initGL()) { positionsChanged = true; attributesChanged = true; requestDraw(); }
  });
}
function texture(img) {
  if (!img.tex) {
    img.tex = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, img.tex);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, drawable(img));
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
  gl.uniform2f(u.u_centre, (W / 2 - originX()) / scale, (originY() - H / 2) / scale);
  gl.uniform2f(u.u_canvas, W, H);
  gl.uniform1f(u.u_scale, scale);
  gl.uniform1f(u.u_size, size);
  gl.uniform1f(u.u_border, size >= 12 * dpr ? Math.max(1, dpr) / size : 0);
  gl.uniform1i(u.u_tex, 0);
  gl.activeTexture(gl.TEXTURE0);
  // Consecutive points share a sheet: one draw call per range of points, from the sharpest sheet loaded.
  // Detail sheets hold one tile each; where a tile's sheet is not loaded, its points come from the overview.
  /**
   * @param {number} start
   * @param {number} end
   * @param {SiteAtlas} L
   * @param {SiteMapPicture} img
   * @param {number} first  the point in the sheet's first cell
   */
  function drawRange(start, end, L, img, first) {
    gl.bindTexture(gl.TEXTURE_2D, texture(img));
    gl.uniform1f(u.u_start, first);
    gl.uniform1f(u.u_perRow, L.per_row);
    gl.uniform1f(u.u_cell, L.cell);
    gl.uniform2f(u.u_sheet, img.width, img.height);
    gl.drawArrays(gl.POINTS, start, end - start);
  }
  /**
   * @param {number} start
   * @param {number} end
   */
  function fromOverview(start, end) {
    for (var s = Math.floor(start / OV.per_sheet); s * OV.per_sheet < end; s++) {
      var img = ovSheets[s], a = Math.max(start, s * OV.per_sheet), b = Math.min(end, (s + 1) * OV.per_sheet);
      if (img && img.ready && b > a) { drawRange(a, b, OV, img, s * OV.per_sheet); }
    }
  }
  if (!want) { fromOverview(0, n); return; }
  var starts = DET.starts, from = 0;   // points from 'from' on wait to be drawn from the overview
  for (var s = 0; s < starts.length; s++) {
    var det = want[s] ? detSheets[s] : null;
    if (det && det.ready) {
      var end = s + 1 < starts.length ? starts[s + 1] : n;
      fromOverview(from, starts[s]);
      drawRange(starts[s], end, DET, det, starts[s]);
      from = end;
    }
  }
  fromOverview(from, n);
}
