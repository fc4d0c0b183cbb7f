"""Statistics of the collection: counts by year, age group and country, and the most re-created artworks.

Everything is computed here in Python and drawn as inline SVG on the server, so
the statistics page needs no JavaScript. The same numbers are written to
``data/stats.json`` and ``data/stats-*.csv``.

Two measures of "most re-created" are kept apart, because they mean different things:

* **confirmed**: pairs recorded by the archive (``pairs.csv``): a drawing counts
  once for each artwork (and once for each artist) it is known to re-create;
* **model_top1**: the artwork the model ranks first for each drawing: a
  suggestion, not a fact. Every drawing counts once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from generator.fsutil import write_atomic
from generator.inputs.collection import AGE_GROUPS, csv_text
from generator.i18n import N_, gettext as _, number
from generator.site.groups import homogeneity_section
from generator.site.labels import BY_FIELD, UNKNOWN, artist_name
from generator.site.urls import artwork_url, collection_url
TOP_OVERALL = 15
TOP_PER_GROUP = 3
MEASURES = {
    "confirmed": N_("Confirmed by the archive"),
    "model_top1": N_("The model's first suggestion"),
}
EMPTY = {"artworks": Counter(), "artists": Counter()}


@dataclass(frozen=True)
class DrawingFacts:
    """What the statistics need to know about one drawing."""

    id: str
    country: str     # code or "unknown"
    year: str        # "2009" or "unknown"
    age_group: str   # "6-9", "MS" or "unknown"


@dataclass(frozen=True)
class ArtworkFacts:
    id: str
    title: str
    artist: str


def year_age_table(drawings: list[DrawingFacts]) -> dict:
    """The archive's own table: drawings per year (rows) and age group (columns), with totals."""
    counts = Counter((d.year, d.age_group) for d in drawings)
    years = sorted({d.year for d in drawings if d.year != UNKNOWN}) + \
        ([UNKNOWN] if any(d.year == UNKNOWN for d in drawings) else [])
    ages = [g for g in AGE_GROUPS if any(d.age_group == g for d in drawings)] + \
        ([UNKNOWN] if any(d.age_group == UNKNOWN for d in drawings) else [])
    rows = [[counts.get((y, a), 0) for a in ages] for y in years]
    return {"years": years, "age_groups": ages, "counts": rows,
            "row_totals": [sum(r) for r in rows],
            "column_totals": [sum(r[j] for r in rows) for j in range(len(ages))],
            "total": len(drawings)}


def ranked(counter: Counter, limit: int | None = None) -> list[tuple[str, int]]:
    """Most first; ties by key so the order never depends on the input order."""
    items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    return items[:limit] if limit else items


def recreation_counts(drawings: list[DrawingFacts], artworks: dict[str, ArtworkFacts],
                      links: dict[str, list[str]]) -> dict:
    """Counts of drawings per artwork and artist, overall and per country, year and age group.

    ``links`` maps a drawing id to the artwork ids it is linked with under one measure.
    """
    def empty():
        return {"artworks": Counter(), "artists": Counter()}
    # Counted first for each combination of the groups' keys (a few thousand), then added into the groups:
    # 100,000 drawings need not update eight counters each.
    combined: dict[tuple, dict] = {}
    for d in drawings:
        key = tuple(getattr(d, f) for f in BY_FIELD)
        target = combined.get(key)
        if target is None:
            target = combined[key] = {"artworks": [], "artists": []}
        linked = links.get(d.id)
        if linked:
            linked = sorted(set(linked))
            target["artworks"] += linked
            target["artists"] += sorted({artworks[a].artist for a in linked})
    overall = empty()
    groups = {facet: defaultdict(empty) for facet in BY_FIELD}
    for key, found in combined.items():   # in the order the drawings first show each key
        counted = {"artworks": Counter(found["artworks"]), "artists": Counter(found["artists"])}
        for target in [overall] + [groups[f][k] for f, k in zip(BY_FIELD, key)]:
            target["artworks"].update(counted["artworks"])
            target["artists"].update(counted["artists"])
    return {"overall": overall, **{f: dict(g) for f, g in groups.items()}}


