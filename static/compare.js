/* Drawing page: lay the artwork over the drawing and blend the two with a slider (keyboard: Tab, then arrow keys). */
(function () {
  "use strict";
  var box = document.getElementById("compare");
  var toggle = document.getElementById("compare-toggle");
  var mix = document.getElementById("compare-mix");
  var stage = document.getElementById("compare-stage");
  var pair = document.getElementById("pair");
  if (!box || !toggle || !mix || !stage || !pair) { return; }
  var drawing = pair.querySelector(".pair-drawing img");
  var artwork = pair.querySelector(".pair-artwork img");
  if (!drawing || !artwork) { return; }
  var under = null, over = null;

  function build() {
    under = document.createElement("img");
    under.src = drawing.currentSrc || drawing.src;
    under.alt = drawing.alt;
    over = document.createElement("img");
    over.src = artwork.currentSrc || artwork.src;
    over.alt = artwork.alt + " (laid over the drawing)";
    over.className = "compare-over";
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
    toggle.textContent = on ? "Show the two pictures side by side" : "Lay the artwork over the drawing";
    blend();
  });
  mix.addEventListener("input", blend);
  box.hidden = false;
})();
