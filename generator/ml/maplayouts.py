"""The map's point order, its other arrangements, and named groups to label them, computed at build time.

* **Point order and tiles**: along a Z-order (Morton) curve of the quantised position, cut into the
  leaves of a quadtree over the fixed square of quantised coordinates (:func:`quadtree_tiles`): a tile is
  split into four while it holds more than :data:`TILE_POINTS` points. A tile is a fixed square of the
  map, not a range of the order, so adding points to one part of the map changes only the tiles there,
  and the files made per tile (the detail picture sheets) elsewhere stay as they were.

* **Similarity** (the layout of the model, usually UMAP): the points are split into groups by k-means
  on their map position (seeded, so the same layout gives the same groups). Each group is named by the
  artist met most often among its artworks and confirmed re-creations; a group without any artist is
  named by the country met most often among its drawings (and when two groups would share a name,
  by the age group met most often too).
* **Year**: a timeline, one column of pictures per year from left to right, stacked upwards; artworks
  and drawings without a year get columns of their own at the end.
* **Country**: one square block of pictures per country, largest first, packed in rows; artworks and
  drawings without a country get blocks of their own.

Inside a column or block the items keep the map's point order, which follows the similarity layout,
so similar pictures stay near each other there too.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from generator.contracts import QUANT, MapTile
from generator.i18n import N_, gettext as _

CLUSTER_SEED = 0
MAX_CLUSTERS = 40


def quantise(v: np.ndarray) -> np.ndarray:
    """[-1, 1] -> 0..65535 (values outside are clipped).

    >>> quantise(np.array([-1.0, 0.0, 1.0])).tolist()
    [0, 32768, 65535]
    """
    v = np.clip(np.asarray(v, np.float64), -1.0, 1.0)
    return np.floor((v + 1.0) / 2.0 * QUANT + 0.5).astype(np.uint16)


#: Most points in one tile of the map (one detail picture sheet holds a tile: see ``pipeline/atlas.py``).
TILE_POINTS = 1024
#: Bits of a quantised coordinate: a tile of the deepest level is one quantised position.
COORD_BITS = 16


def _spread(v: np.ndarray) -> np.ndarray:
    """The 16 bits of ``v`` moved to the even bits of a 32-bit number."""
    v = np.asarray(v, np.uint64) & 0xFFFF
    v = (v | (v << 8)) & 0x00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F
    v = (v | (v << 2)) & 0x33333333
    return (v | (v << 1)) & 0x55555555


def morton_codes(qx: np.ndarray, qy: np.ndarray) -> np.ndarray:
    """The position of each point along the Z-order curve of the quantised square (x in the even bits).

    >>> morton_codes(np.array([0, 65535, 0, 1]), np.array([0, 0, 65535, 1])).tolist()
    [0, 1431655765, 2863311530, 3]
    """
    return _spread(qx) | (_spread(qy) << 1)


def morton_order(qx: np.ndarray, qy: np.ndarray, keys: list[str]) -> np.ndarray:
    """Indices sorting points along the Z-order curve of their quantised position, ties by ``keys``.

    >>> morton_order(np.array([65535, 0, 0]), np.array([0, 0, 65535]), ["c", "b", "a"]).tolist()
    [1, 0, 2]
    """
    if len(keys) == 0:
        return np.zeros(0, np.int64)
    return np.lexsort((np.array(keys), morton_codes(qx, qy))).astype(np.int64)


def quadtree_tiles(codes: np.ndarray, capacity: int = TILE_POINTS) -> tuple[MapTile, ...]:
    """The leaves of the quadtree over the quantised square whose tiles hold at most ``capacity`` points.

    ``codes`` are the points' :func:`morton_codes` in ascending order: every tile is then one range of
    them. Empty tiles are left out. A tile of the deepest level (one quantised position) with more points
    is cut into parts of ``capacity``.

    >>> codes = np.sort(morton_codes(np.array([0, 1, 40000, 40001, 65535]), np.array([0, 0, 0, 0, 65535])))
    >>> [(t.name, t.start, t.end) for t in quadtree_tiles(codes, 2)]
    [('1-0-0', 0, 2), ('1-1-0', 2, 4), ('1-1-1', 4, 5)]
    """
    codes = np.asarray(codes, np.uint64)
    tiles: list[MapTile] = []

    def walk(lo: int, hi: int, depth: int, prefix: int) -> None:
        if hi - lo <= capacity or depth == COORD_BITS:
            x = y = 0
            for bit in range(depth):
                x |= ((prefix >> (2 * bit)) & 1) << bit
                y |= ((prefix >> (2 * bit + 1)) & 1) << bit
            for part, start in enumerate(range(lo, hi, capacity)):
                tiles.append(MapTile(depth, x, y, part, start, min(hi, start + capacity)))
            return
        shift = 2 * (COORD_BITS - depth - 1)
        bounds = np.searchsorted(codes[lo:hi], np.array([(prefix * 4 + q) << shift for q in range(5)], np.uint64))
        for q in range(4):
            a, b = lo + int(bounds[q]), lo + int(bounds[q + 1])
            if b > a:
                walk(a, b, depth + 1, prefix * 4 + q)

    if len(codes):
        walk(0, len(codes), 0, 0)
    return tuple(tiles)


def cluster_count(n: int) -> int:
    """How many groups to label for ``n`` items.

    >>> [cluster_count(n) for n in (1, 50, 400, 100_000)]
    [1, 2, 7, 40]
    """
    return max(1, min(MAX_CLUSTERS, n, round(math.sqrt(n / 8))))


def kmeans(xy: np.ndarray, k: int, seed: int = CLUSTER_SEED, iterations: int = 40) -> np.ndarray:
    """Group labels (0..k-1) of the rows of ``xy`` by k-means, seeded k-means++ start, fixed iterations."""
    xy = np.asarray(xy, np.float64)
    n = len(xy)
    k = max(1, min(k, n))
    rng = np.random.default_rng(seed)
    centres = [xy[int(rng.integers(n))]]
    d2 = ((xy - centres[0]) ** 2).sum(1)
    for _step in range(1, k):
        total = d2.sum()
        pick = int(rng.choice(n, p=d2 / total)) if total > 0 else int(rng.integers(n))
        centres.append(xy[pick])
        d2 = np.minimum(d2, ((xy - xy[pick]) ** 2).sum(1))
    c = np.array(centres)
    x, y = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    assign = np.zeros(n, np.int64)
    dist, dy = np.empty((n, k)), np.empty((n, k))
    for _step in range(iterations):
        # squared distances to every centre, one coordinate at a time (no n x k x 2 array, no new arrays)
        np.subtract.outer(x, c[:, 0], out=dist)
        dist *= dist
        np.subtract.outer(y, c[:, 1], out=dy)
        dy *= dy
        dist += dy
        new = dist.argmin(1)
        if _step and np.array_equal(new, assign):
            break
        assign = new
        counts = np.bincount(assign, minlength=k)
        filled = counts > 0   # an emptied centre stays where it is
        c[filled, 0] = np.bincount(assign, weights=x, minlength=k)[filled] / counts[filled]
        c[filled, 1] = np.bincount(assign, weights=y, minlength=k)[filled] / counts[filled]
    return assign


def _most_common(values) -> str | None:
    """The most frequent value (ties: the first in sorted order), ignoring empty ones."""
    counts = Counter(v for v in values if v)
    if not counts:
        return None
    best = max(counts.values())
    return min(v for v, c in counts.items() if c == best)


def similarity_groups(items, qx: np.ndarray, qy: np.ndarray, none: str, country_names: dict[str, str]) -> dict:
    """Named k-means groups of the similarity layout: label positions (quantised), labels, sizes."""
    n = len(items)
    if n == 0:
        return {"kind": "clusters", "x": [], "y": [], "labels": [], "counts": []}
    assign = kmeans(np.stack([qx, qy], 1).astype(np.float64) / 65535.0, cluster_count(n))
    groups, used = [], Counter()
    for j in sorted(set(assign.tolist())):
        members = np.flatnonzero(assign == j)
        artist = _most_common(items[i].artist for i in members if items[i].artist != none)
        country = _most_common(items[i].country for i in members if items[i].country != none)
        label = artist or (country_names.get(country, country) if country else _("Pictures without details"))
        used[label] += 1
        if used[label] > 1:   # two groups with one name: the age group met most often tells them apart
            age = _most_common(items[i].age for i in members if items[i].age != none)
            aged = _("%(group)s, ages %(ages)s") % {"group": label, "ages": age} if age else ""
            label = aged if age and used[aged] == 0 else f"{label} ({used[label]})"
            used[label] += 1
        groups.append((-len(members), label, int(round(qx[members].mean())), int(round(qy[members].mean()))))
    groups.sort()
    return {"kind": "clusters", "x": [g[2] for g in groups], "y": [g[3] for g in groups],
            "labels": [g[1] for g in groups], "counts": [-g[0] for g in groups]}


def _to_unit(cx: np.ndarray, cy: np.ndarray, width: float, height: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Cell coordinates -> [-1, 1] keeping the aspect ratio; also the side of one cell there."""
    side = 1.9 / max(width, height, 1.0)
    return (cx - width / 2) * side, (cy - height / 2) * side, side