@dataclass
class Stats:
    n_drawings: int
    n_artworks: int
    n_confirmed_pairs: int
    year_age: dict
    countries: list[tuple[str, int]]   # (code, drawings), most first
    years: list[tuple[str, int]]       # chronological
    ages: list[tuple[str, int]]
    measures: dict                     # measure -> recreation_counts(...)
    artworks: dict[str, ArtworkFacts]


def compute_stats(drawings: list[DrawingFacts], artworks: list[ArtworkFacts], pairs: list[tuple[str, str]],
                  top1: dict[str, str]) -> Stats:
    """All the numbers of the statistics page. ``top1`` maps a drawing id to the model's first artwork."""
    by_id = {a.id: a for a in artworks}
    confirmed: dict[str, list[str]] = defaultdict(list)
    for d_id, a_id in pairs:
        confirmed[d_id].append(a_id)
    year_counts = Counter(d.year for d in drawings)
    age_counts = Counter(d.age_group for d in drawings)
    return Stats(
        n_drawings=len(drawings), n_artworks=len(artworks), n_confirmed_pairs=len(set(pairs)),
        year_age=year_age_table(drawings),
        countries=ranked(Counter(d.country for d in drawings)),
        years=sorted(year_counts.items(), key=lambda kv: (kv[0] == UNKNOWN, kv[0])),
        ages=[(g, age_counts[g]) for g in list(AGE_GROUPS) + [UNKNOWN] if age_counts.get(g)],
        measures={"confirmed": recreation_counts(drawings, by_id, confirmed),
                  "model_top1": recreation_counts(drawings, by_id, {d: [a] for d, a in top1.items()})},
        artworks=by_id,
    )


# ---------------------------------------------------------------- JSON and CSV

def stats_payload(st: Stats, label) -> dict:
    """The content of data/stats.json. ``label(facet, key)`` names a group for people."""
    def top(counts: dict, limit: int) -> dict:
        return {
            "artworks": [{"id": a, "title": st.artworks[a].title, "artist": st.artworks[a].artist, "drawings": n}
                         for a, n in ranked(counts["artworks"], limit)],
            "artists": [{"artist": name, "drawings": n} for name, n in ranked(counts["artists"], limit)],
        }
    recreated = {}
    for m, counts in st.measures.items():
        recreated[m] = {"description": MEASURES[m], "overall": top(counts["overall"], TOP_OVERALL)}
        for facet in BY_FIELD:
            recreated[m][f"by_{facet}"] = {k: top(v, TOP_PER_GROUP) for k, v in sorted(counts[facet].items())}
    ya = st.year_age
    return {
        "drawings": st.n_drawings, "artworks": st.n_artworks, "confirmed_pairs": st.n_confirmed_pairs,
        "year_age": {k: ya[k] for k in ("years", "age_groups", "counts", "row_totals", "column_totals", "total")},
        "countries": [{"code": c, "name": label("country", c), "drawings": n} for c, n in st.countries],
        "years": [{"year": y, "drawings": n} for y, n in st.years],
        "age_groups": [{"age_group": g, "label": label("age_group", g), "drawings": n} for g, n in st.ages],
        "recreated": recreated,
    }


