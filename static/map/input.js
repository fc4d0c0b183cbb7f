// @ts-check
/* The map's input: pointing (hover, click, drag), the wheel, keys, selecting an area, the controls. */

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
      var src = root + thumbUrl(M.thumbs[kindOf(i)], info.id);
      if (!noThumb[i] && previewImg.getAttribute("src") !== src) { previewImg.src = src; }
      previewImg.alt = "";
      var wrap = canvas.parentElement.getBoundingClientRect();
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
/** @type {Object | null} */
var selectionToken = null;   // the latest listing: a list whose labels arrive after a newer one is dropped
function renderSelection() {
  if (!selBox) { return; }
  selBox.hidden = false;
  var shown = selected.slice(0, SHOW_SELECTED), token = {};
  selectionToken = token;
  selCount.textContent = selected.length === 0 ? t("No item in the selected area.") :
    tn("%(num)s item selected:", "%(num)s items selected:", selected.length);
  selCount.setAttribute("data-count", String(selected.length));
  selList.textContent = "";
  selMore.textContent = selected.length > shown.length ?
    t("and %(n)s more (zoom in or select a smaller area to list them).", {n: selected.length - shown.length}) : "";
  var missing = 0;
  function fill() {   // once every label of the listed items has arrived
    if (selectionToken !== token) { return; }
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
function zoomAt(factor, px, py) {
  // the point under the pointer stays there (from the centre itself, not the one rounded to whole pixels)
  var bx = (px - W / 2) / scale + state.x, by = -(py - H / 2) / scale + state.y;
  state.z = Math.max(0.5, Math.min(400, state.z * factor));
  updateScale();
  state.x = bx - (px - W / 2) / scale; state.y = by + (py - H / 2) / scale;
  viewChanged();
}
function centreItem() { return nearest(W / 2, H / 2, Math.max(hitRadius(), 24 * dpr)); }
function listenInput() {
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
  }

// ------------------------------------------------------------ controls
/**
 * @param {string} id
 * @param {string} type
 * @param {function(this: HTMLSelectElement): void} f
 */
function on(id, type, f) { var el = $(id); if (el) { el.addEventListener(type, /** @type {EventListener} */ (f)); } }
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
