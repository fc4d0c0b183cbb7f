// @ts-check
/* Review mode: confirm or reject the model's suggestions, kept in this browser only.

   Every element with data-pair="DRAWING_ID ARTWORK_ID" gets "Confirm" and "Reject" buttons (and "Undo" once
   decided), including elements other scripts add later. The decisions stay in this browser's storage, under a
   key made from the site's home address, so two sites never mix; nothing is sent anywhere, and it works from
   the disk (file://) and offline. A panel counts them, saves them as decisions.csv
   (drawing,artwork,decision,note) for 'sitegen build --decisions', and reads such a file back.
   Keys: j / k or the arrow keys move between suggestions, y confirms, n rejects, u undoes.
   Visitors who do not review see none of it but one button, "Review suggestions", which turns review on (and
   off) for the whole site in this browser. */
(function () {
  "use strict";
  var script = document.currentScript;
  var ROOT = new URL("..", script instanceof HTMLScriptElement ? script.src : location.href).href;   // this file lives in <root>static/
  var KEY = "sitegen-review:" + ROOT;
  var MODE_KEY = KEY + ":on";     // review turned on, for every page of this site in this browser
  var WORDS = { confirmed: t("Confirmed"), rejected: t("Rejected") };
  var state = load();
  var storageNote = "";
  var panel = null;
  var current = null;

  function load() {
    try {
      var raw = window.localStorage.getItem(KEY);
      var parsed = raw ? JSON.parse(raw) : null;
      return parsed && parsed.decisions ? parsed : { version: 1, decisions: {} };
    } catch (e) {
      storageNote = t("This browser does not let the site keep data, so decisions are lost when the page closes: " +
        "save them as a file before leaving.");
      return { version: 1, decisions: {} };
    }
  }

  function save() {
    try {
      window.localStorage.setItem(KEY, JSON.stringify(state));
    } catch (e) {
      storageNote = t("The decisions could not be kept in this browser (%(error)s): save them as a file now.", {error: e.name});
    }
  }

  function pairOf(el) {
    var parts = (el.getAttribute("data-pair") || "").trim().split(/\s+/);
    return parts.length === 2 ? { drawing: parts[0], artwork: parts[1], key: parts[0] + " " + parts[1] } : null;
  }

  function describe(el) {
    var link = el.querySelector("a");
    var text = (link ? link.textContent : el.textContent).replace(/\s+/g, " ").trim();
    return text.length > 80 ? text.slice(0, 79) + "…" : text;
  }

  function button(action, label) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "review-" + action;
    b.setAttribute("data-review", action);
    b.textContent = label;
    return b;
  }

  /* Give one [data-pair] element its buttons (once). */
  function enhance(el) {
    if (el.hasAttribute("data-review-ready") || !pairOf(el)) { return; }
    el.setAttribute("data-review-ready", "");
    if (!el.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT)$/.test(el.tagName)) { el.tabIndex = -1; }
    var group = document.createElement("span");
    group.className = "review";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", t("Review of the suggestion %(suggestion)s", {suggestion: describe(el)}));
    var status = document.createElement("span");
    status.className = "review-status";
    group.appendChild(status);
    group.appendChild(button("confirm", t("Confirm")));
    group.appendChild(button("reject", t("Reject")));
    group.appendChild(button("undo", t("Undo")));
    (el.querySelector("figcaption") || el).appendChild(group);
    show(el);
  }

  function show(el) {
    var pair = pairOf(el);
    var group = el.querySelector(".review");
    if (!pair || !group) { return; }
    var d = state.decisions[pair.key];
    var decision = d ? d.decision : "";
    el.setAttribute("data-review-state", decision || "open");
    group.querySelector(".review-status").textContent = decision ? WORDS[decision] + " in this browser" : "";
    group.querySelector(".review-confirm").setAttribute("aria-pressed", String(decision === "confirmed"));
    group.querySelector(".review-reject").setAttribute("aria-pressed", String(decision === "rejected"));
    group.querySelector(".review-undo").hidden = !decision;
  }

  function candidates() {
    return Array.prototype.filter.call(document.querySelectorAll("[data-pair]"), function (el) {
      return el.hasAttribute("data-review-ready");
    });
  }

  function decide(el, action) {
    var pair = pairOf(el);
    if (!pair) { return; }
    if (action === "undo") {
      delete state.decisions[pair.key];
    } else {
      var old = state.decisions[pair.key];
      state.decisions[pair.key] = { drawing: pair.drawing, artwork: pair.artwork,
        decision: action === "confirm" ? "confirmed" : "rejected", note: old ? old.note : "" };
    }
    save();
    // The same pair may be shown twice on a page (the featured artwork and its place in the list).
    candidates().forEach(function (other) { if (other.getAttribute("data-pair") === el.getAttribute("data-pair")) { show(other); } });
    count();
  }

  function select(el) {
    if (current) { current.classList.remove("review-current"); }
    current = el;
    if (el) {
      el.classList.add("review-current");
      el.focus({ preventScroll: true });
      el.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  }

  /* ------------------------------------------------------------------ the panel */

  function decisionsList() {
    return Object.keys(state.decisions).sort().map(function (k) { return state.decisions[k]; });
  }

  function count() {
    if (!panel) { return; }
    var list = decisionsList();
    var c = list.filter(function (d) { return d.decision === "confirmed"; }).length;
    panel.querySelector(".review-count").textContent = t("%(confirmed)s confirmed, %(rejected)s rejected in this browser",
      {confirmed: c, rejected: list.length - c}) + (storageNote ? ". " + storageNote : "");
    panel.querySelector(".review-export").disabled = list.length === 0;
  }

  function cell(v) {
    v = String(v == null ? "" : v);
    return /[",\r\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
  }

  function toCsv() {
    var lines = ["drawing,artwork,decision,note"];
    decisionsList().forEach(function (d) {
      lines.push([d.drawing, d.artwork, d.decision, d.note || ""].map(cell).join(","));
    });
    return lines.join("\n") + "\n";
  }

  function exportCsv() {
    var url = URL.createObjectURL(new Blob([toCsv()], { type: "text/csv;charset=utf-8" }));
    var a = document.createElement("a");
    a.href = url;
    a.download = "decisions.csv";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  /* CSV rows (quotes, commas and line ends inside quotes understood). */
  function parseCsv(text) {
    var rows = [], row = [], value = "", quoted = false, i, ch;
    text = text.replace(/^\ufeff/, "");
    for (i = 0; i < text.length; i++) {
      ch = text[i];
      if (quoted) {
        if (ch === '"' && text[i + 1] === '"') { value += '"'; i++; }
        else if (ch === '"') { quoted = false; }
        else { value += ch; }
      } else if (ch === '"') { quoted = true; }
      else if (ch === "," || ch === ";" || ch === "\t") { row.push(value); value = ""; }
      else if (ch === "\n" || ch === "\r") {
        if (ch === "\r" && text[i + 1] === "\n") { i++; }
        row.push(value); rows.push(row); row = []; value = "";
      } else { value += ch; }
    }
    if (value !== "" || row.length) { row.push(value); rows.push(row); }
    return rows;
  }

  function importCsv(text, name) {
    var rows = parseCsv(text).filter(function (r) { return r.some(function (v) { return v.trim(); }); });
    var header = (rows.shift() || []).map(function (h) { return h.trim().toLowerCase(); });
    var at = { drawing: header.indexOf("drawing"), artwork: header.indexOf("artwork"),
               decision: header.indexOf("decision"), note: header.indexOf("note") };
    if (at.drawing < 0 || at.artwork < 0 || at.decision < 0) {
      return name + ": the first line must be drawing,artwork,decision,note. Nothing was read.";
    }
    var read = 0, skipped = [];
    rows.forEach(function (r, n) {
      var d = (r[at.drawing] || "").trim(), a = (r[at.artwork] || "").trim();
      var word = (r[at.decision] || "").trim().toLowerCase();
      if (!d || !a || (word !== "confirmed" && word !== "rejected")) { skipped.push(n + 2); return; }
      state.decisions[d + " " + a] = { drawing: d, artwork: a, decision: word,
                                       note: at.note >= 0 ? (r[at.note] || "").trim() : "" };
      read++;
    });
    save();
    candidates().forEach(show);
    return tn("Read %(num)s decision from %(file)s.", "Read %(num)s decisions from %(file)s.", read, {file: name}) +
      (skipped.length ? " " + t("Lines not read (an identifier is missing, or the decision is neither confirmed nor " +
                                "rejected): %(lines)s.", {lines: skipped.slice(0, 10).join(", ") + (skipped.length > 10 ? "…" : "")}) : "");
  }

  function reviewing() { return document.documentElement.classList.contains("reviewing"); }
  function setReviewing(on, toggle) {
    document.documentElement.classList.toggle("reviewing", on);
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    try { if (on) { window.localStorage.setItem(MODE_KEY, "1"); } else { window.localStorage.removeItem(MODE_KEY); } }
    catch (e) { /* the mode is then kept for this page only */ }
  }

  function makePanel() {
    panel = document.createElement("section");
    panel.className = "review-panel";
    panel.setAttribute("aria-label", t("Your review"));
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "review-toggle";
    toggle.textContent = t("Review suggestions");
    toggle.addEventListener("click", function () { setReviewing(!reviewing(), toggle); });
    var on = false;
    try { on = window.localStorage.getItem(MODE_KEY) === "1"; } catch (e) { on = false; }
    setReviewing(on, toggle);
    var h = el("h2", {}, t("Your review"));
    var countLine = el("p", {"class": "review-count"});
    countLine.setAttribute("aria-live", "polite");
    var help = el("details", {"class": "review-help"});
    help.appendChild(el("summary", {}, t("How it works")));
    help.appendChild(document.createTextNode(t("Confirm or reject each suggestion. Decisions are kept in this browser only: nothing is " +
      "sent anywhere. Save them as decisions.csv for the archive's next build. Keys: j and k (or the arrow keys) " +
      "move between suggestions, y confirms, n rejects, u undoes.")));
    var exportButton = button("export", t("Save decisions.csv"));
    exportButton.className = "review-export";
    var label = el("label", {"class": "review-import"}, t("Read a decisions.csv file") + " ");
    var input = document.createElement("input");
    input.type = "file";
    input.accept = ".csv,text/csv";
    label.appendChild(input);
    var message = el("p", {"class": "review-message"});
    message.setAttribute("aria-live", "polite");
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) { return; }
      var reader = new FileReader();
      reader.onload = function () { message.textContent = importCsv(String(reader.result), file.name); count(); };
      reader.onerror = function () { message.textContent = t("%(file)s could not be read.", {file: file.name}); };
      reader.readAsText(file, "utf-8");
      input.value = "";
    });
    var actions = el("p", {"class": "review-actions"});
    actions.appendChild(exportButton);
    actions.appendChild(label);
    actions.appendChild(el("span", {"class": "review-private"}, t("Kept in this browser only: nothing is sent anywhere.")));
    var body = el("div", {"class": "review-body"});
    [h, countLine, actions, message, help].forEach(function (el) { body.appendChild(el); });
    panel.appendChild(toggle);
    panel.appendChild(body);
    (document.querySelector("main") || document.body).appendChild(panel);
    count();
  }

  /* ------------------------------------------------------------------ events */

  document.addEventListener("click", function (evt) {
    var target = /** @type {Element} */ (evt.target);
    var b = target.closest ? target.closest("button[data-review]") : null;
    if (!b) { return; }
    var action = b.getAttribute("data-review");
    if (action === "export") { exportCsv(); return; }
    var el = b.closest("[data-pair]");
    if (el) { decide(el, action); if (action === "undo") { select(el); } }
  });

  var MOVES = { j: 1, ArrowDown: 1, ArrowRight: 1, k: -1, ArrowUp: -1, ArrowLeft: -1 };
  var ACTIONS = { y: "confirm", n: "reject", u: "undo" };
  document.addEventListener("keydown", function (evt) {
    if (!reviewing() || evt.altKey || evt.ctrlKey || evt.metaKey || evt.defaultPrevented) { return; }
    var target = /** @type {HTMLElement} */ (evt.target);
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) { return; }
    var list = candidates();
    var here = target && target.closest ? target.closest("[data-pair]") : null;
    var el = here && list.indexOf(here) >= 0 ? here : current;
    var key = evt.key;
    if (MOVES[key] !== undefined) {
      // The arrow keys scroll the page unless a suggestion has been chosen; j and k always move.
      if (key.indexOf("Arrow") === 0 && !el) { return; }
      var i = el ? list.indexOf(el) + MOVES[key] : 0;
      if (list.length && i >= 0 && i < list.length) { select(list[i]); evt.preventDefault(); }
    } else if (ACTIONS[key.toLowerCase()] && el) {
      decide(el, ACTIONS[key.toLowerCase()]);
      evt.preventDefault();
    }
  });

  function enhanceAll(root) {
    if (root.matches && root.matches("[data-pair]")) { enhance(root); }
    if (root.querySelectorAll) { Array.prototype.forEach.call(root.querySelectorAll("[data-pair]"), enhance); }
  }

  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = ROOT + "static/review.css";
  document.head.appendChild(css);
  makePanel();
  enhanceAll(document);
  // Other scripts may draw suggestions after this one ran: they get their buttons too.
  // An element may also be given its data-pair attribute later (the suggestion beside a drawing is).
  new MutationObserver(function (records) {
    records.forEach(function (r) {
      if (r.type === "attributes") { enhanceAll(r.target); return; }
      Array.prototype.forEach.call(r.addedNodes, function (n) { if (n.nodeType === 1) { enhanceAll(n); } });
    });
  }).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-pair"] });
  // Another tab of the same site changed the decisions.
  window.addEventListener("storage", function (evt) {
    if (evt.key === KEY) { state = load(); candidates().forEach(show); count(); }
  });
})();