def stats_csvs(st: Stats, label) -> dict[str, str]:
    """File name -> CSV text, each the same numbers as a part of stats.json."""
    ya = st.year_age
    out = {
        "stats-year-age.csv": csv_text(["year"] + ya["age_groups"] + ["total"],
                                       [[y] + row + [t] for y, row, t in zip(ya["years"], ya["counts"],
                                                                              ya["row_totals"])]
                                       + [["total"] + ya["column_totals"] + [ya["total"]]]),
        "stats-countries.csv": csv_text(["code", "name", "drawings"],
                                        [[c, label("country", c), n] for c, n in st.countries]),
        "stats-years.csv": csv_text(["year", "drawings"], [[y, n] for y, n in st.years]),
    }
    conf, top1 = st.measures["confirmed"]["overall"], st.measures["model_top1"]["overall"]
    # Only the artworks with a drawing to count: the others are all zeros (990,000 rows of them for 100,000
    # drawings and a million artworks); artworks.csv.gz lists every artwork.
    art_rows = sorted((a for a in st.artworks.values() if conf["artworks"][a.id] or top1["artworks"][a.id]),
                      key=lambda a: (-conf["artworks"][a.id], -top1["artworks"][a.id], a.id))
    out["stats-artworks.csv"] = csv_text(
        ["artwork", "title", "artist", "confirmed_drawings", "model_top1_drawings"],
        [[a.id, a.title, a.artist, conf["artworks"][a.id], top1["artworks"][a.id]] for a in art_rows])
    artists = sorted({a.artist for a in st.artworks.values()})
    n_works = Counter(a.artist for a in st.artworks.values())
    artists.sort(key=lambda name: (-conf["artists"][name], -top1["artists"][name], name))
    out["stats-artists.csv"] = csv_text(
        ["artist", "artworks", "confirmed_drawings", "model_top1_drawings"],
        [[name, n_works[name], conf["artists"][name], top1["artists"][name]] for name in artists])
    rows = []
    for m, counts in st.measures.items():
        for facet in BY_FIELD:
            for key in sorted(counts[facet]):
                for rank, (a, n) in enumerate(ranked(counts[facet][key]["artworks"], TOP_PER_GROUP), start=1):
                    rows.append([m, facet, key, rank, a, st.artworks[a].title, st.artworks[a].artist, n])
    out["stats-recreated-by-group.csv"] = csv_text(
        ["measure", "facet", "group", "rank", "artwork", "title", "artist", "drawings"], rows)
    return out


# ---------------------------------------------------------------- SVG charts

def _e(text) -> str:
    return escape(str(text), quote=True)


def _colon(label: str, value: int) -> str:
    """A chart's tooltip: "Germany: 16" ("Allemagne : 16" in French)."""
    return _("%(label)s: %(value)s") % {"label": label, "value": number(value)}


def hbar_chart(rows: list[tuple[str, int, str | None]], title: str, *, width: int = 640,
               label_width: int = 190, bar_class: str = "bar") -> Markup:
    """A ranked horizontal bar chart: (label, value, link or None) per row."""
    row_h, top = 22, 8
    height = top * 2 + row_h * max(1, len(rows))
    vmax = max([v for _, v, _ in rows] + [1])
    span = width - label_width - 60
    out = [f'<svg class="chart" role="group" aria-label="{_e(title)}" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">', f"<title>{_e(title)}</title>"]
    for i, (label, value, href) in enumerate(rows):
        y = top + i * row_h
        w = max(1.0, value / vmax * span) if value else 0.0
        text = label if len(label) <= 28 else label[:27] + "…"
        label_svg = (f'<text class="chart-label" x="{label_width - 6}" y="{y + 15}" text-anchor="end">'
                     f"{_e(text)}</text>")
        if href:
            label_svg = f'<a href="{_e(href)}">{label_svg}</a>'
        out.append(f'<g>{label_svg}<rect class="{bar_class}" x="{label_width}" y="{y + 3}" width="{w:.1f}" '
                   f'height="{row_h - 6}" fill="#b45309"><title>{_e(_colon(label, value))}</title></rect>'
                   f'<text class="chart-value" x="{label_width + w + 5:.1f}" y="{y + 15}">{number(value)}</text></g>')
    out.append("</svg>")
    return Markup("".join(out))


def column_chart(rows: list[tuple[str, int, str | None]], title: str, *, height: int = 220) -> Markup:
    """Vertical bars in the given (chronological) order, labelled underneath."""
    col_w, left, bottom, top = 26, 40, 46, 18
    width = left + col_w * max(1, len(rows)) + 10
    vmax = max([v for _, v, _ in rows] + [1])
    span = height - top - bottom
    out = [f'<svg class="chart" role="group" aria-label="{_e(title)}" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">', f"<title>{_e(title)}</title>",
           f'<line class="axis" x1="{left - 2}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}" '
           f'stroke="#999"/>',
           f'<text class="chart-value" x="{left - 6}" y="{top + 4}" text-anchor="end">{number(vmax)}</text>',
           f'<text class="chart-value" x="{left - 6}" y="{height - bottom}" text-anchor="end">0</text>']
    for i, (label, value, href) in enumerate(rows):
        x = left + i * col_w
        h = value / vmax * span
        bar = (f'<rect class="bar" x="{x + 3}" y="{height - bottom - h:.1f}" width="{col_w - 6}" height="{h:.1f}" '
               f'fill="#b45309"><title>{_e(_colon(label, value))}</title></rect>')
        lx, ly = x + col_w / 2 + 4, height - bottom + 8
        lab = (f'<text class="chart-label" x="{lx:.1f}" y="{ly}" text-anchor="end" '
               f'transform="rotate(-60 {lx:.1f} {ly})">{_e(label)}</text>')
        if href:
            bar, lab = f'<a href="{_e(href)}">{bar}</a>', f'<a href="{_e(href)}">{lab}</a>'
        out.append(f"<g>{bar}{lab}</g>")
    out.append("</svg>")
    return Markup("".join(out))


