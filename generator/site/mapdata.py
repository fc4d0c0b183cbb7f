"""Compact data files for the map page, and the thumbnail atlases it draws from the first frame.

The map must open quickly with 100,000 items and work from ``file://``, where
``fetch()`` is refused. So everything is written as small ``.js`` files that set
a global when loaded with a ``<script>`` tag:

``data/map/meta.js``
    ``window.SITEGEN_MAP``: the item count, chunk sizes, facet dictionaries
    (country, year, age group, artist, drawing/artwork) with counts, atlas sizes.
``data/map/points-NNN.js``
    one base64 string per chunk of points; column after column, little-endian:
    x and y as uint16 (the [-1, 1] layout quantised to 0..65535), then one
    index per facet (uint8, or uint16 when the facet has more than 256 values).
    About 13 bytes of text per point, so 100,000 points are ~1.3 MB.
``data/map/labels-NNN.js``
    ids and labels, loaded only when the visitor points at an item there.
``data/map/layout-year.js``, ``data/map/layout-country.js``
    the other arrangements offered on the page (see maplayouts.py): x and y of
    every point, quantised and base64 like the chunks, loaded when chosen. The
    groups that label each arrangement are in ``meta.js``.
``data/map/atlas-overview-NNN.webp``, ``data/map/atlas-detail-NNN.webp``
    every item's thumbnail packed into sheets at two sizes (see atlas.py), cell i
    of sheet s being point ``s * per_sheet + i``: the overview sheet is loaded
    before the first frame, detail sheets as one zooms in.

Points are ordered along a Z-order (Morton) curve of their position, so one
chunk of labels or one atlas sheet covers one neighbourhood of the map: a
visitor zoomed into a corner loads only the sheets of that corner.

Atlas sheets are cached under the build cache, keyed by the thumbnails they hold
(their file names carry the picture's content hash), so a rebuild with nothing
changed decodes no picture.
"""

from __future__ import annotations

import base64
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generator.fsutil import write_atomic
from generator.inputs.collection import AGE_GROUPS, Problem
from generator.site import labels
from generator.site.atlas import write_atlases
from generator.site.i18n import N_, collate, gettext as _
from generator.site.maplayouts import QUANT, alternative_layouts, quantise
from generator.site.jsonout import js_assign, json_for_script
from generator.site.urls import PAGE_FOLDERS, PICTURE_FOLDERS

MAP_SCHEMA_VERSION = 2
POINT_CHUNK = 16384
LABEL_CHUNK = 1024
#: Facet value of items without one (an artwork has no country; a badly named scan no year).
NONE_VALUE = "-"

#: (name, title shown on the page). Order matters: it is the column order in the point chunks.
FACETS = (
    ("kind", N_("Drawing or artwork")),
    ("country", N_("Country")),
    ("year", N_("Year")),
    ("age", N_("Age group")),
    ("artist", N_("Artist")),
)


@dataclass(frozen=True)
class MapItem:
    """One dot of the map."""

    kind: str            # "d" (drawing) or "a" (artwork)
    id: str
    x: float             # layout coordinates in [-1, 1]
    y: float
    label: str
    country: str = NONE_VALUE
    year: str = NONE_VALUE
    age: str = NONE_VALUE
    artist: str = NONE_VALUE
    thumb: Path | None = None  # picture for the atlas (any size; fitted into a cell)


@dataclass(frozen=True)
class MapFiles:
    """What :func:`write_map_data` wrote, for the page template and the tests."""

    count: int
    facets: list[dict]
    files: list[str]           # paths relative to the site root
    point_bytes: int           # meta.js + points-*.js: what loads before the first frame
    atlas_sheets: int
    atlas_computed: int        # sheets made now rather than taken from the cache
    unreadable: list[MapItem] = field(default_factory=list)  # thumbnails that could not be read for the atlas
    layouts: list[dict] = field(default_factory=list)  # the arrangements offered on the page (name, title)


def morton_order(qx: np.ndarray, qy: np.ndarray, keys: list[str]) -> np.ndarray:
    """Indices sorting points along a Z-order curve of their 8-bit cell, ties by ``keys``.

    >>> morton_order(np.array([65535, 0, 0]), np.array([0, 0, 65535]), ["c", "b", "a"]).tolist()
    [1, 0, 2]
    """
    cx = (np.asarray(qx, np.uint32) >> 8) & 0xFF
    cy = (np.asarray(qy, np.uint32) >> 8) & 0xFF
    code = np.zeros(len(cx), np.uint32)
    for bit in range(8):
        code |= ((cx >> bit) & 1) << (2 * bit)
        code |= ((cy >> bit) & 1) << (2 * bit + 1)
    return np.array(sorted(range(len(keys)), key=lambda i: (int(code[i]), keys[i])), dtype=np.int64)


