// @ts-check
/* The shared core of the site's scripts, part 3: the archive's drawing ids.
   The same rule as generator/site/labels.py (spelt_label, spelt_age_group); tests/test_js_parity.py checks
   that the two agree. */

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
