// @ts-check
/* The shared core of the site's scripts, part 2: making elements. */

/**
 * A new element with attributes (set as written, "class" included) and text.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Object<string, string>} [attrs]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, attrs, text) {
  var e = document.createElement(tag);
  var a = attrs || {};
  Object.keys(a).forEach(function (k) { e.setAttribute(k, a[k]); });
  if (text) { e.textContent = text; }
  return e;
}
