"""The discoveries pages: the model's best suggestions for drawings that have no confirmed artwork yet.

The candidates are scored and ranked by the pipeline (``SiteData.discoveries``), by the page score. Pages
list them, paginated, with no script needed. The filters (country, year, age group, artist) are made by
``static/discoveries.js`` from ``data/discoveries.js``, a script file rather than JSON so that it also loads
from ``file://``. Every candidate is an element with ``data-pair="DRAWING ARTWORK"`` (the site's ids), which
the review controls use.
"""

from __future__ import annotations

import math

from generator.fsutil import write_atomic
from generator.contracts import Candidates
from generator import i18n
from generator.site import labels
from generator.i18n import gettext as _
from generator.site.jsonout import SCHEMA_VERSION, json_for_script
from generator.site.urls import discoveries_url, pager_numbers

#: The data file the filters read.
DATA_FILE = "data/discoveries.js"


def _ordinal(n: int) -> str:
    """
    >>> [_ordinal(n) for n in (1, 2, 3, 4, 11, 12, 21)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '21st']
    """
    return i18n.ordinal(n)


def candidate_rows(ctx, c: Candidates) -> list[dict]:
    """What the pages and the filters show of each candidate, best first."""
    s = ctx.site
    rows = []
    for n, (i, j, rank, sim, mutual, score) in enumerate(zip(c.drawing.tolist(), c.artwork.tolist(), c.rank.tolist(),
                                                             c.similarity.tolist(), c.mutual_rank.tolist(),
                                                             c.score.tolist()), start=1):
        d, a = s.drawings[i], s.artworks[j]
        dc, ac = ctx.d_cards[i], ctx.a_cards[j]
        rows.append({
            "n": n, "drawing": d.id, "artwork": a.id, "d_label": dc["label"], "d_url": dc["url"],
            "d_thumb": dc["thumb"], "a_title": ac["title"], "a_artist": ac["artist"], "a_year": ac["year"],
            "a_url": ac["url"], "a_thumb": ac["thumb"],
            **{f.key: labels.facet_key(d, v) for v, f in labels.FACETS.items()}, "artist": ac["artist"],
            "score": round(score, 3), "similarity": round(sim, 3), "rank": rank,
            "why": _why(rank, sim, mutual, s.neighbours.per_drawing)})
    return rows


def _why(rank: int, sim: float, mutual: int, listed: int) -> str:
    first = _("the model's first suggestion for this drawing") if rank == 1 else \
        _("the model's %(ordinal)s of %(listed)s suggestions for this drawing") % {
            "ordinal": _ordinal(rank), "listed": i18n.number(listed)}
    back = (_("this drawing is the %(ordinal)s closest to the artwork") % {"ordinal": _ordinal(mutual)} if mutual
            else _("other drawings are closer to the artwork"))
    return _("%(first)s; similarity %(similarity)s; %(back)s") % {
        "first": first, "similarity": i18n.decimal(sim, 3), "back": back}


def _facet_options(ctx, rows: list[dict]) -> dict[str, list[list]]:
    """Each filter's choices among the listed candidates: [key, label, count], in the collection views' order."""
    options: dict[str, list[list]] = {}
    for facet, f in labels.FACETS.items():
        field = f.key
        counts: dict[str, int] = {}
        for r in rows:
            counts[r[field]] = counts.get(r[field], 0) + 1
        options[field] = [[g.key, g.label, counts[g.key]] for g in ctx.collections[facet] if g.key in counts]
    artists: dict[str, int] = {}
    for r in rows:
        artists[r["artist"]] = artists.get(r["artist"], 0) + 1
    options["artist"] = [[k, k, artists[k]] for k in sorted(artists, key=lambda k: (k.lower(), k))]
    return options


def write_discoveries(ctx, out) -> None:
    found = ctx.site.discoveries
    assert found is not None, "the pipeline scored no discoveries for these pages"
    listed = found.drawings_without
    rows = candidate_rows(ctx, found.candidates)
    size = max(1, ctx.site.settings.page_size)
    pages = max(1, math.ceil(len(rows) / size))
    options = _facet_options(ctx, rows)
    payload = {"schema_version": SCHEMA_VERSION, "score": found.score, "page_size": size, "filters": options,
               "columns": ["drawing", "artwork", "d_label", "d_url", "d_thumb", "a_title", "a_artist", "a_year",
                           "a_url", "a_thumb", "country", "year", "age", "artist", "score", "why"]}
    payload["rows"] = [[r[k] for k in payload["columns"]] for r in rows]
    write_atomic(out.root / DATA_FILE, "window.SITEGEN_DISCOVERIES=" + json_for_script(payload) + ";\n")
    for p in range(1, pages + 1):
        pager = [{"n": n, "url": discoveries_url(n) if n else None, "current": n == p}
                 for n in pager_numbers(p, pages)]
        out.page("discoveries.html", discoveries_url(p), title=_("Discoveries") if p == 1 else _("Discoveries, page %(page)s") % {"page": p},
                 items=rows[(p - 1) * size:p * size], total=len(rows), drawings_without=listed,
                 page=p, pages=pages, pager=pager, has_filters=bool(rows),
                 prev_url=discoveries_url(p - 1) if p > 1 else None,
                 next_url=discoveries_url(p + 1) if p < pages else None)
