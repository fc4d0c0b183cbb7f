"""The groups pages (an index by size and by tightness, one page per group), the series page, the homogeneity
section of the statistics page, and the data of all three.

The pipeline computed the groups, series and homogeneity (``ml/groups.py``, handed over in
``SiteData.groups``); here they are only named, counted and written out. A group's name is made from what its
drawings share: the country most of them come from (or how many countries), their years, and the artist whose
work the model suggests first for most of them ("France 2003-2005, after Clementine Vey").
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from generator.i18n import N_, decimal, gettext as _, ngettext
from generator.site import labels
from generator.site.urls import collection_url, pager_numbers

#: A group is named after a country (or an artist) when at least this share of its drawings has it.
NAME_SHARE = 0.5
#: Groups of fewer drawings have no page of their own: the index lists their drawings in their row (a page per
#: pair would add some 2.7 KB of page around two links, about 27 MB for 100,000 drawings; see the README).
GROUP_PAGE_MIN = 5
#: Other drawings of its series named on a drawing's page (the series page lists them all).
SERIES_SHOWN = 6
#: Rows of the statistics page's most and least homogeneous lists.
TOP_HOMOGENEOUS = 10
#: The homogeneity views' words (their keys are those of contracts.HOMOGENEITY_VIEWS).
VIEW_WORDS = {"countries": N_("Country"), "years": N_("Year"), "country-years": N_("Country in one year"),
              "ages": N_("Age group")}


def group_url(key: str, page: int = 1) -> str:
    """A group's page, named after its first drawing (the group keeps its address when other groups grow,
    shrink or appear, so that the pages that link it need not change).

    >>> group_url("2003_6-9_0012_FRA"), group_url("2003_6-9_0012_FRA", 2)
    ('group/2003_6-9_0012_FRA/index.html', 'group/2003_6-9_0012_FRA/page-2/index.html')
    """
    return f"group/{key}/index.html" if page == 1 else f"group/{key}/page-{page}/index.html"


def groups_index_url(order: str = "size", page: int = 1) -> str:
    """The groups' index, by size (the default) or by tightness.

    >>> groups_index_url(), groups_index_url("tightness", 2)
    ('groups/index.html', 'groups/tightest/page-2/index.html')
    """
    folder = "groups/" if order == "size" else "groups/tightest/"
    return f"{folder}index.html" if page == 1 else f"{folder}page-{page}/index.html"


def series_url(page: int = 1) -> str:
    """
    >>> series_url(), series_url(2)
    ('series/index.html', 'series/page-2/index.html')
    """
    return "series/index.html" if page == 1 else f"series/page-{page}/index.html"


@dataclass(frozen=True)
class GroupView:
    """What the pages show of one group."""

    number: int                              # from 1, largest first (its rank in the index by size)
    key: str                                 # the identifier of its first drawing: its address and its data key
    name: str
    members: tuple[int, ...]                 # drawing rows, in site order
    tightness: float
    countries: tuple[tuple[str, int], ...]   # (country name, drawings), most first
    years: tuple[str, str] | None            # first and last year, None when no year is known
    ages: tuple[tuple[str, int], ...]        # (age group, drawings), youngest first
    artworks: tuple[tuple[int, int], ...]    # (artwork row, drawings whose first suggestion it is)
    per_page: int = 120                      # rows of an index page (the settings' page size)

    @property
    def has_page(self) -> bool:
        return len(self.members) >= GROUP_PAGE_MIN

    @property
    def url(self) -> str:
        """Its page, or its row in the index (by size) when it has no page."""
        if self.has_page:
            return group_url(self.key)
        return groups_index_url("size", math.ceil(self.number / max(1, self.per_page))) + f"#g-{self.key}"


def year_span(years: tuple[str, str] | None) -> str:
    """
    >>> year_span(("2003", "2005")), year_span(("2003", "2003")), year_span(None)
    ('2003-2005', '2003', '')
    """
    if not years:
        return ""
    return years[0] if years[0] == years[1] else f"{years[0]}-{years[1]}"


def group_views(site, country_name) -> tuple[GroupView, ...]:
    """Every group of ``site.groups`` as the pages show it (``country_name``: code -> name in the site's
    language)."""
    g = site.groups
    if g is None or g.count == 0:
        return ()
    members: list[list[int]] = [[] for _ in range(g.count)]
    for i, k in enumerate(g.group.tolist()):
        if k >= 0:
            members[k].append(i)
    age_order = {a: n for n, a in enumerate(("3-5", "6-9", "10-13", "14-17", "18-25", "MS"))}
    out = []
    for k, rows in enumerate(members):
        ds = [site.drawings[i] for i in rows]
        countries = Counter(d.country for d in ds if d.country)
        years = sorted(str(d.year) for d in ds if d.year)
        ages = Counter(d.age_group for d in ds if d.age_group)
        by_country = tuple((country_name(c), n) for c, n in sorted(countries.items(), key=lambda t: (-t[1], t[0])))
        out.append(GroupView(
            k + 1, site.drawings[rows[0]].id, group_name(by_country, (years[0], years[-1]) if years else None, g.artworks[k], site.artworks,
                              len(rows)),
            tuple(rows), float(g.tightness[k]), by_country, (years[0], years[-1]) if years else None,
            tuple(sorted(ages.items(), key=lambda t: age_order.get(t[0], 99))), tuple(g.artworks[k]),
            max(1, site.settings.page_size)))
    return tuple(out)


def group_name(countries: tuple[tuple[str, int], ...], years: tuple[str, str] | None,
               artworks: tuple[tuple[int, int], ...], all_artworks, size: int) -> str:
    """The group's name: where its drawings come from, when, and after whom, as far as most of them agree."""
    if countries and countries[0][1] >= NAME_SHARE * size:
        place = countries[0][0]
    elif countries:
        place = ngettext("%(count)s country", "%(count)s countries", len(countries)) % {"count": len(countries)}
    else:
        place = _("Unknown country")
    when = year_span(years)
    where_when = f"{place} {when}" if when else place
    if artworks and artworks[0][1] >= max(2, NAME_SHARE * size):
        artist = all_artworks[artworks[0][0]].artist
        after = labels.artist_name(artist) if artist else all_artworks[artworks[0][0]].title
        return _("%(where_when)s, after %(artist)s") % {"where_when": where_when, "artist": after}
    return where_when


