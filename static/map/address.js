// @ts-check
/* The map's view kept in the address (#layout=..&x=..&y=..&z=..&color=..&FILTER=..), so that it can be shared. */

// ------------------------------------------------------------ the address keeps the view
/** @type {string[]} */
var FIELDS = [];   // the facets' names, which the address may filter on
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
/** @type {string | null} */
var lastHash = null;
var hashTimer = 0;
function writeHash() {
  var h = hashOf();
  if (h === lastHash) { return; }
  lastHash = h;
  replaceAddress(h);
}
function readHash() {
  if (!window.location.hash.replace(/^#/, "")) { return false; }
  var got = parseHash(window.location.hash);
  ["x", "y", "z"].forEach(function (k) { var v = parseFloat(got[k]); if (isFinite(v)) { state[k] = v; } });
  state.z = Math.max(0.5, Math.min(400, state.z));
  if (got.color && facetByName[got.color]) { state.color = got.color; }
  state.layout = got.layout && layoutByName(got.layout) ? got.layout : (layouts.length ? layouts[0].name : "");
  state.filters = {};
  FIELDS.forEach(function (name) { if (got[name] !== undefined) { state.filters[name] = got[name]; } });
  return true;
}
function syncControls() {
  /** @type {HTMLSelectElement} */ ($("map-color")).value = state.color;
  var lay = /** @type {HTMLSelectElement | null} */ ($("map-layout"));
  if (lay) { lay.value = state.layout; }
  FIELDS.forEach(function (name) {
    var sel = /** @type {HTMLSelectElement | null} */ ($("filter-" + name)), v = state.filters[name] || "";
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
function listenAddress() {
  window.addEventListener("hashchange", function () {
    if (window.location.hash === lastHash) { return; }
    if (readHash()) {
      syncControls(); computeColours(); computeVisible();
      applyLayout(state.layout, function () { lastHash = hashOf(); clearSelection(); requestDraw(); });
    }
  });
}