def heat_map(ya: dict, title: str, col_labels: list[str]) -> Markup:
    """The year x age group table as coloured cells with their numbers."""
    cell_w, cell_h, left, top = 74, 22, 70, 40
    years, ages, counts = ya["years"], ya["age_groups"], ya["counts"]
    width, height = left + cell_w * max(1, len(ages)) + 4, top + cell_h * max(1, len(years)) + 4
    vmax = max([v for r in counts for v in r] + [1])
    out = [f'<svg class="chart heat" role="img" aria-label="{_e(title)}" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">', f"<title>{_e(title)}</title>"]
    for j, label in enumerate(col_labels):
        out.append(f'<text class="chart-label" x="{left + j * cell_w + cell_w / 2:.1f}" y="{top - 10}" '
                   f'text-anchor="middle">{_e(label)}</text>')
    for i, y in enumerate(years):
        yy = top + i * cell_h
        out.append(f'<text class="chart-label" x="{left - 8}" y="{yy + 15}" text-anchor="end">'
                   f'{_e(_("Unknown") if y == UNKNOWN else y)}</text>')
        for j, a in enumerate(ages):
            v = counts[i][j]
            # Light paper to deep orange; the number is always written, so colour is never the only cue.
            t = (v / vmax) ** 0.6 if v else 0.0
            r, g, b = (int(253 + (154 - 253) * t), int(252 + (52 - 252) * t), int(249 + (18 - 249) * t))
            ink, ink_class = ("#fff", "heat-value dark") if t > 0.55 else ("#1d1d1f", "heat-value")
            x = left + j * cell_w
            out.append(f'<g><rect x="{x}" y="{yy}" width="{cell_w - 2}" height="{cell_h - 2}" '
                       f'fill="#{r:02x}{g:02x}{b:02x}" stroke="#ddd6cc"><title>{_e(_colon(f"{y}, {col_labels[j]}", v))}'
                       f'</title></rect><text class="{ink_class}" x="{x + cell_w / 2 - 1:.1f}" y="{yy + 15}" '
                       f'text-anchor="middle" fill="{ink}">{number(v)}</text></g>')
    out.append("</svg>")
    return Markup("".join(out))


# ---------------------------------------------------------------- the page

def drawing_facts(d) -> DrawingFacts:
    return DrawingFacts(d.id, d.country or UNKNOWN, str(d.year) if d.year else UNKNOWN, d.age_group or UNKNOWN)