def series_lists(site) -> tuple[tuple[int, ...], ...]:
    """The drawing rows of each series, in site order."""
    g = site.groups
    if g is None or g.series_count == 0:
        return ()
    out: list[list[int]] = [[] for _ in range(g.series_count)]
    for i, s in enumerate(g.series.tolist()):
        if s >= 0:
            out[s].append(i)
    return tuple(tuple(r) for r in out)


# ---------------------------------------------------------------- pages

def _pager(url, page: int, pages: int) -> dict:
    return {"pager": [{"n": n, "url": url(n) if n else None, "current": n == page} for n in pager_numbers(page, pages)],
            "prev_url": url(page - 1) if page > 1 else None, "next_url": url(page + 1) if page < pages else None,
            "page": page, "pages": pages}


def _settings_words(settings) -> dict:
    return {"min_size": settings.min_size, "group_similarity": decimal(settings.group_similarity, 2),
            "series_similarity": decimal(settings.series_similarity, 2), "min_drawings": settings.min_drawings,
            "draws": settings.draws}


def group_entry(ctx, v: GroupView, with_members: bool = False) -> dict:
    """A group's row in a list; ``with_members``: the drawings of a group without a page of its own too."""
    return {"number": v.number, "key": v.key, "name": v.name, "url": v.url, "count": len(v.members),
            "tightness": decimal(v.tightness, 2), "has_page": v.has_page,
            "members": [ctx.d_cards[i] for i in v.members] if with_members and not v.has_page else []}


