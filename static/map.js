/* A first map: every drawing and artwork as a dot placed by the layout. Hover names it, click opens it. */
(function () {
  "use strict";
  var data = window.SITEGEN_LAYOUT;
  var canvas = document.getElementById("map");
  var label = document.getElementById("map-label");
  if (!data || !canvas) { return; }
  var ctx = canvas.getContext("2d");
  var root = "../";
  var pts = data.points;
  var pad = 12;
  function place(p) {
    return [pad + (p[2] + 1) / 2 * (canvas.width - 2 * pad), pad + (1 - (p[3] + 1) / 2) * (canvas.height - 2 * pad)];
  }
  function draw(highlight) {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    for (var i = 0; i < pts.length; i++) {
      var xy = place(pts[i]);
      ctx.fillStyle = pts[i][0] === "d" ? "rgba(180,83,9,0.75)" : "rgba(29,78,216,0.8)";
      ctx.beginPath();
      ctx.arc(xy[0], xy[1], i === highlight ? 6 : 3, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  function nearest(evt) {
    var r = canvas.getBoundingClientRect();
    var x = (evt.clientX - r.left) * canvas.width / r.width, y = (evt.clientY - r.top) * canvas.height / r.height;
    var best = -1, bestD = 100;
    for (var i = 0; i < pts.length; i++) {
      var xy = place(pts[i]); var d = (xy[0] - x) * (xy[0] - x) + (xy[1] - y) * (xy[1] - y);
      if (d < bestD) { bestD = d; best = i; }
    }
    return best;
  }
  function url(p) { return root + (p[0] === "d" ? "drawings/" : "artworks/") + p[1] + "/index.html"; }
  canvas.addEventListener("mousemove", function (evt) {
    var i = nearest(evt);
    label.textContent = i >= 0 ? pts[i][4] : "";
    canvas.style.cursor = i >= 0 ? "pointer" : "crosshair";
    draw(i);
  });
  canvas.addEventListener("click", function (evt) {
    var i = nearest(evt);
    if (i >= 0) { window.location.href = url(pts[i]); }
  });
  draw(-1);
})();
