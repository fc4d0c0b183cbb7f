/* Every page: the search box in the header opens the search page with the words typed. */
(function () {
  "use strict";
  var form = document.querySelector("form.site-search");
  if (!form) { return; }
  var input = form.querySelector("input");
  form.addEventListener("submit", function (evt) {
    evt.preventDefault();
    var q = input.value.trim();
    // form.action is the search page's address, resolved against this page (works from a subfolder and file://).
    window.location.href = form.action + (q ? "?q=" + encodeURIComponent(q) : "");
  });
  form.hidden = false;
})();
