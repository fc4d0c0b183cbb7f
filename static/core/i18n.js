// @ts-check
/* The shared core of the site's scripts, part 0: the site's language.
   Every message a script shows is written here in English and passed through t() or tn(); the English text
   is the message's id in the site's catalogues (generator/locale/, extracted with pybabel: see the README).
   The build writes the chosen language's translations into MESSAGES below (generator/site/scripts.py);
   an English site keeps it empty and shows the ids. Placeholders are written %(name)s, as in the catalogue. */

/** @type {Object<string, string | string[]>} */
var MESSAGES = /* messages */ {};

/**
 * The message in the site's language, its %(name)s placeholders filled from params.
 * @param {string} message
 * @param {Object<string, string | number>} [params]
 * @returns {string}
 */
function t(message, params) {
  var text = MESSAGES[message];
  return fillMessage(typeof text === "string" ? text : message, params);
}

/**
 * The form of a message for the number n (its singular and plural in English), placeholders filled from
 * params and %(num)s from n. The catalogue's forms are listed with the browser's plural categories of the
 * language (MESSAGES.__plural__); a category not listed takes the last form.
 * @param {string} singular
 * @param {string} plural
 * @param {number} n
 * @param {Object<string, string | number>} [params]
 * @returns {string}
 */
function tn(singular, plural, n, params) {
  var forms = MESSAGES[singular], order = MESSAGES.__plural__;
  var all = Object.assign({ num: n }, params || {});
  if (!Array.isArray(forms) || !Array.isArray(order)) { return fillMessage(n === 1 ? singular : plural, all); }
  var at = order.indexOf(new Intl.PluralRules(document.documentElement.lang || "en").select(n));
  return fillMessage(forms[at < 0 ? forms.length - 1 : at], all);
}

/**
 * A number as the site's language writes it ("1 234" in French); as it is in English.
 * @param {number} n
 * @returns {string}
 */
function formatNumber(n) {
  return MESSAGES.__plural__ ? n.toLocaleString(document.documentElement.lang) : String(n);
}

/**
 * A number with a fixed count of decimals, as the site's language writes it ("0,125" in French).
 * @param {number} v
 * @param {number} digits
 * @returns {string}
 */
function formatDecimal(v, digits) {
  if (!MESSAGES.__plural__) { return v.toFixed(digits); }
  return v.toLocaleString(document.documentElement.lang, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * @param {string} text
 * @param {Object<string, string | number>} [params]
 * @returns {string}
 */
function fillMessage(text, params) {
  if (!params) { return text; }
  return text.replace(/%(?:\((\w+)\)s|%)/g, function (whole, name) {
    if (!name) { return "%"; }
    var v = params[name];
    return v === undefined ? whole : typeof v === "number" ? formatNumber(v) : String(v);
  });
}
