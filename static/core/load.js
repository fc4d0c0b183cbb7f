// @ts-check
/* The shared core of the site's scripts, part 1: loading files.
   The site's data files are scripts that set a global when loaded (data/map/*.js, data/search/*.js,
   data/related/*.js), because browsers refuse fetch() for pages opened from the disk (file://). */

/** @type {Object<string, Array<function(boolean): void>>} */
var loadingScripts = {};

/**
 * Load a script file by adding a <script> tag; done(true) once it ran, done(false) when it could not be
 * loaded. Asked again while it is still loading, the file is requested once and every caller told.
 * @param {string} src
 * @param {function(boolean): void} done
 */
function loadScript(src, done) {
  if (loadingScripts[src]) { loadingScripts[src].push(done); return; }
  loadingScripts[src] = [done];
  var s = document.createElement("script");
  s.src = src;
  /** @param {boolean} ok */
  function finish(ok) {
    var callers = loadingScripts[src];
    delete loadingScripts[src];
    callers.forEach(function (f) { f(ok); });
  }
  s.onload = function () { finish(true); };
  s.onerror = function () { finish(false); };
  document.head.appendChild(s);
}