def write_stats(ctx, out) -> None:
    """The statistics page, data/stats.json and data/stats-*.csv."""
    s = ctx.site
    drawings = [drawing_facts(d) for d in s.drawings]
    artworks = [ArtworkFacts(a.id, a.title, artist_name(a.artist)) for a in s.artworks]
    da_i = s.neighbours.artworks_index
    top1 = {d.id: s.artworks[int(da_i[i][0])].id for i, d in enumerate(s.drawings) if len(da_i[i])}
    st = compute_stats(drawings, artworks, s.pairs, top1)

    def site_key(facet: str, key: str) -> str:
        return key.lower() if facet == "age_group" else key

    def label(facet: str, key: str) -> str:
        return ctx.facet_label(BY_FIELD[facet].view, site_key(facet, key))

    def facet_link(facet: str, key: str) -> str:
        return collection_url(BY_FIELD[facet].view, site_key(facet, key))

    payload = stats_payload(st, label)
    out.write_json("data/stats.json", payload)
    csvs = stats_csvs(st, label)
    for name, text in csvs.items():
        write_atomic(out.root / "data" / name, text)

    root = "../"
    ya = st.year_age
    age_cols = [(_("Unknown") if a == UNKNOWN else a) for a in ya["age_groups"]]
    charts = {
        "year_age": heat_map(ya, _("Drawings per year and age group"), age_cols),
        "countries": hbar_chart([(label("country", c), n, root + facet_link("country", c)) for c, n in st.countries],
                                _("Drawings per country, most first")),
        "years": column_chart([(_("Unknown") if y == UNKNOWN else y, n, root + facet_link("year", y)) for y, n in st.years],
                              _("Drawings per year")),
    }

    def top_rows(counts: dict, kind: str, limit: int) -> list[dict]:
        rows = []
        for key, n in ranked(counts[kind], limit):
            if kind == "artworks":
                a = st.artworks[key]
                rows.append({"label": a.title, "detail": a.artist, "url": artwork_url(a.id), "count": n})
            else:
                rows.append({"label": key, "detail": "", "url": None, "count": n})
        return rows

    measures = []
    for m, title in ((m, _(title)) for m, title in MEASURES.items()):
        counts = st.measures[m]
        overall = counts["overall"]
        groups = []
        for facet, facet_title, keys in (("country", _("Per country"), [c for c, _n in st.countries]),
                                         ("year", _("Per year"), [y for y, _n in st.years]),
                                         ("age_group", _("Per age group"), [g for g, _n in st.ages])):
            groups.append({"title": facet_title, "rows": [
                {"label": label(facet, k), "url": facet_link(facet, k), "drawings": n_in(st, facet, k),
                 "artworks": top_rows(counts[facet].get(k, EMPTY), "artworks", TOP_PER_GROUP),
                 "artists": top_rows(counts[facet].get(k, EMPTY), "artists", TOP_PER_GROUP)}
                for k in keys]})
        measures.append({
            "key": m, "title": title,
            "artworks": top_rows(overall, "artworks", TOP_OVERALL),
            "artists": top_rows(overall, "artists", TOP_OVERALL),
            "chart_artworks": hbar_chart([(f"{a.title}", n, root + artwork_url(a.id)) for a, n in
                                          ((st.artworks[k], n) for k, n in ranked(overall["artworks"], TOP_OVERALL))],
                                         _("Most re-created artworks: %(measure)s") % {"measure": title.lower()},
                                         label_width=230),
            "groups": groups,
        })
    out.page("stats.html", "stats/index.html", title=_("Statistics"), st=st, ya=ya, age_cols=age_cols,
             charts=charts, measures=measures, countries=[(label("country", c), facet_link("country", c), n)
                                                          for c, n in st.countries],
             years=[(label("year", y), facet_link("year", y), n) for y, n in st.years],
             csv_files=sorted(csvs), homogeneity=homogeneity_section(ctx))


def n_in(st: Stats, facet: str, key: str) -> int:
    if facet == "country":
        return dict(st.countries).get(key, 0)
    if facet == "year":
        return dict(st.years).get(key, 0)
    return dict(st.ages).get(key, 0)


CSV_WHAT = {
    "stats-year-age.csv": "Drawings per year (rows) and age group (columns), with totals.",
    "stats-countries.csv": "Drawings per country.",
    "stats-years.csv": "Drawings per year.",
    "stats-artworks.csv": "For every artwork re-created at least once or ranked first for a drawing: drawings "
                          "confirmed to re-create it, and drawings for which the model ranks it first.",
    "stats-artists.csv": "The same per artist.",
    "stats-recreated-by-group.csv": "The three most re-created artworks per country, year and age group, "
                                    "under both measures.",
}

#: The statistics files' lines on the data page.
STATS_FILES = [{"name": "stats.json", "what": "The numbers of the statistics page: drawings per year, age group "
                                              "and country, and the most re-created artworks and artists."}] + \
    [{"name": name, "what": CSV_WHAT[name]} for name in sorted(CSV_WHAT)]