def write_groups(ctx, out) -> None:
    """The groups' index (by size and by tightness), a page per group and the series page."""
    s = ctx.site
    if s.groups is None:
        return
    size = max(1, s.settings.page_size)
    views = ctx.group_views
    words = _settings_words(s.groups.settings)
    in_groups = int((s.groups.group >= 0).sum())
    for order, ranked in (("size", views),
                          ("tightness", sorted(views, key=lambda v: (-round(v.tightness, 6), v.number)))):
        pages = max(1, math.ceil(len(ranked) / size))
        for p in range(1, pages + 1):
            out.page("groups.html", groups_index_url(order, p), title=_("Groups"), order=order,
                     rows=[group_entry(ctx, v, order == "size") for v in ranked[(p - 1) * size:p * size]],
                     page_min=GROUP_PAGE_MIN,
                     n_groups=len(views), in_groups=in_groups, n_drawings=len(s.drawings),
                     other_url=groups_index_url("tightness" if order == "size" else "size"),
                     n_series=s.groups.series_count, settings=words,
                     **_pager(lambda n, o=order: groups_index_url(o, n), p, pages))
    for v in (v for v in views if v.has_page):
        pages = max(1, math.ceil(len(v.members) / size))
        artworks = [{**ctx.a_cards[j], "count": n} for j, n in v.artworks]
        for p in range(1, pages + 1):
            chunk = v.members[(p - 1) * size:p * size]
            # Named, not numbered: its rank by size changes whenever a larger group appears, and its page (and
            # the thousands of pages of the groups after it) would change with it.
            out.page("group.html", group_url(v.key, p), title=v.name, name=v.name,
                     total=len(v.members), tightness=decimal(v.tightness, 2), countries=list(v.countries),
                     years=year_span(v.years), ages=[(labels.age_words(a), n) for a, n in v.ages],
                     artworks=artworks, items=[ctx.d_cards[i] for i in chunk], settings=words,
                     **_pager(lambda n, k=v.key: group_url(k, n), p, pages))
    series = ctx.series
    pages = max(1, math.ceil(len(series) / size))
    for p in range(1, pages + 1):
        rows = [{"number": (p - 1) * size + k + 1, "similarity": decimal(float(s.groups.series_similarity[(p - 1) * size + k]), 2),
                 "items": [ctx.d_cards[i] for i in members]}
                for k, members in enumerate(series[(p - 1) * size:p * size])]
        out.page("series.html", series_url(p), title=_("Series"), rows=rows, n_series=len(series),
                 n_drawings=sum(len(m) for m in series), settings=words, **_pager(series_url, p, pages))


def drawing_links(ctx, row: int) -> dict:
    """What a drawing page shows of its group and series: ``group`` (name, and the address of its page, or the
    other drawings of a group too small for a page) or None, ``series`` (the first :data:`SERIES_SHOWN` other
    drawings of its series: address and label) and ``series_count`` (how many others it has). Nothing here
    depends on the other groups (their ranks, sizes), so that a drawing's page changes only when its own group
    or series does; and nothing more of a large series than the page shows (each page is keyed by these)."""
    g = ctx.site.groups
    if g is None:
        return {"group": None, "series": [], "series_count": 0}
    k = int(g.group[row])
    group = None
    if k >= 0:
        v = ctx.group_views[k]
        group = {"name": v.name, "url": group_url(v.key) if v.has_page else None,
                 "others": [] if v.has_page else [ctx.d_cards[i] for i in v.members if i != row]}
    s = int(g.series[row])
    members = ctx.series[s] if s >= 0 else ()
    shown = [{"url": ctx.d_cards[i]["url"], "label": ctx.d_cards[i]["label"]}
             for i in itertools.islice((i for i in members if i != row), SERIES_SHOWN)]
    return {"group": group, "series": shown, "series_count": max(len(members) - 1, 0)}


def year_extras(ctx, year: str) -> dict:
    """What a year's page shows besides its drawings: the competition's theme, the groups most typical of it."""
    theme = ctx.site.themes.get(year)
    g = ctx.site.groups
    typical = [group_entry(ctx, ctx.group_views[k]) for k in (g.typical.get(year, ()) if g else ())]
    return {"theme": {"theme": theme[0], "description": theme[1]} if theme else None, "typical": typical}


# ---------------------------------------------------------------- homogeneity

def homogeneity_label(ctx, view: str, key: str) -> tuple[str, str]:
    """(the words, the page) of one measured country, year, country-year or age group."""
    if view == "country-years":
        country, year = key.rsplit("-", 1)
        return f"{ctx.country_name(country)} {year}", collection_url("countries", country)
    facet_key = key.lower() if view == "ages" else key
    return ctx.facet_label(view, facet_key), collection_url(view, facet_key)


def homogeneity_rows(ctx) -> list[dict]:
    """Every measured view, most homogeneous first (by how far above random sets it is)."""
    g = ctx.site.groups
    if g is None:
        return []
    rows = []
    for h in g.homogeneity:
        label, url = homogeneity_label(ctx, h.view, h.key)
        rows.append({"view": h.view, "view_words": _(VIEW_WORDS[h.view]), "key": h.key, "label": label, "url": url,
                     "drawings": h.drawings, "similarity": h.similarity, "baseline": h.baseline, "low": h.low,
                     "high": h.high, "p": h.p, "excess": round(h.similarity - h.baseline, 6),
                     "examples": [ctx.d_cards[i] for i in h.examples]})
    rows.sort(key=lambda r: (-r["excess"], r["view"], r["key"]))
    return rows


