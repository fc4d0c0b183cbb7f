/* The map: every drawing and artwork placed by the layout, drawn on a canvas.
 *
 * Data come from data/map/*.js (see generator/mapdata.py), loaded with <script> tags so the map also works
 * from file://. Zoomed out, points are written straight into one ImageData in a single pass; zoomed in,
 * thumbnails are cut from atlas sheets. A uniform grid over the quantised coordinates answers
 * "which item is under the pointer" without scanning every point. The view (centre, zoom, colour, filters)
 * lives in the address (#x=..&y=..&z=..&color=..&country=..), so it can be shared and comes back.
 */
(function () {
  "use strict";
  var M = window.SITEGEN_MAP;
  var canvas = document.getElementById("map");
  if (!M || !canvas) { return; }
  var root = canvas.getAttribute("data-root") || "../";
  var dataBase = root + "data/map/";
  var ctx = canvas.getContext("2d");
  var n = M.count, Q = M.quant;
  var $ = function (id) { return document.getElementById(id); };
  var countEl = $("map-count"), labelEl = $("map-label"), legendEl = $("map-legend");
  var preview = $("map-preview"), previewImg = $("map-preview-img"), previewLabel = $("map-preview-label");
  var controls = $("map-controls");
  var noThumb = {};  // points whose picture could not be made: their preview shows the label only
  (M.no_thumb || []).forEach(function (i) { noThumb[i] = true; });

  // ------------------------------------------------------------ data
  var QX = new Uint16Array(n), QY = new Uint16Array(n);
  var F = {}, facetByName = {};
  M.facets.forEach(function (f) { F[f.name] = new Uint16Array(n); facetByName[f.name] = f; });

  function decodeChunk(c, text) {
    var bin = atob(text), start = c * M.chunk_size, len = Math.min(M.chunk_size, n - start), off = 0, i;
    function u16() { var v = bin.charCodeAt(off) | (bin.charCodeAt(off + 1) << 8); off += 2; return v; }
    for (i = 0; i < len; i++) { QX[start + i] = u16(); }
    for (i = 0; i < len; i++) { QY[start + i] = u16(); }
    M.facets.forEach(function (f) {
      var col = F[f.name];
      for (var k = 0; k < len; k++) {
        if (f.wide) { col[start + k] = u16(); } else { col[start + k] = bin.charCodeAt(off); off += 1; }
      }
    });
  }

  function loadScript(src, done) {
    var s = document.createElement("script");
    s.src = src;
    s.onload = function () { done(true); };
    s.onerror = function () { done(false); };
    document.head.appendChild(s);
  }
  function pad3(c) { return ("00" + c).slice(-3); }

  // ------------------------------------------------------------ hit-testing grid
  var G = 128, SHIFT = 9;   // 65536 / 128 = 512 = 1 << 9
  var cellStart = new Int32Array(G * G + 1), cellItems = new Int32Array(n);
  function buildGrid() {
    var counts = new Int32Array(G * G), i;
    for (i = 0; i < n; i++) { counts[(QX[i] >> SHIFT) + (QY[i] >> SHIFT) * G]++; }
    for (i = 0; i < G * G; i++) { cellStart[i + 1] = cellStart[i] + counts[i]; }
    var fill = cellStart.slice(0, G * G);
    for (i = 0; i < n; i++) { cellItems[fill[(QX[i] >> SHIFT) + (QY[i] >> SHIFT) * G]++] = i; }
  }

  // ------------------------------------------------------------ state and view
  var state = { x: 0, y: 0, z: 1, color: "kind", filters: {} };
  var W = 0, H = 0, dpr = 1, scale = 1;
  var visible = new Uint8Array(n), nVisible = 0, colour32 = new Uint32Array(n);
  var hovered = -1, ready = false, pending = false, image = null, buf32 = null;

  function resize() {
    dpr = window.devicePixelRatio || 1;
    var r = canvas.getBoundingClientRect();
    var w = Math.max(200, Math.round(r.width * dpr)), h = Math.max(200, Math.round(r.height * dpr));
    if (w !== canvas.width || h !== canvas.height || !image) {
      canvas.width = w; canvas.height = h;
      image = ctx.createImageData(w, h);
      buf32 = new Uint32Array(image.data.buffer);
    }
    W = canvas.width; H = canvas.height;
  }
  function updateScale() { scale = state.z * Math.min(W, H) / 2 * 0.94; }
  // data coordinates in [-1, 1] (y up) <-> canvas pixels
  function sx(q) { return W / 2 + ((q / Q) * 2 - 1 - state.x) * scale; }
  function sy(q) { return H / 2 - ((q / Q) * 2 - 1 - state.y) * scale; }
  function dataX(px) { return (px - W / 2) / scale + state.x; }
  function dataY(py) { return -(py - H / 2) / scale + state.y; }

  // ------------------------------------------------------------ colours
  var PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                 "#bcbd22", "#393b79", "#637939", "#843c39"];
  var OTHER = "#9a9a9a", NONE = "#cfcac2";
  var KIND = { d: "#b45309", a: "#1d4ed8" };
  function rgb32(hex) {   // canvas ImageData is RGBA in memory: little-endian uint32 = A B G R
    var v = parseInt(hex.slice(1), 16);
    return (0xff << 24 | (v & 0xff) << 16 | (v & 0xff00) | (v >> 16 & 0xff)) >>> 0;
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
  }

  // ------------------------------------------------------------ drawing
  var sheets = {};   // atlas sheet number -> Image (loading or loaded)
  var THUMB_LIMIT = 600;
  function sheet(s) {
    if (!sheets[s]) {
      var img = new Image();
      img.onload = function () { img.ready = true; requestDraw(); };
      img.src = dataBase + M.atlas.files[s];
      sheets[s] = img;
    }
    return sheets[s];
  }
  // Items of the grid cells overlapping the canvas (and a margin), visible ones only.
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
  function itemsInView(marginPx, limit) {
    var out = [], full = false;
    visitCells(dataX(-marginPx), dataX(W + marginPx), dataY(H + marginPx), dataY(-marginPx), function (i) {
      var px = sx(QX[i]), py = sy(QY[i]);
      if (px < -marginPx || px > W + marginPx || py < -marginPx || py > H + marginPx) { return false; }
      out.push(i);
      full = out.length > limit;
      return full;
    });
    return full ? null : out;
  }
  function thumbSize() { return Math.round(Math.min(64, Math.max(28, scale * 0.05)) * dpr); }
  var thumbsShown = false;
  function draw() {
    pending = false;
    if (!ready) { return; }
    resize(); updateScale();
    var bg = rgb32("#ffffff");
    buf32.fill(bg);
    var size = Math.max(3, Math.min(8, Math.round((2.5 + Math.log2(state.z)) * dpr)));
    var half = size >> 1;
    for (var i = 0; i < n; i++) {
      if (!visible[i]) { continue; }
      var px = Math.round(sx(QX[i])) - half, py = Math.round(sy(QY[i])) - half;
      if (px < 0 || py < 0 || px + size > W || py + size > H) { continue; }
      var c = colour32[i], o = py * W + px;
      for (var r = 0; r < size; r++, o += W) { for (var k = 0; k < size; k++) { buf32[o + k] = c; } }
    }
    ctx.putImageData(image, 0, 0);
    var T = thumbSize(), inView = itemsInView(T, THUMB_LIMIT);
    thumbsShown = !!(inView && M.atlas.files.length && state.z >= 2);
    if (thumbsShown) {
      var cell = M.atlas.cell, per = M.atlas.per_sheet, row = M.atlas.per_row;
      inView.forEach(function (i) {
        var img = sheet(Math.floor(i / per));
        var px = sx(QX[i]), py = sy(QY[i]);
        if (img.ready) {
          var k = i % per;
          ctx.drawImage(img, (k % row) * cell, Math.floor(k / row) * cell, cell, cell, px - T / 2, py - T / 2, T, T);
        }
        ctx.strokeStyle = "#" + ("00000" + (colour32[i] & 0xffffff).toString(16)).slice(-6).replace(/(..)(..)(..)/, "$3$2$1");
        ctx.lineWidth = Math.max(1, dpr);
        ctx.strokeRect(px - T / 2, py - T / 2, T, T);
      });
    }
    if (hovered >= 0 && visible[hovered]) {
      ctx.beginPath();
      ctx.lineWidth = 2 * dpr;
      ctx.strokeStyle = "#111";
      var hr = thumbsShown ? T / 2 + 3 * dpr : 6 * dpr;
      ctx.arc(sx(QX[hovered]), sy(QY[hovered]), hr, 0, 2 * Math.PI);
      ctx.stroke();
    }
    if (keyboardMode) {   // the crosshair marks what Enter opens
      ctx.strokeStyle = "rgba(0,0,0,0.5)"; ctx.lineWidth = dpr;
      ctx.beginPath(); ctx.moveTo(W / 2 - 10 * dpr, H / 2); ctx.lineTo(W / 2 + 10 * dpr, H / 2);
      ctx.moveTo(W / 2, H / 2 - 10 * dpr); ctx.lineTo(W / 2, H / 2 + 10 * dpr); ctx.stroke();
    }
    if (window.SITEGEN_FIRST_FRAME_MS === undefined) {
      window.SITEGEN_FIRST_FRAME_MS = performance.now();
      if (performance.mark) { performance.mark("sitegen-map-first-frame"); }
      canvas.setAttribute("data-ready", "true");
    }
  }
  function requestDraw() {
    if (!pending) { pending = true; window.requestAnimationFrame(draw); }
  }

  // ------------------------------------------------------------ labels (loaded on demand)
  var labelChunks = {};
  function labelsOf(i, then) {
    var c = Math.floor(i / M.label_chunk_size), got = (window.SITEGEN_MAP_LABELS || {})[c];
    if (got) { return { id: got.ids[i % M.label_chunk_size], label: got.labels[i % M.label_chunk_size] }; }
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
  function hitRadius() { return thumbsShown ? thumbSize() / 2 + 2 * dpr : 8 * dpr; }
  function showHover(i, clientX, clientY) {
    hovered = i;
    if (i < 0) {
      if (preview) { preview.hidden = true; }
      labelEl.textContent = "";
      labelEl.removeAttribute("data-href");
      canvas.style.cursor = "grab";
      requestDraw();
      return;
    }
    canvas.style.cursor = "pointer";
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
    return [(evt.clientX - r.left) * W / r.width, (evt.clientY - r.top) * H / r.height];
  }
  var drag = null, keyboardMode = false;
  canvas.addEventListener("pointerdown", function (evt) {
    if (!ready) { return; }
    keyboardMode = false;
    drag = { x: evt.clientX, y: evt.clientY, sx: state.x, sy: state.y, moved: false };
    try { canvas.setPointerCapture(evt.pointerId); } catch (e) { /* not all pointers can be captured */ }
  });
  canvas.addEventListener("pointermove", function (evt) {
    if (!ready) { return; }
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
    if (!drag) { return; }
    var moved = drag.moved;
    drag = null;
    if (!moved) {
      var p = canvasPoint(evt), i = nearest(p[0], p[1], hitRadius());
      if (i >= 0) { openItem(i); }
    }
  });
  canvas.addEventListener("pointerleave", function () { if (!drag) { showHover(-1); } });
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
      case "0": state.x = 0; state.y = 0; state.z = 1; break;
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

  // ------------------------------------------------------------ the address keeps the view
  var FIELDS = M.facets.map(function (f) { return f.name; });
  function hashOf() {
    var parts = ["x=" + state.x.toFixed(4), "y=" + state.y.toFixed(4), "z=" + state.z.toFixed(3),
                 "color=" + encodeURIComponent(state.color)];
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
    state.filters = {};
    FIELDS.forEach(function (name) { if (got[name] !== undefined) { state.filters[name] = got[name]; } });
    return true;
  }
  function syncControls() {
    $("map-color").value = state.color;
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
    if (readHash()) { syncControls(); computeColours(); computeVisible(); lastHash = hashOf(); requestDraw(); }
  });

  // ------------------------------------------------------------ controls
  function wireControls() {
    controls.hidden = false;
    controls.addEventListener("submit", function (evt) { evt.preventDefault(); });
    $("map-color").addEventListener("change", function () {
      state.color = this.value; computeColours(); viewChanged();
    });
    FIELDS.forEach(function (name) {
      var sel = $("filter-" + name);
      if (!sel) { return; }
      sel.addEventListener("change", function () {
        if (this.value) { state.filters[name] = this.value; } else { delete state.filters[name]; }
        computeVisible(); viewChanged();
      });
    });
    $("map-zoom-in").addEventListener("click", function () { zoomAt(1.5, W / 2, H / 2); });
    $("map-zoom-out").addEventListener("click", function () { zoomAt(1 / 1.5, W / 2, H / 2); });
    $("map-reset").addEventListener("click", function () { state.x = 0; state.y = 0; state.z = 1; viewChanged(); });
  }
  window.addEventListener("resize", requestDraw);

  // ------------------------------------------------------------ start: load every point chunk, then draw
  function start() {
    buildGrid();
    readHash();
    wireControls();
    syncControls();
    computeColours();
    computeVisible();
    lastHash = window.location.hash || null;
    ready = true;
    canvas.style.cursor = "grab";
    draw();
  }
  var left = M.chunks;
  if (left === 0) { start(); return; }
  for (var c = 0; c < M.chunks; c++) {
    (function (c) {
      loadScript(dataBase + "points-" + pad3(c) + ".js", function (ok) {
        var text = (window.SITEGEN_MAP_POINTS || {})[c];
        if (ok && text) { decodeChunk(c, text); delete window.SITEGEN_MAP_POINTS[c]; }
        if (--left === 0) { start(); }
      });
    })(c);
  }
  window.SITEGEN_MAP_API = {   // for tests and the benchmark: where an item is drawn, in page pixels
    position: function (i) {
      var r = canvas.getBoundingClientRect();
      return { x: r.left + sx(QX[i]) * r.width / W, y: r.top + sy(QY[i]) * r.height / H };
    },
    visibleCount: function () { return nVisible; },
    isVisible: function (i) { return !!visible[i]; },
    state: function () { return JSON.parse(JSON.stringify(state)); },
    sheetsLoaded: function () { return Object.keys(sheets).filter(function (s) { return sheets[s].ready; }).length; },
    drawMs: function () { var t0 = performance.now(); draw(); return performance.now() - t0; },
    hitMs: function (px, py) { var t0 = performance.now(); nearest(px, py, hitRadius()); return performance.now() - t0; }
  };
})();
