"""The world map of the countries page: country outlines drawn as inline SVG, shaded by number of drawings.

The outlines come from Natural Earth's 1:50m countries as the npm package
``world-atlas`` 2.0.2 ships them (TopoJSON, vendored unchanged in
``generator/site/data/world/`` with its licence). Each build decodes the shared
border lines ("arcs"), projects them with the Equal Earth projection (a standard
equal-area world projection, so a country's shaded area is true to its size),
simplifies every border line once (so neighbours still meet exactly) and writes
integer coordinates: the same atlas gives the same bytes on every build.

An archive code finds its outline through the country table: code -> ISO alpha-3
(``LBA`` -> ``LBN``) -> ISO numeric (``422``), the atlas's id. The few atlas
outlines without a number (Kosovo, for one) are found by the country's name.
Codes without an outline (former states such as ``YUG``, small territories the
atlas folds into another country) are listed under the map, never dropped.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from generator.errors import InputError
from generator.inputs.countries import CountryTable, iso_numeric
from generator.i18n import collate, country, gettext as _, grouped, ngettext

ATLAS_FILE = "data/world/countries-50m.json"

#: Map width in drawing units: a tenth of a pixel on a 1,000-pixel-wide map, so coordinates are whole numbers.
WIDTH = 10000
#: Largest distance (drawing units) a simplified border line strays from Natural Earth's.
TOLERANCE = 4.0
#: Islands and enclaves smaller than this (square drawing units) are left out, except a country's largest part.
MIN_PART_AREA = 60.0
#: A country with drawings narrower and lower than this (drawing units) also gets a dot, to be seen and clicked.
DOT_BELOW = 70
DOT_RADIUS = 32
#: Shades of the scale (light to dark); the legend and the stylesheet classes s1..s5 follow it.
SHADES = 5

# Equal Earth (Šavrič, Patterson and Jenny, 2018)
_A1, _A2, _A3, _A4 = 1.340264, -0.081106, 0.000893, 0.003796
_M = math.sqrt(3) / 2


def equal_earth(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Equal Earth coordinates (unit sphere, y up) of longitudes and latitudes in degrees.

    >>> x, y = equal_earth(np.array([0.0, 180.0, 0.0]), np.array([0.0, 0.0, 90.0]))
    >>> [round(float(v), 4) for v in x], [round(float(v), 4) for v in y]
    ([0.0, 2.7066, 0.0], [0.0, 0.0, 1.3174])
    """
    lam, phi = np.radians(lon), np.radians(lat)
    theta = np.arcsin(_M * np.sin(phi))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = lam * np.cos(theta) / (_M * (_A1 + 3 * _A2 * t2 + t6 * (7 * _A3 + 9 * _A4 * t2)))
    y = theta * (_A1 + _A2 * t2 + t6 * (_A3 + _A4 * t2))
    return x, y


_X_MAX = float(equal_earth(np.array([180.0]), np.array([0.0]))[0][0])
_Y_MAX = float(equal_earth(np.array([0.0]), np.array([90.0]))[1][0])
_SCALE = WIDTH / (2 * _X_MAX)
HEIGHT = round(2 * _Y_MAX * _SCALE)


