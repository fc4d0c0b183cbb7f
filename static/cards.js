// @ts-check
/* Lists of drawings and artworks: put each item's thumbnail into its link. The pages carry only the links
   (shorter pages, and the lists work without scripts); a thumbnail's address follows from its link's:
   <root>drawings/<id>/index.html -> <root>images/drawings/<id>.thumb.webp (the same for artworks).
   Items marked "no-pic" have no picture. Lists drawn later by a script (static/related.js) call
   window.SITEGEN_CARDS(element) for the same. */
(function () {
  "use strict";
  function decorate(scope) {
    Array.prototype.forEach.call(scope.querySelectorAll(".cards"), function (list) { list.classList.add("pictured"); });
    Array.prototype.forEach.call(scope.querySelectorAll(".cards > li:not(.no-pic)"), function (li) {
      var a = li.querySelector("a");
      var src = a && !a.querySelector("img") && thumbOfPage(a.getAttribute("href") || "");
      if (!a || !src) { return; }
      var img = el("img");
      img.src = src;
      img.alt = "";          // the link's text names the item
      img.width = 160;
      img.height = 160;
      img.loading = "lazy";
      img.decoding = "async";
      a.insertBefore(img, a.firstChild);
    });
  }
  window.SITEGEN_CARDS = decorate;
  decorate(document);
})();
