// @ts-check
/* The shared core of the site's scripts, part 3: the archive's drawing ids, and artworks' titles spelt from
   their ids. The same rules as generator/site/labels.py (spelt_label, spelt_age_group, spelt_title);
   tests/test_js_parity.py checks that the two agree. */

/** A drawing id named as the archive names its scans: YEAR_AGEGROUP_NUMBER_COUNTRY[_VARIANT]. */
var DRAWING_ID = /^(\d{4})_([^_]+)_([^_]+)_([A-Za-z]{3})(?:_[^_]+)?$/;

/**
 * The parts of a drawing id named as the archive names its scans; null for any other id.
 * @param {string} id
 * @returns {{year: string, age: string, number: string, country: string} | null}
 */
function parseDrawingId(id) {
  var m = DRAWING_ID.exec(id);
  if (!m) { return null; }
  return { year: m[1], age: m[2], number: m[3], country: m[4].toUpperCase() };
}

/**
 * A drawing's label and age group spelt from its id, with the country names (code -> name) of the data
 * file; null for ids that do not follow the archive's pattern (their data files carry the label).
 * @param {string} id
 * @param {Object<string, string>} countries
 * @returns {{label: string, age: string} | null}
 */
function spellDrawing(id, countries) {
  var p = parseDrawingId(id);
  if (!p) { return null; }
  return { label: t("Drawing %(number)s, %(country)s, %(year)s", { number: p.number, country: countries[p.country] || p.country,
                                                                  year: p.year }), age: p.age };
}

/**
 * An artwork's title spelt from its artist and the number ending its id ("Vincent van Gogh, no. 12"), as the
 * artworks' reader titles pictures named as "Best Artworks of All Time" names them; null when the id ends in no
 * number. The data files leave such titles out (0 in their place).
 * @param {string} id
 * @param {string} artist
 * @returns {string | null}
 */
function spellTitle(id, artist) {
  var m = /([0-9]+)$/.exec(id);
  return m && artist ? artist + ", no. " + m[1] : null;
}
