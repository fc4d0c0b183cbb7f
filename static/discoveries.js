// @ts-check
/* Discoveries pages: filter the listed suggestions by country, year, age group and artist.
   The pages list the suggestions without this script; with it, the filters (hidden until now) read every
   listed suggestion from data/discoveries.js (a script file, so it loads from file:// too) and show the
   matching ones in place of the page's list, a page at a time. The choice is kept in the address
   (#country=FRA&year=1994), so a filtered list can be bookmarked. Each suggestion keeps its
   data-pair="DRAWING ARTWORK" attribute; after the list changes, a "sitegen:listchanged" event is sent
   on the document so that other scripts can attach to the new elements. */
(function () {
  "use strict";
  var data = window.SITEGEN_DISCOVERIES;
  var box = document.getElementById("discovery-filters");
  var list = document.getElementById("discoveries");
  var me = document.getElementById("discoveries-script");
  if (!data || !box || !list || !me) { return; }
  var root = me.getAttribute("data-root") || "";
  var col = {};
  data.columns.forEach(function (name, i) { col[name] = i; });
  var selects = Array.prototype.slice.call(box.querySelectorAll("select[data-field]"));
  var status = document.getElementById("discovery-status");
  var pager = document.getElementById("discoveries-pager");
  var original = Array.prototype.slice.call(list.children);
  var originalStart = list.getAttribute("start");
  var more = document.createElement("button");
  more.type = "button";
  more.className = "discoveries-more";
  more.hidden = true;
  list.parentNode.insertBefore(more, pager || list.nextSibling);
  var matches = [], shown = 0;

  selects.forEach(function (sel) {
    (data.filters[sel.getAttribute("data-field")] || []).forEach(function (opt) {
      var o = document.createElement("option");
      o.value = opt[0];
      o.textContent = opt[1] + " (" + opt[2] + ")";
      sel.appendChild(o);
    });
  });

  function picture(url, thumb, label) {
    var a = el("a", {"class": "discovery-item"});
    a.href = root + url;
    if (thumb) {
      var img = el("img");
      img.src = root + thumb; img.alt = ""; img.width = 160; img.height = 160; img.loading = "lazy";
      a.appendChild(img);
    } else {
      a.appendChild(el("span", {"class": "no-picture"}, t("No picture")));
    }
    a.appendChild(el("span", {}, label));
    return a;
  }

  function item(row) {
    var li = el("li", {"class": "discovery"});
    li.setAttribute("data-pair", row[col.drawing] + " " + row[col.artwork]);
    li.appendChild(picture(row[col.d_url], row[col.d_thumb], row[col.d_label]));
    li.appendChild(el("span", {"class": "discovery-arrow"}, t("may re-create")));
    li.appendChild(picture(row[col.a_url], row[col.a_thumb], row[col.a_title]));
    var year = row[col.a_year] ? ", " + row[col.a_year] : "";
    li.appendChild(el("p", {"class": "discovery-why"}, row[col.a_artist] + year + ". " +
      t("Score %(score)s: %(why)s.", {score: formatDecimal(Number(row[col.score]), 3), why: row[col.why]})));
    return li;
  }

  function chosen() {
    var c = {};
    selects.forEach(function (sel) { if (sel.value) { c[sel.getAttribute("data-field")] = sel.value; } });
    return c;
  }

  function changed() { document.dispatchEvent(new CustomEvent("sitegen:listchanged")); }

  function showMore() {
    var size = data.page_size || 60;
    matches.slice(shown, shown + size).forEach(function (row) { list.appendChild(item(row)); });
    shown = Math.min(matches.length, shown + size);
    more.hidden = shown >= matches.length;
    more.textContent = t("Show %(n)s more", {n: Math.min(size, matches.length - shown)});
    changed();
  }

  function apply(fromAddress) {
    var c = chosen();
    var keys = Object.keys(c);
    while (list.firstChild) { list.removeChild(list.firstChild); }
    if (!keys.length) {
      original.forEach(function (li) { list.appendChild(li); });
      if (originalStart) { list.setAttribute("start", originalStart); }
      if (pager) { pager.hidden = false; }
      more.hidden = true;
      status.textContent = "";
      changed();
    } else {
      matches = data.rows.filter(function (row) {
        return keys.every(function (k) { return String(row[col[k]]) === c[k]; });
      });
      shown = 0;
      list.setAttribute("start", "1");
      if (pager) { pager.hidden = true; }
      status.textContent = tn("%(num)s of %(total)s suggestions matches.", "%(num)s of %(total)s suggestions match.", matches.length, {total: data.rows.length});
      showMore();
    }
    if (!fromAddress) {
      var hash = keys.map(function (k) { return k + "=" + encodeURIComponent(c[k]); }).join("&");
      replaceAddress(hash ? "#" + hash : window.location.pathname + window.location.search);
    }
  }

  function fromAddress() {
    var wanted = parseHash(window.location.hash);
    selects.forEach(function (sel) {
      var v = wanted[sel.getAttribute("data-field")] || "";
      sel.value = Array.prototype.some.call(sel.options, function (o) { return o.value === v; }) ? v : "";
    });
    apply(true);
  }

  selects.forEach(function (sel) { sel.addEventListener("change", function () { apply(false); }); });
  more.addEventListener("click", showMore);
  box.hidden = false;
  if (window.location.hash.length > 1) { fromAddress(); }
})();