def dequantise(q) -> np.ndarray:
    return np.asarray(q, np.float64) / QUANT * 2.0 - 1.0


def facet_dictionary(values: list[str], labels: dict[str, str] | None, sort_key=None) -> dict:
    """Distinct values (NONE_VALUE first), their labels and counts."""
    counts = Counter(values)
    distinct = sorted((v for v in counts if v != NONE_VALUE), key=sort_key or (lambda v: v))
    ordered = [NONE_VALUE] + distinct
    labels = labels or {}
    return {"values": ordered,
            "labels": [labels.get(v, _("Not given") if v == NONE_VALUE else v) for v in ordered],
            "counts": [counts.get(v, 0) for v in ordered]}


def encode_chunk(qx: np.ndarray, qy: np.ndarray, columns: list[np.ndarray], wide: list[bool]) -> str:
    parts = [qx.astype("<u2").tobytes(), qy.astype("<u2").tobytes()]
    for col, w in zip(columns, wide):
        parts.append(col.astype("<u2" if w else "u1").tobytes())
    return base64.b64encode(b"".join(parts)).decode("ascii")


def decode_chunk(text: str, n: int, wide: list[bool]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """The inverse of :func:`encode_chunk` (used by the tests, as map.js does in the browser)."""
    raw = base64.b64decode(text)
    qx = np.frombuffer(raw, "<u2", n, 0)
    qy = np.frombuffer(raw, "<u2", n, 2 * n)
    off, cols = 4 * n, []
    for w in wide:
        dt = "<u2" if w else "u1"
        cols.append(np.frombuffer(raw, dt, n, off))
        off += n * (2 if w else 1)
    assert off == len(raw), "chunk length does not match its point count"
    return qx, qy, cols


def write_map_data(out: Path, items: list[MapItem], *, facet_labels: dict[str, dict[str, str]] | None = None,
                   facet_sort: dict | None = None, method: str = "", cache_dir: Path | None = None,
                   workers: int = 2) -> MapFiles:
    """Write ``out/data/map/*`` for ``items``; returns sizes and the facet dictionaries."""
    folder = Path(out) / "data" / "map"
    folder.mkdir(parents=True, exist_ok=True)
    facet_labels = facet_labels or {}
    facet_sort = facet_sort or {}
    n = len(items)
    qx = quantise(np.array([it.x for it in items], np.float64))
    qy = quantise(np.array([it.y for it in items], np.float64))
    order = morton_order(qx, qy, [f"{it.kind}:{it.id}" for it in items])
    items = [items[i] for i in order]
    qx, qy = qx[order], qy[order]

    facets, columns, wide = [], [], []
    for name, title in FACETS:
        values = [getattr(it, name) for it in items]
        dic = facet_dictionary(values, facet_labels.get(name), facet_sort.get(name))
        index = {v: i for i, v in enumerate(dic["values"])}
        columns.append(np.array([index[v] for v in values], np.uint16))
        wide.append(len(dic["values"]) > 256)
        facets.append({"name": name, "title": _(title), "wide": wide[-1], **dic})

    files, point_bytes = [], 0
    n_chunks = (n + POINT_CHUNK - 1) // POINT_CHUNK
    for c in range(n_chunks):
        sl = slice(c * POINT_CHUNK, (c + 1) * POINT_CHUNK)
        text = js_assign("SITEGEN_MAP_POINTS", c, encode_chunk(qx[sl], qy[sl], [col[sl] for col in columns], wide))
        name = f"points-{c:03d}.js"
        write_atomic(folder / name, text)
        files.append(f"data/map/{name}")
        point_bytes += len(text.encode())
    n_label_chunks = (n + LABEL_CHUNK - 1) // LABEL_CHUNK
    countries = facet_labels.get("country") or {}
    for c in range(n_label_chunks):
        chunk = items[c * LABEL_CHUNK:(c + 1) * LABEL_CHUNK]
        name = f"labels-{c:03d}.js"
        # null where the page spells the label from the id (static/map.js): most drawings, half the bytes.
        write_atomic(folder / name, js_assign("SITEGEN_MAP_LABELS", c, {
            "ids": [it.id for it in chunk],
            "labels": [None if it.kind == "d" and it.label == labels.spelt_label(it.id, countries) else it.label
                       for it in chunk]}))
        files.append(f"data/map/{name}")

    layouts = []
    for described, q in alternative_layouts(items, qx, qy, NONE_VALUE, countries):
        if q is not None:
            text = js_assign("SITEGEN_MAP_LAYOUTS", described["name"],
                             base64.b64encode(q[0].astype("<u2").tobytes() + q[1].astype("<u2").tobytes()).decode())
            write_atomic(folder / described["file"], text)
            files.append(f"data/map/{described['file']}")
        layouts.append(described)

    levels, computed, failed = write_atlases(folder, [it.thumb for it in items], cache_dir, workers)
    sheets = [name for level in levels for name in level["files"]]
    files += [f"data/map/{s}" for s in sheets]
    meta = {
        "schema_version": MAP_SCHEMA_VERSION, "count": n, "method": method, "quant": QUANT,
        "chunk_size": POINT_CHUNK, "chunks": n_chunks, "label_chunk_size": LABEL_CHUNK,
        "label_chunks": n_label_chunks, "none": NONE_VALUE, "facets": facets,
        "pages": dict(PAGE_FOLDERS), "thumbs": dict(PICTURE_FOLDERS),
        "atlas": levels, "layouts": layouts,
    }
    no_picture = sorted(set(failed) | {i for i, it in enumerate(items) if it.thumb is None})
    if no_picture:  # points (in file order) whose preview would be a missing picture
        meta["no_thumb"] = no_picture
    text = "window.SITEGEN_MAP=" + json_for_script(meta) + ";\n"
    write_atomic(folder / "meta.js", text)
    files.insert(0, "data/map/meta.js")
    point_bytes += len(text.encode())
    return MapFiles(count=n, facets=facets, files=files, point_bytes=point_bytes,
                    atlas_sheets=len(sheets), atlas_computed=computed, unreadable=[items[i] for i in failed],
                    layouts=[{"name": d["name"], "title": _(d["title"])} for d in layouts])


# ---------------------------------------------------------------- from a built site

def map_items(ctx) -> tuple[list[MapItem], dict]:
    """The map items of a site being rendered (a :class:`generator.site.context.SiteContext`), and the
    facet labels (country names...)."""
    s = ctx.site
    nd = len(s.drawings)
    items, countries = [], {}

    def thumb(item_id: str) -> Path | None:
        return s.pictures[item_id][0] if item_id in s.pictures else None
    for i, d in enumerate(s.drawings):
        x, y = s.coords[i]
        confirmed = sorted({ctx.a_by_id[a].artist for a in ctx.confirmed_by_drawing.get(d.id, ())
                            if ctx.a_by_id[a].artist})
        if d.country:
            countries[d.country] = ctx.country_name(d.country)
        items.append(MapItem("d", d.id, float(x), float(y), ctx.drawing_label(d),
                             country=d.country or NONE_VALUE, year=str(d.year) if d.year else NONE_VALUE,
                             age=d.age_group or NONE_VALUE, artist=confirmed[0] if confirmed else NONE_VALUE,
                             thumb=thumb(d.id)))
    for j, a in enumerate(s.artworks):
        x, y = s.coords[nd + j]
        items.append(MapItem("a", a.id, float(x), float(y), labels.artwork_label(a),
                             artist=a.artist or NONE_VALUE, thumb=thumb(a.id)))
    facet_labels = {
        "kind": {"d": _("Drawings"), "a": _("Artworks"), NONE_VALUE: _("Not given")},
        "country": {NONE_VALUE: _("No country (artworks, unknown)"), **countries},
        "year": {NONE_VALUE: _("No year (artworks, unknown)")},
        "age": {NONE_VALUE: _("No age group (artworks, unknown)"), **{g: labels.age_group_label(g) for g in AGE_GROUPS}},
        "artist": {NONE_VALUE: _("None (drawings not confirmed)")},
    }
    age_rank = {g: i for i, g in enumerate(AGE_GROUPS)}
    sort = {"country": lambda v: collate(countries.get(v, v).lower()),
            "age": lambda v: (age_rank.get(v, 99), v),
            "kind": lambda v: {"d": 0, "a": 1}.get(v, 2),
            "artist": lambda v: v.lower()}
    return items, {"labels": facet_labels, "sort": sort}


def write_site_map(ctx, out) -> MapFiles:
    """Write the map data of the site being rendered; a thumbnail that cannot be read gets a report line."""
    items, extra = map_items(ctx)
    s = ctx.site
    cache_dir = Path(s.settings.cache) if s.settings.cache else None
    files = write_map_data(out.root, items, facet_labels=extra["labels"], facet_sort=extra["sort"],
                           method=s.layout_method, cache_dir=cache_dir)
    for it in files.unreadable:
        kind = "drawing" if it.kind == "d" else "artwork"
        out.problems.append(Problem(
            f"thumbnail of the {kind} {it.id}", "it could not be read to draw the map, so the map shows a plain "
            "dot for it, without its picture", "Delete the cache folder's images/ and atlas/ folders and build "
            "again; if it happens again, scan or copy the picture again.", kind="image"))
    return files
