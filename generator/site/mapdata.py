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
    ids and labels, loaded only when the visitor points at an item there (see :func:`stored_label`); an
    artwork's id without what every id of its artist's artworks begins with (``artwork_id_prefix`` in
    ``meta.js``, one for each value of the artist column: ``vincent_van_gogh_`` for ``vincent_van_gogh_12``).
``data/map/layout-year.js``, ``data/map/layout-country.js``
    the other arrangements offered on the page (see ``ml/maplayouts.py``): x and y of
    every point, quantised and base64 like the chunks, loaded when chosen. The
    groups that label each arrangement are in ``meta.js``.
``data/map/atlas-overview-NNN.webp``, ``data/map/atlas-detail-DEPTH-X-Y.webp``
    every item's thumbnail packed into sheets at two sizes (see ``pipeline/atlas.py``): cell i of
    overview sheet s is point ``s * per_sheet + i``, loaded before the first frame; the detail level has
    one sheet per tile of the map (cell i of a tile's sheet is the tile's point ``start + i``, the starts
    listed in ``meta.js``), loaded as one zooms in.

A map of ``atlas.TILED_FROM`` items or more is **tiled**: ``meta.js`` holds no points but the description of
its picture tiles (``tiles``: levels, sizes, which tiles exist), and the points come one file per tile of the
map (``data/map/points-DEPTH-X-Y.js``, the same encoding as a chunk), loaded when the view reaches that tile;
the picture tiles ``data/map/tile-LEVEL-X-Y.webp`` (see ``pipeline/maptiles.py``) show the map until then.
It has no overview sheet and offers the similarity arrangement only.

Points are ordered along a Z-order (Morton) curve of their position and cut into the fixed tiles of a
quadtree (see ``ml/maplayouts.py``), so one chunk of labels or one atlas sheet covers one neighbourhood of
the map: a visitor zoomed into a corner loads only the sheets of that corner, and adding drawings to one
part of the map changes only the detail sheets of the tiles there.