def to_map(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Map coordinates (drawing units, y down, origin at the top left) as float rows (x, y).

    >>> to_map(np.array([-180.0, 0.0]), np.array([0.0, 90.0])).round().tolist()
    [[0.0, 2434.0], [5000.0, 0.0]]
    """
    x, y = equal_earth(lon, lat)
    return np.column_stack([(x + _X_MAX) * _SCALE, (_Y_MAX - y) * _SCALE])


def decode_arcs(topology: dict) -> list[np.ndarray]:
    """The border lines of a quantised TopoJSON topology, as (longitude, latitude) rows in degrees.

    Positions are stored as differences from the previous position, in steps of ``transform.scale``.

    >>> topo = {"transform": {"scale": [0.5, 0.25], "translate": [-10, 20]}, "arcs": [[[4, 8], [2, -4], [1, 0]]]}
    >>> decode_arcs(topo)[0].tolist()
    [[-8.0, 22.0], [-7.0, 21.0], [-6.5, 21.0]]
    """
    transform = topology.get("transform")
    out = []
    for arc in topology["arcs"]:
        a = np.asarray(arc, dtype=np.float64).reshape(-1, 2)
        if transform:
            a = np.cumsum(a, axis=0) * np.asarray(transform["scale"]) + np.asarray(transform["translate"])
        out.append(a)
    return out


def simplify(points: np.ndarray, tolerance: float, fixed: np.ndarray | None = None) -> np.ndarray:
    """Which points a Douglas-Peucker simplification keeps (a mask): the ends (shared with neighbours), the
    ``fixed`` ones, and those that stray more than ``tolerance`` from the simplified line.

    A closed line (a whole island) is first split at its point farthest from the start.

    >>> line = np.array([[0, 0], [1, 0.1], [2, 0], [3, 5], [4, 0]], dtype=float)
    >>> simplify(line, 0.5).tolist(), simplify(line, 0.5, np.array([1])).tolist()
    ([True, False, True, True, True], [True, True, True, True, True])
    """
    n = len(points)
    keep = np.zeros(n, dtype=bool)
    keep[[0, -1]] = True
    stack = [(0, n - 1)]
    if n > 2 and np.array_equal(points[0], points[-1]):
        far = int(np.argmax(np.hypot(*(points - points[0]).T)))
        keep[far] = True
        stack = [(0, far), (far, n - 1)]
    if fixed is not None and len(fixed):
        keep[fixed] = True
        marks = np.flatnonzero(keep).tolist()
        stack = list(zip(marks[:-1], marks[1:]))
    while stack:
        i, j = stack.pop()
        if j - i < 2:
            continue
        a, b = points[i], points[j]
        seg = points[i + 1:j] - a
        ab = b - a
        length = math.hypot(*ab)
        dist = np.abs(seg[:, 0] * ab[1] - seg[:, 1] * ab[0]) / length if length else np.hypot(*seg.T)
        k = int(np.argmax(dist))
        if dist[k] > tolerance:
            keep[i + 1 + k] = True
            stack += [(i, i + 1 + k), (i + 1 + k, j)]
    return keep


def _jumps(lon: np.ndarray) -> np.ndarray:
    """Indices of the points after which a line crosses the 180th meridian (longitude jumps by more than 180)."""
    return np.flatnonzero(np.abs(np.diff(lon)) > 180)


def _clip(ring: np.ndarray, limit: float, side: int) -> np.ndarray:
    """The part of a closed ring on one side of a meridian (``side`` 1: east of ``limit``, -1: west)."""
    inside = side * (ring[:, 0] - limit) >= 0
    out = []
    for i in range(len(ring)):
        cur, prev = ring[i], ring[i - 1]
        if inside[i] != inside[i - 1]:
            t = (limit - prev[0]) / (cur[0] - prev[0])
            out.append([limit, prev[1] + t * (cur[1] - prev[1])])
        if inside[i]:
            out.append(cur.tolist())
    return np.asarray(out, dtype=np.float64).reshape(-1, 2)


def cut_at_180(ring: np.ndarray) -> list[np.ndarray]:
    """A ring of (longitude, latitude) cut where it crosses the 180th meridian, as the pieces each side of it.

    A ring that goes round a pole (Antarctica) is closed along the pole's edge of the map.

    >>> pieces = cut_at_180(np.array([[170.0, 0], [-170, 0], [-170, 10], [170, 10], [170, 0]]))
    >>> [p.round(6).tolist() for p in pieces]
    [[[170.0, 0.0], [180.0, 0.0], [180.0, 10.0], [170.0, 10.0], [170.0, 0.0]], [[-180.0, 0.0], [-170.0, 0.0], [-170.0, 10.0], [-180.0, 10.0]]]
    """
    if len(ring) < 2 or not len(_jumps(ring[:, 0])):
        return [ring]
    pts = np.column_stack([np.unwrap(ring[:, 0], period=360.0), ring[:, 1]])
    if abs(pts[-1, 0] - pts[0, 0]) > 180:
        pole = -90.0 if ring[:, 1].mean() < 0 else 90.0
        pts = np.vstack([pts, [[pts[-1, 0], pole], [pts[0, 0], pole], pts[0]]])
    pieces = []
    for k in range(math.floor((pts[:, 0].min() + 180) / 360), math.floor((pts[:, 0].max() + 180) / 360) + 1):
        piece = _clip(_clip(pts - [360.0 * k, 0.0], -180.0, 1), 180.0, -1)
        if len(piece) > 2 and np.ptp(piece[:, 0]) > 0:
            pieces.append(piece)
    return pieces


@dataclass(frozen=True)
class Outline:
    """One country of the atlas, drawn: its atlas id (ISO numeric, or its name when it has none)."""

    key: str
    name: str                           # the atlas's own short name ("Dem. Rep. Congo")
    path: str                           # SVG path data in drawing units
    box: tuple[int, int, int, int]      # x0, y0, x1, y1 of its largest part

    @property
    def small(self) -> bool:
        x0, y0, x1, y1 = self.box
        return x1 - x0 < DOT_BELOW and y1 - y0 < DOT_BELOW

    @property
    def centre(self) -> tuple[int, int]:
        x0, y0, x1, y1 = self.box
        return (x0 + x1) // 2, (y0 + y1) // 2


def _ring(arc_ids: list[int], lines: list[np.ndarray]) -> np.ndarray:
    """One closed ring joined from border lines (a negative id ~i runs line i backwards)."""
    parts = []
    for n, i in enumerate(arc_ids):
        line = lines[i] if i >= 0 else lines[~i][::-1]
        parts.append(line if n == 0 else line[1:])
    return np.concatenate(parts)


def _drawn(ring: np.ndarray) -> list[np.ndarray]:
    """A ring of (longitude, latitude) as whole-number map points, in pieces where it crosses the 180th meridian."""
    out = []
    for piece in cut_at_180(ring):
        points = np.rint(to_map(piece[:, 0], piece[:, 1])).astype(np.int64)
        moved = np.any(points[1:] != points[:-1], axis=1)
        out.append(points[np.concatenate([[True], moved])])
    return out


def _simplified_lines(topology: dict) -> list[np.ndarray]:
    """Every border line simplified once on the map, so neighbours share the same points; points each side
    of a crossing of the 180th meridian stay, for the cut."""
    lines = []
    for line in decode_arcs(topology):
        jumps = _jumps(line[:, 0])
        keep = simplify(to_map(line[:, 0], line[:, 1]), TOLERANCE, np.concatenate([jumps, jumps + 1]))
        lines.append(line[keep])
    return lines


def _area(ring: np.ndarray) -> float:
    x, y = ring[:, 0].astype(np.float64), ring[:, 1].astype(np.float64)
    return abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2


def path_data(rings: list[np.ndarray]) -> str:
    """SVG path data: each ring starts with an absolute move, then relative whole-number steps.

    >>> path_data([np.array([[10, 20], [15, 20], [15, 12], [10, 20]])])
    'M10 20l5 0 0-8z'
    """
    out = []
    for ring in rings:
        if len(ring) > 1 and np.array_equal(ring[0], ring[-1]):
            ring = ring[:-1]
        steps = np.diff(ring, axis=0).tolist()
        text = f"M{ring[0][0]} {ring[0][1]}"
        if steps:
            text += "l" + " ".join(f"{dx} {dy}" for dx, dy in steps).replace(" -", "-")
        out.append(text + "z")
    return "".join(out)


def _polygons(geometry: dict) -> list[list[list[int]]]:
    if geometry.get("type") == "Polygon":
        return [geometry["arcs"]]
    if geometry.get("type") == "MultiPolygon":
        return geometry["arcs"]
    return []


@lru_cache(maxsize=1)
def outlines() -> tuple[Outline, ...]:
    """Every country of the atlas, projected and simplified once per process, sorted by key."""
    try:
        text = resources.files("generator.site").joinpath(ATLAS_FILE).read_text(encoding="utf-8")
        topology = json.loads(text)
    except (OSError, ValueError) as exc:
        raise InputError(f"generator/site/{ATLAS_FILE}: the world map's outlines cannot be read ({exc}). "
                         "Reinstall sitegen; the file comes with it.") from exc
    lines = _simplified_lines(topology)
    rings_of: dict[str, list[np.ndarray]] = {}
    names: dict[str, str] = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        name = geometry.get("properties", {}).get("name", "")
        key = str(geometry.get("id") or name)
        names.setdefault(key, name)   # Australia and its Ashmore and Cartier Islands share one number
        for polygon in _polygons(geometry):
            for ring in polygon:
                rings_of.setdefault(key, []).extend(_drawn(_ring(ring, lines)))
    return tuple(_outline(key, names[key], rings_of[key]) for key in sorted(rings_of))


def _outline(key: str, name: str, rings: list[np.ndarray]) -> Outline:
    areas = [_area(r) for r in rings]
    largest = rings[int(np.argmax(areas))]
    kept = [r for r, a in zip(rings, areas) if a >= MIN_PART_AREA or r is largest]
    lo, hi = largest.min(axis=0), largest.max(axis=0)
    return Outline(key, name, path_data(kept), (int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1])))


def sphere_path(step: float = 2.0) -> str:
    """The outline of the whole globe in the projection (the sea behind the countries)."""
    lat = np.arange(-90.0, 90.0 + step / 2, step)
    east = to_map(np.full_like(lat, 180.0), lat[::-1])
    west = to_map(np.full_like(lat, -180.0), lat)
    return path_data([np.rint(np.concatenate([east, west])).astype(np.int64)])


def outline_key(code: str, countries: CountryTable, by_name: dict[str, str]) -> str | None:
    """The atlas outline of an archive code: through its ISO codes, else (outlines without a number) its name.

    ``by_name`` maps the names of the atlas's outlines that have no number to their keys.

    >>> from generator.inputs.countries import load_countries
    >>> t = load_countries()
    >>> outline_key("LBA", t, {}), outline_key("GER", t, {}), outline_key("YUG", t, {})
    ('422', '276', None)
    >>> outline_key("KOS", t, {"Kosovo": "Kosovo"}), outline_key("XYZ", t, {})
    ('Kosovo', None)
    """
    country = countries.lookup(code)
    if country is None:
        return None
    if country.iso3 and country.iso3 in iso_numeric():
        return iso_numeric()[country.iso3]
    return by_name.get(country.name)


def shade_bounds(totals: list[int], shades: int = SHADES) -> list[int]:
    """The smallest number of drawings of each shade: quantiles of the different totals, so that the shades
    spread over the totals that occur whatever their spread (a few countries often hold most drawings),
    and a country far above the others stands out even when many share a small total.

    >>> shade_bounds([1, 2, 2, 3, 5, 8, 13, 40, 200, 3000])
    [1, 2, 5, 13, 200]
    >>> shade_bounds([7, 7, 7]), shade_bounds([5] * 10 + [1000]), shade_bounds([])
    ([7], [5, 1000], [])
    """
    ranked = sorted(set(totals))
    bounds: list[int] = []
    for i in range(shades):
        if ranked:
            b = ranked[i * len(ranked) // shades]
            if not bounds or b > bounds[-1]:
                bounds.append(b)
    return bounds


def _legend(bounds: list[int], most: int) -> list[dict]:
    out = [{"shade": 0, "label": _("No drawings")}]
    for i, lo in enumerate(bounds):
        hi = bounds[i + 1] - 1 if i + 1 < len(bounds) else most
        words = grouped(lo) if lo == hi else f"{grouped(lo)}–{grouped(hi)}"
        out.append({"shade": i + 1, "label": ngettext("%(count)s drawing", "%(count)s drawings", hi) % {"count": words}})
    return out


def _outline_names(countries: CountryTable) -> dict[str, str]:
    """Outline key -> the country table's name of the ISO code with that number (the atlas abbreviates)."""
    numbers = iso_numeric()
    return {numbers[c.iso3]: country(c.iso3, c.name) for c in countries
            if c.iso3 and c.code == c.iso3 and c.iso3 in numbers}


def world_map(entries: list[dict], countries: CountryTable) -> dict:
    """What the countries page draws: every outline, linked and shaded where the archive has drawings.

    ``entries`` are the collection entries of the countries view (key, label, count, url). Entries
    without an outline come back in ``off_map``; an outline with the drawings of several codes links to
    the largest, and the others come back in ``merged``.
    """
    shapes = outlines()
    by_name = {o.name: o.key for o in shapes if not o.key.isdigit()}
    known = {o.key for o in shapes}
    groups: dict[str, list[dict]] = {}
    off_map = []
    for e in entries:
        key = outline_key(e["key"], countries, by_name)
        if key in known:
            groups.setdefault(key, []).append(e)
        else:
            off_map.append(e)
    totals = {k: sum(e["count"] for e in g) for k, g in groups.items()}
    most = max(totals.values(), default=0)
    bounds = shade_bounds(list(totals.values()))
    names = _outline_names(countries)
    plain, linked, merged = [], [], []
    for o in shapes:
        if o.key not in groups:
            plain.append({"name": names.get(o.key, o.name), "path": o.path})
            continue
        first, *others = sorted(groups[o.key], key=lambda e: (-e["count"], e["label"], e["key"]))
        total = totals[o.key]
        linked.append({"label": ngettext("%(country)s: %(count)s drawing", "%(country)s: %(count)s drawings", total) % {
                           "country": first["label"], "count": grouped(total)},
                       "url": first["url"], "path": o.path,
                       "shade": sum(1 for b in bounds if b <= total),
                       "dot": list(o.centre) if o.small else None})
        merged += [{**e, "shown_as": first["label"]} for e in others]
    return {"view_box": f"-5 -5 {WIDTH + 10} {HEIGHT + 10}", "sphere": sphere_path(),
            "plain": sorted(plain, key=lambda c: collate(c["name"])), "linked": sorted(linked, key=lambda c: collate(c["label"])),
            "dot_radius": DOT_RADIUS, "legend": _legend(bounds, most), "off_map": off_map, "merged": merged}
