// @ts-check
/* Drawing page: lay the artwork over the drawing and blend the two with a slider (keyboard: Tab, then arrow keys). */
(function () {
  "use strict";
  var pair = document.getElementById("pair");
  if (!pair) { return; }
  var drawing = /** @type {HTMLImageElement | null} */ (pair.querySelector(".pair-drawing img"));
  var artwork = /** @type {HTMLImageElement | null} */ (pair.querySelector(".pair-artwork img"));
  if (!drawing || !artwork) { return; }
  // The controls are made here, not written into every drawing page: without this script they could not work.
  var box = el("div", {"class": "overlay", id: "overlay"});
  var toggle = el("button", {type: "button", id: "overlay-toggle", "aria-pressed": "false", "aria-controls": "overlay-stage"});
  toggle.textContent = t("Lay the artwork over the drawing");
  var label = el("label", {"for": "overlay-mix"});
  label.textContent = t("Artwork shown");
  var mix = el("input", {type: "range", id: "overlay-mix", min: "0", max: "100", step: "5", value: "50", "aria-valuetext": "50%"});
  mix.disabled = true;
  var stage = el("div", {"class": "overlay-stage", id: "overlay-stage"});
  stage.hidden = true;
  box.appendChild(toggle); box.appendChild(label); box.appendChild(mix); box.appendChild(stage);
  pair.parentNode.insertBefore(box, pair.nextSibling);
  var under = null, over = null;

  function build() {
    under = document.createElement("img");
    under.src = drawing.currentSrc || drawing.src;
    under.alt = drawing.alt;
    over = document.createElement("img");
    over.src = artwork.currentSrc || artwork.src;
    over.alt = artwork.alt + " (laid over the drawing)";
    over.className = "overlay-over";
    stage.appendChild(under);
    stage.appendChild(over);
  }
  function blend() {
    var v = Number(mix.value);
    mix.setAttribute("aria-valuetext", v + "% artwork");
    if (over) { over.style.opacity = String(v / 100); }
  }
  toggle.addEventListener("click", function () {
    var on = toggle.getAttribute("aria-pressed") !== "true";
    if (on && !over) { build(); }
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    stage.hidden = !on;
    pair.hidden = on;
    mix.disabled = !on;
    toggle.textContent = on ? t("Show the two pictures side by side") : t("Lay the artwork over the drawing");
    blend();
  });
  mix.addEventListener("input", blend);
})();