The point order, the arrangements and their named groups (:class:`MapArrangement`) and the atlas
sheets (:class:`AtlasSheets`, finished files) are made by the pipeline before the pages; this module
only writes them out.
"""

from __future__ import annotations

import base64
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generator.contracts import QUANT, AtlasSheets, MapArrangement
from generator.fsutil import link_or_copy, write_atomic
from generator.inputs.collection import AGE_GROUPS, Problem
from generator.site import labels
from generator.i18n import N_, collate, gettext as _
from generator.site.jsonout import js_assign, json_for_script
from generator.site.urls import PAGE_FOLDERS, PICTURE_FOLDERS

MAP_SCHEMA_VERSION = 3
POINT_CHUNK = 16384
LABEL_CHUNK = 1024
#: Facet value of items without one (an artwork has no country; a badly named scan no year).
NONE_VALUE = "-"

#: The map's filters: (name, title shown on the page; English, given in the site's language when written). Order
#: matters: it is the column order in the point chunks.
COLUMNS = (
    ("kind", N_("Drawing or artwork")),
    *((f.key, f.one) for f in labels.FACETS.values()),
    ("artist", N_("Artist")),
)


@dataclass(frozen=True, slots=True)   # 350,000 of them in a first build: no dict each
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
    thumb: str | Path | None = None  # picture for the atlas (any size; fitted into a cell)


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
    tiled: bool = False        # too large to load whole: drawn from picture tiles until zoomed in


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


def artwork_id_prefixes(items: list[MapItem], artists: list[str]) -> list[str]:
    """For each value of the artist column, what the ids of all its artworks begin with ("" for none).

    >>> artwork_id_prefixes([MapItem("a", "monet_3", 0, 0, "", artist="Monet"), MapItem("d", "d1", 0, 0, "",
    ...     artist="Monet"), MapItem("a", "monet_12", 0, 0, "", artist="Monet")], [NONE_VALUE, "Monet", "Rodin"])
    ['', 'monet_', '']
    """
    common: dict[str, str] = {}
    for it in items:
        if it.kind != "a":
            continue
        p = common.setdefault(it.artist, it.id)
        n = 0
        while n < min(len(p), len(it.id)) and p[n] == it.id[n]:
            n += 1
        common[it.artist] = p[:n]
    return [common.get(v, "") for v in artists]


def stored_label(it: MapItem, countries: dict[str, str]) -> str | list[str] | None:
    """An item's label as the labels file holds it: null where the page spells it from the id (most drawings,
    half the bytes), ``[title]`` for an artwork labelled "title (artist)", the artist being the one its point
    already names (the artist column), ``[]`` when the title too is spelt from the artist and the id
    (labels.spelt_title): at a million artworks the names would cost megabytes (static/map/data.js ``labelsOf``
    spells them).

    >>> stored_label(MapItem("a", "m_3", 0, 0, "Water Lilies (Claude Monet)", artist="Claude Monet"), {})
    ['Water Lilies']
    >>> stored_label(MapItem("a", "monet_12", 0, 0, "Claude Monet, no. 12 (Claude Monet)", artist="Claude Monet"), {})
    []
    >>> stored_label(MapItem("a", "x", 0, 0, "Untitled (Unknown artist)"), {})
    'Untitled (Unknown artist)'
    >>> stored_label(MapItem("d", "2009_14-17_1234_DEU", 0, 0, "Drawing 1234, Germany, 2009"), {"DEU": "Germany"})
    """
    if it.kind == "d" and it.label == labels.spelt_label(it.id, countries):
        return None
    named = f" ({it.artist})"
    if it.kind == "a" and it.artist != NONE_VALUE and it.label.endswith(named) and len(it.label) > len(named):
        title = it.label[:-len(named)]
        return [] if title == labels.spelt_title(it.id, it.artist) else [title]
    return it.label


def write_map_data(out: Path, items: list[MapItem], arrangement: MapArrangement, atlas: AtlasSheets, *,
                   facet_labels: dict[str, dict[str, str]] | None = None, facet_sort: dict | None = None,
                   method: str = "") -> MapFiles:
    """Write ``out/data/map/*`` for ``items`` in the ``arrangement``'s order, with the ``atlas`` sheets;
    returns sizes and the facet dictionaries."""
    folder = Path(out) / "data" / "map"
    folder.mkdir(parents=True, exist_ok=True)
    facet_labels = facet_labels or {}
    facet_sort = facet_sort or {}
    n = len(items)
    assert len(arrangement.order) == n, "the map's arrangement is out of step with its items"
    items = [items[i] for i in arrangement.order]
    qx, qy = arrangement.x, arrangement.y

    facets, columns, wide = [], [], []
    for name, title in COLUMNS:
        values = [getattr(it, name) for it in items]
        dic = facet_dictionary(values, facet_labels.get(name), facet_sort.get(name))
        index = {v: i for i, v in enumerate(dic["values"])}
        columns.append(np.array([index[v] for v in values], np.uint16))
        wide.append(len(dic["values"]) > 256)
        facets.append({"name": name, "title": _(title), "wide": wide[-1], **dic})

    files, point_bytes = [], 0
    tiled = atlas.tiles is not None
    if tiled:   # one file of points per tile of the map, loaded when the view reaches it
        detail = atlas.levels[-1]
        ends = detail["starts"][1:] + [n]
        for s, (start, end) in enumerate(zip(detail["starts"], ends)):
            sl = slice(start, end)
            name = "points-" + detail["files"][s][len("atlas-detail-"):-len(".webp")] + ".js"
            write_atomic(folder / name, js_assign("SITEGEN_MAP_POINTS", s, encode_chunk(
                qx[sl], qy[sl], [col[sl] for col in columns], wide)))
            files.append(f"data/map/{name}")
        n_chunks = 0
    else:
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
    artists = facets[[name for name, _ in COLUMNS].index("artist")]["values"]
    id_prefix = artwork_id_prefixes(items, artists)
    prefix_of = dict(zip(artists, id_prefix))
    for c in range(n_label_chunks):
        chunk = items[c * LABEL_CHUNK:(c + 1) * LABEL_CHUNK]
        name = f"labels-{c:03d}.js"
        write_atomic(folder / name, js_assign("SITEGEN_MAP_LABELS", c, {
            "ids": [it.id[len(prefix_of[it.artist]):] if it.kind == "a" else it.id for it in chunk],
            "labels": [stored_label(it, countries) for it in chunk]}))
        files.append(f"data/map/{name}")

    layouts = []
    for described, q in arrangement.layouts:
        if q is not None and tiled:   # the picture tiles show the similarity layout only
            continue
        if q is not None:
            text = js_assign("SITEGEN_MAP_LAYOUTS", described["name"],
                             base64.b64encode(q[0].astype("<u2").tobytes() + q[1].astype("<u2").tobytes()).decode())
            write_atomic(folder / described["file"], text)
            files.append(f"data/map/{described['file']}")
        layouts.append(described)

    for name, made in atlas.files:
        link_or_copy(made, folder / name)
    levels, failed = list(atlas.levels), list(atlas.unreadable)
    sheets = [name for name, _ in atlas.files]
    files += [f"data/map/{s}" for s in sheets]
    meta = {
        "schema_version": MAP_SCHEMA_VERSION, "count": n, "method": method, "quant": QUANT,
        "chunk_size": POINT_CHUNK, "chunks": n_chunks, "label_chunk_size": LABEL_CHUNK,
        "label_chunks": n_label_chunks, "none": NONE_VALUE, "facets": facets,
        "pages": dict(PAGE_FOLDERS), "thumbs": dict(PICTURE_FOLDERS),
        "atlas": levels, "layouts": layouts, "artwork_id_prefix": id_prefix,
    }
    if tiled:
        meta["tiles"] = atlas.tiles
    no_picture = sorted(set(failed) | {i for i, it in enumerate(items) if it.thumb is None})
    if no_picture:  # points (in file order) whose preview would be a missing picture
        meta["no_thumb"] = no_picture
    text = "window.SITEGEN_MAP=" + json_for_script(meta) + ";\n"
    write_atomic(folder / "meta.js", text)
    files.insert(0, "data/map/meta.js")
    point_bytes += len(text.encode())
    return MapFiles(count=n, facets=facets, files=files, point_bytes=point_bytes,
                    atlas_sheets=len(sheets), atlas_computed=atlas.computed, unreadable=[items[i] for i in failed],
                    layouts=[{"name": d["name"], "title": _(d["title"])} for d in layouts], tiled=tiled)


# ---------------------------------------------------------------- from a built site

def map_items(s) -> tuple[list[MapItem], dict]:
    """The map items of the site data (a :class:`generator.site.context.SiteData`), in its item order (the
    drawings, then the artworks), and the facet labels (country names...) and sort orders."""
    nd = len(s.drawings)
    items, countries = [], {}
    a_by_id = {a.id: a for a in s.artworks}
    confirmed_by_drawing: dict[str, list[str]] = {}
    for d_id, a_id in s.pairs:
        confirmed_by_drawing.setdefault(d_id, []).append(a_id)

    place = getattr(s.pictures, "thumb_place", None)   # the file as a string, no path object made for it

    def thumb(item_id: str) -> str | None:
        if item_id not in s.pictures:
            return None
        return place(item_id) if place is not None else os.fspath(s.pictures[item_id][0])
    xy = np.asarray(s.coords)[:, :2].tolist()
    for d, (x, y), label in zip(s.drawings, xy, labels.drawing_labels(s.countries, s.drawings)):
        confirmed = sorted({a_by_id[a].artist for a in confirmed_by_drawing.get(d.id, ()) if a_by_id[a].artist})
        if d.country:
            countries[d.country] = labels.country_name(s.countries, d.country)
        items.append(MapItem("d", d.id, x, y, label,
                             country=d.country or NONE_VALUE, year=str(d.year) if d.year else NONE_VALUE,
                             age=d.age_group or NONE_VALUE, artist=confirmed[0] if confirmed else NONE_VALUE,
                             thumb=thumb(d.id)))
    for a, (x, y) in zip(s.artworks, xy[nd:]):
        items.append(MapItem("a", a.id, x, y, labels.artwork_label(a),
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
    s = ctx.site
    assert s.map is not None and s.atlas is not None, "the pipeline made no map arrangement for these pages"
    items, extra = s.map_items if s.map_items is not None else map_items(s)
    files = write_map_data(out.root, items, s.map, s.atlas, facet_labels=extra["labels"], facet_sort=extra["sort"],
                           method=s.layout_method)
    for it in files.unreadable:
        kind = "drawing" if it.kind == "d" else "artwork"
        out.problems.append(Problem(
            f"thumbnail of the {kind} {it.id}", "it could not be read to draw the map, so the map shows a plain "
            "dot for it, without its picture", "Delete the cache folder's images/ and atlas/ folders and build "
            "again; if it happens again, scan or copy the picture again.", kind="image"))
    return files
