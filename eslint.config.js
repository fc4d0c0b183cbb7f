// ESLint for the site's browser code (static/, the vendored runtime left out): `npx eslint static`.
// The scripts are plain scripts (no modules), joined by the build (generator/site/scripts.py): the core's
// top-level names (static/core/*.js) are globals of every script, and the map's files (static/map/*.js)
// share theirs with each other. The lists are read from the files, so they cannot fall out of date.
"use strict";
const fs = require("fs");
const path = require("path");
const js = require("@eslint/js");
const globals = require("globals");

/** Top-level names declared by each .js file of a folder: file -> names. */
function declared(folder) {
  const out = {};
  for (const file of fs.readdirSync(folder).filter((f) => f.endsWith(".js")).sort()) {
    const text = fs.readFileSync(path.join(folder, file), "utf8");
    const names = new Set();
    for (const m of text.matchAll(/^(?:function\s+([A-Za-z_$][\w$]*)|var\s+([^;=]+?)\s*(?:=|;))/gm)) {
      if (m[1]) { names.add(m[1]); continue; }
      names.add(m[2].trim());
    }
    // more names on one `var` line: "var a = 1, b = 2;"
    for (const m of text.matchAll(/^var\s+(.*)$/gm)) {
      for (const part of m[1].split(/,\s*(?=[A-Za-z_$][\w$]*\s*(?:=|,|;|$))/)) {
        const name = /^([A-Za-z_$][\w$]*)/.exec(part.trim());
        if (name) { names.add(name[1]); }
      }
    }
    out[file] = [...names];
  }
  return out;
}

/** The names of every file of `byFile` but `except`, as readonly globals. */
function others(byFile, except) {
  const g = {};
  for (const [file, names] of Object.entries(byFile)) {
    if (file !== except) { for (const name of names) { g[name] = "writable"; } }
  }
  return g;
}

const core = declared(path.join(__dirname, "static", "core"));
const map = declared(path.join(__dirname, "static", "map"));

module.exports = [
  { ignores: ["static/vendor/**", "node_modules/**"] },
  js.configs.recommended,
  {
    files: ["static/**/*.js"],
    languageOptions: {
      ecmaVersion: 2020,
      sourceType: "script",
      globals: { ...globals.browser, SitegenResize: "readonly", module: "readonly" },
    },
    rules: {
      "no-unused-vars": ["error", { vars: "local", args: "none", caughtErrors: "none" }],
    },
  },
  // every script may use the core's names (each core file those of the other core files)
  ...Object.keys(core).map((file) => ({
    files: [`static/core/${file}`],
    languageOptions: { globals: others(core, file) },
  })),
  {
    files: ["static/*.js"],
    ignores: ["static/find-resize.js", "static/find-model.js"],
    languageOptions: { globals: others(core, null) },
  },
  ...Object.keys(map).map((file) => ({
    files: [`static/map/${file}`],
    languageOptions: { globals: { ...others(core, null), ...others(map, file) } },
  })),
];