def homogeneity_section(ctx) -> dict | None:
    """The statistics page's homogeneity section: the chart, the ten most and least homogeneous, the words."""
    rows = homogeneity_rows(ctx)
    if not rows:
        return None
    top = rows[:TOP_HOMOGENEOUS]
    bottom = list(reversed(rows[-TOP_HOMOGENEOUS:])) if len(rows) > TOP_HOMOGENEOUS else []
    bottom = [r for r in bottom if r not in top]
    title = _("How alike the drawings are, against random drawings")
    return {"chart": range_chart(top + list(reversed(bottom)), title), "top": top, "bottom": bottom,
            "count": len(rows), "settings": _settings_words(ctx.site.groups.settings)}


def range_chart(rows: list[dict], title: str) -> Markup:
    """One line per row: the range random sets of as many drawings reach (a grey bar) and the measured
    similarity (a dot), on one scale."""
    if not rows:
        return Markup("")
    left, right, line, top = 200, 30, 24, 30
    width = 720
    lo = min(min(r["low"], r["similarity"]) for r in rows)
    hi = max(max(r["high"], r["similarity"]) for r in rows)
    lo, hi = math.floor(lo * 10) / 10, math.ceil(hi * 10) / 10
    span = max(hi - lo, 1e-6)

    def x(v: float) -> float:
        return left + (v - lo) / span * (width - left - right)
    height = top + line * len(rows) + 10
    out = [f'<svg class="chart range" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    step = 0.1 if span <= 0.6 else 0.2
    ticks = [round(lo + step * t, 1) for t in range(int(round(span / step)) + 1)]
    for t in ticks:
        out.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top - 6}" y2="{height - 6}" stroke="#ddd6cc"/>'
                   f'<text class="chart-label" x="{x(t):.1f}" y="{top - 12}" text-anchor="middle">'
                   f'{escape(decimal(t, 2))}</text>')
    for n, r in enumerate(rows):
        y = top + n * line + line / 2
        tip = _("%(label)s: %(similarity)s; random sets %(low)s to %(high)s") % {
            "label": _("%(view)s: %(group)s") % {"view": r["view_words"], "group": r["label"]}, "similarity": decimal(r["similarity"], 3), "low": decimal(r["low"], 3),
            "high": decimal(r["high"], 3)}
        out.append(f'<g><title>{escape(tip)}</title>'
                   f'<text class="chart-label" x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">'
                   f'{escape(r["label"])}</text>'
                   f'<rect x="{x(r["low"]):.1f}" y="{y - 4:.1f}" width="{max(1.0, x(r["high"]) - x(r["low"])):.1f}" '
                   f'height="8" fill="#b9b3aa"/>'
                   f'<circle cx="{x(r["similarity"]):.1f}" cy="{y:.1f}" r="5" fill="#9a3412"/></g>')
    out.append("</svg>")
    return Markup("".join(out))


# ---------------------------------------------------------------- data

def groups_payload(ctx) -> dict:
    """groups.csv: every drawing in a group or a series, with the identifier of each (its first drawing's;
    empty: none)."""
    g = ctx.site.groups
    rows = []
    if g is not None:
        drawings = ctx.site.drawings
        for i, d in enumerate(drawings):
            k, s = int(g.group[i]), int(g.series[i])
            if k >= 0 or s >= 0:
                rows.append([d.id, ctx.group_views[k].key if k >= 0 else None,
                             drawings[ctx.series[s][0]].id if s >= 0 else None])
    return {"columns": ["drawing", "group", "series"], "rows": rows}


def homogeneity_payload(ctx) -> dict:
    rows = [[r["view"], r["key"], r["label"], r["drawings"], r["similarity"], r["baseline"], r["low"], r["high"],
             r["p"]] for r in homogeneity_rows(ctx)]
    return {"columns": ["view", "key", "label", "drawings", "similarity", "random_mean", "random_low",
                        "random_high", "share_as_alike"], "rows": rows}


def themes_payload(ctx) -> dict:
    return {"columns": ["year", "theme", "description"],
            "rows": [[int(y), t, d or None] for y, (t, d) in sorted(ctx.site.themes.items())]}
