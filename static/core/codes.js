// @ts-check
/* The shared core of the site's scripts, part 5: how the data files are cut and coded.
   The same rules as generator/site/related.py (chunk_of), generator/site/mapdata.py (encode_chunk) and
   generator/site/search.py (build_index, the file names); tests/test_js_parity.py checks that they agree. */

/**
 * FNV-1a, 32 bits, of the text's UTF-8 bytes.
 * @param {string} text
 * @returns {number}
 */
function fnv1a(text) {
  var bytes = new TextEncoder().encode(text), h = 0x811c9dc5;
  for (var i = 0; i < bytes.length; i++) { h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0; }
  return h >>> 0;
}

/**
 * The chunk of data/related/ holding an item (chunks: the count in its meta file).
 * @param {string} id
 * @param {number} chunks
 * @returns {number}
 */
function chunkOf(id, chunks) { return fnv1a(id) % chunks; }

/**
 * A chunk's number as the data files' names write it: three digits at least.
 * @param {number} c
 * @returns {string}
 */
function pad3(c) { return String(c).padStart(3, "0"); }

/**
 * A data file cut in chunks: its name for chunk c ("points-", 7 -> "points-007.js").
 * @param {string} prefix
 * @param {number} c
 * @returns {string}
 */
function chunkFile(prefix, c) { return prefix + pad3(c) + ".js"; }

/**
 * The points of one chunk of the map (base64; column after column, little-endian: x and y as uint16, then
 * one column per facet, uint16 where wide, else uint8).
 * @param {string} text
 * @param {number} count the points in the chunk
 * @param {boolean[]} wide
 * @returns {{x: Uint16Array, y: Uint16Array, columns: Uint16Array[]}}
 */
function decodePoints(text, count, wide) {
  var bin = atob(text), off = 0, i;
  function u16() { var v = bin.charCodeAt(off) | (bin.charCodeAt(off + 1) << 8); off += 2; return v; }
  function u8() { return bin.charCodeAt(off++); }
  var x = new Uint16Array(count), y = new Uint16Array(count);
  for (i = 0; i < count; i++) { x[i] = u16(); }
  for (i = 0; i < count; i++) { y[i] = u16(); }
  var columns = wide.map(function (w) {
    var col = new Uint16Array(count);
    for (var k = 0; k < count; k++) { col[k] = w ? u16() : u8(); }
    return col;
  });
  return { x: x, y: y, columns: columns };
}

/**
 * Document numbers from a list of gaps (the search index keeps each number's difference from the last; -k stands
 * for the next k documents one after the other, see generator/site/search.py postings).
 * @param {number[]} gaps
 * @returns {number[]}
 */
function undoGaps(gaps) {
  var n = 0, out = [];
  gaps.forEach(function (gap) {
    if (gap < 0) {
      for (var k = 0; k < -gap; k++) { out.push(++n); }
    } else {
      n += gap;
      out.push(n);
    }
  });
  return out;
}

/**
 * The numbers of `digits` digits a shard of the search index lists under "#" and that count, one document each:
 * [number as text, with its zeros in front, document] pairs (stored as the first number and its document, then
 * each next number's and document's differences from the ones before, see generator/site/search.py
 * number_pairs).
 * @param {number[]} pairs
 * @param {number} digits
 * @returns {Array<[string, number]>}
 */
function undoNumbers(pairs, digits) {
  var out = [], number = 0, doc = 0;
  for (var k = 0; k + 1 < pairs.length; k += 2) {
    number += pairs[k];
    doc += pairs[k + 1];
    /** @type {[string, number]} */
    var pair = [String(number).padStart(digits, "0"), doc];
    out.push(pair);
  }
  return out;
}

/**
 * A chunk of the search's documents one by one: a row ["A", artist, rest, ...] (artworks of one artist whose
 * titles the browser spells, no date) becomes one ["a", rest, 0, artist, ""] each, a row ["D", id, ...] one
 * ["d", id] each (see generator/site/search.py doc_chunk and expand_docs).
 * @param {Array<Array<*>>} docs
 * @returns {Array<Array<*>>}
 */
function expandDocs(docs) {
  var out = [], k;
  docs.forEach(function (doc) {
    if (doc[0] === "A") {
      for (k = 2; k < doc.length; k++) { out.push(["a", String(doc[k]), 0, doc[1], ""]); }
    } else if (doc[0] === "D") {
      for (k = 1; k < doc.length; k++) { out.push(["d", doc[k]]); }
    } else {
      out.push(doc);
    }
  });
  return out;
}
