"""The lists under a drawing (its other suggested artworks, its similar drawings) as shared data files.

A drawing page carries the drawing and the artwork beside it; the nine other suggestions and the six similar
drawings would add about 1.8 KB of links to each page, 180 MB over 100,000 drawings, mostly names repeated on
page after page. They are written once here, in small ``.js`` files that ``static/related.js`` loads with a
``<script>`` tag (``fetch()`` is refused from ``file://``) and turns into the same lists of links:

``data/related/meta.js``
    ``window.SITEGEN_RELATED``: the number of drawing chunks and of artworks per artwork chunk, the country
    names the drawing labels use, the header's links (``urls.site_nav``: drawing pages carry only one).
``data/related/a-NNN.js``
    the artworks that some drawing's list names (suggested or confirmed), ``N * ARTWORK_CHUNK`` onwards, in
    site order: ``{"artists": [[name, id prefix]], "rows": [[id, title, artist, year], ...]}``, ``artist`` a
    number in the file's own list of artists, ``id`` what follows that artist's prefix (see
    :func:`artworks_table_chunk`), and a fifth value ``0`` for an artwork without a picture. An artwork that no
    list names is not here: at a million artworks the table would otherwise cost about 57 bytes for each, and
    a drawing's list can name at most ten.
``data/related/d-NNN.js``
    the drawings whose id hashes to chunk N (``chunk_of``), by id: ``[artworks, similarities, drawings,
    similarities, extra]``: the suggested artworks as row numbers of the artworks' table above, in rank
    order, the similar drawings by id, similarities in thousandths (see :func:`_thousandths`); ``extra`` (only when needed) holds
    ``c``: the confirmed artworks (row numbers), ``n``: similar drawings without a picture, ``l``: labels the
    script cannot spell from an id (see ``spelt_label``).

A drawing's chunk follows from its id alone, so adding drawings to the archive changes no page for that.
The data download keeps the full table of suggestions in ``neighbours.csv.gz``; these files serve the pages.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from generator.fsutil import write_atomic
from generator.site.jsonout import artists_by_number, compact_year, js_assign
from generator.i18n import gettext as _
from generator.site.labels import spelt_label, spelt_title
from generator.site.urls import site_nav

#: Drawings per chunk, on average: a page loads one chunk (about 55 KB at 200 drawings).
DRAWINGS_PER_CHUNK = 256
ARTWORK_CHUNK = 4096
FOLDER = "data/related"
#: The archive's name pattern as the site's ids keep it: YEAR_AGEGROUP_NUMBER_COUNTRY[_x]


def chunk_count(n_drawings: int) -> int:
    """A power of two, so that the count (and every drawing's chunk) changes only when the archive doubles.

    >>> chunk_count(0), chunk_count(256), chunk_count(257), chunk_count(100_000)
    (1, 1, 2, 512)
    """
    return 1 << max(0, math.ceil(math.log2(max(1, n_drawings) / DRAWINGS_PER_CHUNK)))


def chunk_of(item_id: str, chunks: int) -> int:
    """FNV-1a (32 bits) of the id's UTF-8 bytes, modulo ``chunks``; static/core/codes.js computes the same.

    >>> chunk_of("1994_MS_002974_USA", 512), chunk_of("", 7)
    (254, 2)
    """
    h = 0x811C9DC5
    for byte in item_id.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h % chunks


def _thousandths(values) -> list:
    """Similarities in thousandths, in rank order, as the first one and then each one's fall from the one before
    (one or two digits instead of three: 2.4 MB less over 100,000 drawings); static/related.js adds them up.
    ``values``: one list, or a table of them (a list for each row, all rows at once).

    >>> _thousandths([0.897, 0.8801, 0.875, 0.9])
    [897, 17, 5, -25]
    >>> _thousandths([[0.5, 0.25], [0.0015, 0.0025]])
    [[500, 250], [2, 0]]
    """
    now = np.rint(np.asarray(values, np.float64) * 1000).astype(np.int64)   # halves to even, as round() does
    out = now.copy()
    out[..., 1:] = now[..., :-1] - now[..., 1:]
    return out.tolist()


def write_related(ctx, out_root: Path) -> None:
    """Write ``data/related/`` for every drawing of the site (``ctx``: the SiteContext)."""
    s, nb = ctx.site, ctx.site.neighbours
    folder = Path(out_root) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    countries = {d.country: ctx.country_name(d.country) for d in s.drawings if d.country}
    chunks = chunk_count(len(s.drawings))
    nav = [[_(label), url] for label, url in site_nav(s.browser_model is not None)]
    write_atomic(folder / "meta.js", js_assign("SITEGEN_RELATED", "meta", {
        "chunks": chunks, "artwork_chunk": ARTWORK_CHUNK, "countries": countries, "nav": nav}))
    da_i = nb.artworks_index.tolist()
    confirmed_of = {d.id: sorted(ctx.a_index[a] for a in ctx.confirmed_by_drawing.get(d.id, ())) for d in s.drawings}
    named = sorted({j for row in da_i for j in row} | {j for js in confirmed_of.values() for j in js})
    row_of = {j: k for k, j in enumerate(named)}
    write_artworks_table(folder, [ctx.a_cards[j] for j in named])
    by_chunk: dict[int, dict] = defaultdict(dict)
    dd_i = nb.drawings_index.tolist()
    da_t, dd_t = _thousandths(nb.artworks_similarity), _thousandths(nb.drawings_similarity)
    # once per drawing, not once per list it is in
    d_ids = [card["id"] for card in ctx.d_cards]
    no_thumb = [not card["thumb"] for card in ctx.d_cards]
    own_label = [spelt_label(card["id"], countries) != card["label"] for card in ctx.d_cards]
    for i, d in enumerate(s.drawings):
        similar = dd_i[i]
        entry = [[row_of[j] for j in da_i[i]], da_t[i], [d_ids[j] for j in similar], dd_t[i]]
        extra = {}
        if confirmed_of[d.id]:
            extra["c"] = [row_of[j] for j in confirmed_of[d.id]]
        no_picture = [d_ids[j] for j in similar if no_thumb[j]]
        if no_picture:
            extra["n"] = no_picture
        labels = {d_ids[j]: ctx.d_cards[j]["label"] for j in similar if own_label[j]}
        if labels:
            extra["l"] = labels
        if extra:
            entry.append(extra)
        by_chunk[chunk_of(d.id, chunks)][d.id] = entry
    for c in range(chunks):
        write_atomic(folder / f"d-{c:03d}.js", js_assign("SITEGEN_RELATED", f"d{c}", by_chunk.get(c, {})))


def artworks_table_chunk(cards) -> dict:
    """One file of the artworks' table: each row names its artist by number in the file's list of artists, which
    also holds what the ids of that artist's artworks there begin with (jsonout.artists_by_number); ``0`` stands
    for a title the browser spells from the artist and the id (labels.spelt_title); a plain year is a number.

    >>> monet = {"artist": "Claude Monet", "year": "", "thumb": "x"}
    >>> artworks_table_chunk([{**monet, "id": "monet_3", "title": "Water Lilies", "year": "1899"},
    ...                       {**monet, "id": "monet_b", "title": "B", "thumb": None},
    ...                       {**monet, "id": "monet_12", "title": "Claude Monet, no. 12"}])["rows"]
    [['3', 'Water Lilies', 0, 1899], ['b', 'B', 0, '', 0], ['12', 0, 0, '']]
    """
    artists, numbers, rest = artists_by_number([(a["id"], a["artist"]) for a in cards])
    rows = []
    for a, number, id_rest in zip(cards, numbers, rest):
        title = 0 if a["title"] == spelt_title(a["id"], a["artist"]) else a["title"]   # the browser spells it
        row = [id_rest, title, number, compact_year(a["year"])]
        if not a["thumb"]:
            row.append(0)
        rows.append(row)
    return {"artists": artists, "rows": rows}


def write_artworks_table(folder: Path, cards) -> None:
    """``a-NNN.js``: the artworks' table, ``ARTWORK_CHUNK`` rows a file (one empty file when no list names any)."""
    for c in range(0, max(1, len(cards)), ARTWORK_CHUNK):
        write_atomic(folder / f"a-{c // ARTWORK_CHUNK:03d}.js", js_assign(
            "SITEGEN_RELATED", f"a{c // ARTWORK_CHUNK}", artworks_table_chunk(cards[c:c + ARTWORK_CHUNK])))
