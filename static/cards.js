/* Lists of drawings and artworks: put each item's thumbnail into its link. The pages carry only the links
   (shorter pages, and the lists work without scripts); a thumbnail's address follows from its link's:
   <root>drawings/<id>/index.html -> <root>images/drawings/<id>.thumb.webp (the same for artworks).
   Items marked "no-pic" have no picture. */
(function () {
  "use strict";
  var PAGE = /^(.*?)(drawings|artworks)\/([^\/]+)\/index\.html$/;
  Array.prototype.forEach.call(document.querySelectorAll(".cards"), function (list) { list.classList.add("pictured"); });
  var items = document.querySelectorAll(".cards > li:not(.no-pic)");
  Array.prototype.forEach.call(items, function (li) {
    var a = li.querySelector("a");
    var m = a && PAGE.exec(a.getAttribute("href") || "");
    if (!m) { return; }
    var img = document.createElement("img");
    img.src = m[1] + "images/" + m[2] + "/" + m[3] + ".thumb.webp";
    img.alt = "";          // the link's text names the item
    img.width = 160;
    img.height = 160;
    img.loading = "lazy";
    img.decoding = "async";
    a.insertBefore(img, a.firstChild);
  });
})();
