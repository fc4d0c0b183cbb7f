// @ts-check
/* The shared core of the site's scripts, part 6: addresses.
   Pages and pictures as generator/site/urls.py places them (PAGE_FOLDERS, PICTURE_FOLDERS, drawing_url,
   thumb_url); tests/test_js_parity.py checks that the two agree. The view kept in the address (#a=1&b=2)
   so that it can be shared and bookmarked. */

/** Where an item's page and pictures are, by kind ("d" drawing, "a" artwork), from the site's home. */
var PAGE_FOLDERS = { d: "drawings/", a: "artworks/" };
var PICTURE_FOLDERS = { d: "images/drawings/", a: "images/artworks/" };

/**
 * An item's page, from the folder of its kind.
 * @param {string} folder
 * @param {string} id
 * @returns {string}
 */
function pageUrl(folder, id) { return folder + id + "/index.html"; }

/**
 * An item's small picture, from the picture folder of its kind.
 * @param {string} folder
 * @param {string} id
 * @returns {string}
 */
function thumbUrl(folder, id) { return folder + id + ".thumb.webp"; }

/**
 * The small picture of the item a link leads to (ROOT drawings/ID/index.html -> ROOT images/drawings/ID.thumb.webp);
 * null for links to other pages.
 * @param {string} href
 * @returns {string | null}
 */
function thumbOfPage(href) {
  var m = /^(.*?)(drawings|artworks)\/([^/]+)\/index\.html$/.exec(href);
  return m ? m[1] + thumbUrl("images/" + m[2] + "/", m[3]) : null;
}

/**
 * The fields of an address's fragment ("#a=1&b=x%20y" -> {a: "1", b: "x y"}); parts without "=" are left out.
 * @param {string} hash
 * @returns {Object<string, string>}
 */
function parseHash(hash) {
  /** @type {Object<string, string>} */
  var got = {};
  hash.replace(/^#/, "").split("&").forEach(function (kv) {
    var p = kv.indexOf("=");
    if (p > 0) { got[decodeURIComponent(kv.slice(0, p))] = decodeURIComponent(kv.slice(p + 1)); }
  });
  return got;
}

/**
 * Put a new address in place of the page's own, without a new step in the history.
 * @param {string} url
 */
function replaceAddress(url) {
  try { history.replaceState(null, "", url); } catch (e) { window.location.replace(url); }
}