def _groups_of(items, key) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        out.setdefault(key(it), []).append(i)
    return out


def timeline_layout(items, none: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """x = year (one column per year), items stacked upwards; (x, y, groups with cell size)."""
    by = _groups_of(items, lambda it: "artworks" if it.kind == "a" else it.year)
    years = sorted(k for k in by if k not in ("artworks", none))
    keys = years + [k for k in (none, "artworks") if k in by]
    names = {none: _("No year"), "artworks": _("Artworks")}
    tallest = max((len(by[k]) for k in keys), default=1)
    cols = max(1, round(math.sqrt(1.6 * tallest / max(1, len(keys)))))
    gap = max(1, cols // 3)
    width = len(keys) * cols + (len(keys) - 1) * gap
    height = math.ceil(tallest / cols) + 2          # two rows below the columns for the labels
    cx, cy = np.zeros(len(items)), np.zeros(len(items))
    label_x = []
    for g, key in enumerate(keys):
        left = g * (cols + gap)
        for r, i in enumerate(by[key]):
            cx[i], cy[i] = left + r % cols + 0.5, 2 + r // cols + 0.5
        label_x.append(left + cols / 2)
    x, y, side = _to_unit(cx, cy, width, height)
    lx, ly, _scale = _to_unit(np.array(label_x), np.full(len(keys), 1.0), width, height)
    return x, y, _named(lx, ly, [names.get(k, k) for k in keys], [len(by[k]) for k in keys], side,
                        (width * side / 2, height * side / 2))


def country_layout(items, none: str, country_names: dict[str, str]) -> tuple[np.ndarray, np.ndarray, dict]:
    """One square block per country, largest first, packed in rows; (x, y, groups with cell size)."""
    by = _groups_of(items, lambda it: "artworks" if it.kind == "a" else it.country)
    keys = sorted(by, key=lambda k: (k in ("artworks", none), -len(by[k]), k))
    names = {**{k: v for k, v in country_names.items() if k != none}, none: _("No country"), "artworks": _("Artworks")}
    sides = {k: max(1, math.ceil(math.sqrt(len(by[k])))) for k in keys}
    area = sum((s + 1) * (s + 2) for s in sides.values())
    row_width = max(max(sides.values(), default=1), math.ceil(math.sqrt(area * 1.6)))
    cx, cy = np.zeros(len(items)), np.zeros(len(items))
    label_at, x0, top, row_h = [], 0, 0.0, 0
    for k in keys:
        s = sides[k]
        if x0 and x0 + s > row_width:               # next row (rows go downwards: y decreases)
            x0, top, row_h = 0, top - row_h - 2, 0
        for r, i in enumerate(by[k]):
            cx[i], cy[i] = x0 + r % s + 0.5, top - 1 - r // s - 0.5
        label_at.append((x0 + s / 2, top - 0.4))
        x0, row_h = x0 + s + 1, max(row_h, s)
    bottom = top - row_h - 1
    height = -bottom
    x, y, side = _to_unit(cx, cy + height, row_width, height)
    lx, ly, _scale = _to_unit(np.array([p[0] for p in label_at]), np.array([p[1] for p in label_at]) + height,
                         row_width, height)
    return x, y, _named(lx, ly, [names.get(k, k) for k in keys], [len(by[k]) for k in keys], side,
                        (row_width * side / 2, height * side / 2))


def _named(lx, ly, labels: list[str], counts: list[int], side: float, extent: tuple[float, float]) -> dict:
    """Group labels (largest group first), the side of a cell and the half width and height of the layout."""
    order = sorted(range(len(labels)), key=lambda g: (-counts[g], g))   # larger groups win a crowded spot
    qx, qy = quantise(np.asarray(lx)), quantise(np.asarray(ly))
    return {"kind": "groups", "cell": round(side, 6), "extent": [round(extent[0], 6), round(extent[1], 6)], "x": [int(qx[g]) for g in order],
            "y": [int(qy[g]) for g in order], "labels": [labels[g] for g in order],
            "counts": [counts[g] for g in order]}


def alternative_layouts(items, qx: np.ndarray, qy: np.ndarray, none: str, country_names: dict[str, str]
                        ) -> list[tuple[dict, np.ndarray | None]]:
    """Every arrangement offered on the map page: (its description, its quantised x and y stacked, or None
    for the similarity layout, whose coordinates are the points' own)."""
    out = [({"name": "similarity", "title": N_("Similarity"), "file": None,
             "groups": similarity_groups(items, qx, qy, none, country_names)}, None)]
    for name, title, (x, y, groups) in (("year", N_("Year (a timeline)"), timeline_layout(items, none)),
                                        ("country", N_("Country"), country_layout(items, none, country_names))):
        out.append(({"name": name, "title": title, "file": f"layout-{name}.js", "groups": groups},
                    np.stack([quantise(x), quantise(y)])))
    return out
