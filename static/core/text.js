// @ts-check
/* The shared core of the site's scripts, part 4: words as the search index cuts them.
   The same rules as generator/site/search.py (fold, tokens, shard_key); tests/test_js_parity.py checks that
   the two agree. */

/**
 * Lower case without accents (compatibility decomposition, combining marks dropped).
 * @param {string} text
 * @returns {string}
 */
function fold(text) {
  return String(text).normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}

/**
 * The words of a query: folded, cut at anything but letters, digits and hyphens (hyphenated words stay
 * whole; the index also holds their parts).
 * @param {string} text
 * @returns {string[]}
 */
function queryWords(text) {
  return fold(text).split(/[^\p{L}\p{N}-]+/u).map(function (w) { return w.replace(/^-+|-+$/g, ""); })
    .filter(function (w) { return w.length > 0; });
}

/**
 * The shard of the search index holding a word: its first two characters, made safe for a file name.
 * @param {string} word
 * @returns {string}
 */
function shardKey(word) {
  var key = Array.from(word).slice(0, 2).join("");
  if (/^[a-z0-9]+$/.test(key)) { return key; }
  return Array.from(key).map(function (c) { return "u" + (c.codePointAt(0) || 0).toString(16); }).join("-");
}
