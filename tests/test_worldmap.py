"""The countries page's world map: TopoJSON decoding, the Equal Earth projection, the outlines, and how the
archive's country codes find them."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from generator.inputs.countries import load_countries
from generator.site import worldmap
from generator.site.worldmap import (HEIGHT, WIDTH, cut_at_180, decode_arcs, equal_earth, outline_key, outlines,
                                     path_data, shade_bounds, to_map, world_map)

REPO = Path(__file__).resolve().parents[1]

#: Codes of the built-in table that have no outline of their own, each for a reason the page states in words.
NOT_ON_THE_MAP = {
    # former states and groupings
    "AHO", "ANT", "CSK", "SCG", "SUN", "TCH", "URS", "YUG",
    # territories Natural Earth draws as part of another country (France, Norway, the Netherlands, the United
    # Kingdom, the United States) or as one "Indian Ocean Territories" shape
    "BES", "BVT", "CCK", "CXR", "GIB", "GLP", "GUF", "MTQ", "MYT", "REU", "SJM", "UMI",
    # islands too small for this scale
    "TKL", "TUV",
}


def _rings(d: str) -> list[np.ndarray]:
    """Read back path data written by path_data: absolute moves, relative whole-number steps."""
    rings = []
    for part in re.findall(r"M[^M]*", d):
        head, _, steps = part.rstrip("z").partition("l")
        x, y = map(int, head[1:].split())
        nums = [int(v) for v in re.findall(r"-?\d+", steps)]
        pts = [(x, y)]
        for dx, dy in zip(nums[0::2], nums[1::2]):
            x, y = x + dx, y + dy
            pts.append((x, y))
        rings.append(np.array(pts, dtype=np.float64))
    return rings


def _inside(point: np.ndarray, d: str) -> bool:
    """Even-odd rule, as the stylesheet fills the outlines."""
    px, py = point
    crossings = 0
    for ring in _rings(d):
        x1, y1 = ring[:, 0], ring[:, 1]
        x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
        spans = (y1 > py) != (y2 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            xs = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
        crossings += int(np.count_nonzero(spans & (xs > px)))
    return crossings % 2 == 1


def _outline(key: str):
    return next(o for o in outlines() if o.key == key)


def _at(lon: float, lat: float) -> np.ndarray:
    return to_map(np.array([lon]), np.array([lat]))[0]


# ---------------------------------------------------------------- decoding and projection

def test_decode_arcs_undoes_the_delta_encoding_and_the_quantisation():
    topo = {"transform": {"scale": [0.1, 0.2], "translate": [-180, -90]},
            "arcs": [[[1800, 450], [10, 0], [0, -5], [-10, 5]], [[0, 0], [1, 1]]]}
    first, second = decode_arcs(topo)
    np.testing.assert_allclose(first, [[0, 0], [1, 0], [1, -1], [0, 0]], atol=1e-9)
    np.testing.assert_allclose(second, [[-180, -90], [-179.9, -89.8]], atol=1e-9)
    # without a transform, positions are absolute
    assert decode_arcs({"arcs": [[[3.5, 4.5], [5, 6]]]})[0].tolist() == [[3.5, 4.5], [5, 6]]


def test_equal_earth_keeps_areas_and_matches_its_published_extent():
    # the published constants of the projection: half-width 2.7066, half-height 1.3174 on a unit sphere
    x, y = equal_earth(np.array([180.0, 0.0]), np.array([0.0, 90.0]))
    assert x[0] == pytest.approx(2.70663, abs=1e-4) and y[1] == pytest.approx(1.31736, abs=1e-4)

    def cell(lat0: float) -> float:   # projected area of a 10 x 10 degree cell, from its fine outline
        t = np.linspace(0, 10, 201)
        lon = np.concatenate([t, np.full(201, 10.0), t[::-1], np.zeros(201)])
        lat = np.concatenate([np.full(201, lat0), lat0 + t, np.full(201, lat0 + 10), lat0 + t[::-1]])
        px, py = equal_earth(lon, lat)
        return abs(np.dot(px, np.roll(py, -1)) - np.dot(py, np.roll(px, -1))) / 2

    # equal area: projected areas are in the ratio of the areas on the globe
    globe = (math.sin(math.radians(10)) - 0) / (math.sin(math.radians(70)) - math.sin(math.radians(60)))
    assert cell(0) / cell(60) == pytest.approx(globe, rel=1e-3)
    # and not plate carree, where they would be equal
    assert cell(0) / cell(60) > 2


def test_map_coordinates_fill_the_drawing_area():
    corners = to_map(np.array([-180.0, 180.0, 0.0, 0.0]), np.array([0.0, 0.0, 90.0, -90.0]))
    assert corners[:, 0].tolist() == pytest.approx([0, WIDTH, WIDTH / 2, WIDTH / 2])
    assert corners[:, 1].tolist() == pytest.approx([HEIGHT / 2, HEIGHT / 2, 0, HEIGHT], abs=0.5)


def test_path_data_round_trips():
    ring = np.array([[10, 20], [15, 20], [15, 12], [3, -4], [10, 20]])
    d = path_data([ring, np.array([[0, 0], [1, 0], [0, 1]])])
    assert d == "M10 20l5 0 0-8-12-16zM0 0l1 0-1 1z"
    assert _rings(d)[0].tolist() == ring[:-1].tolist()


def test_a_ring_across_the_180th_meridian_is_cut_into_two_pieces():
    ring = np.array([[175.0, 60], [-175, 60], [-175, 65], [175, 65], [175, 60]])
    east, west = cut_at_180(ring)
    assert east[:, 0].min() == 175 and east[:, 0].max() == 180
    assert west[:, 0].min() == -180 and west[:, 0].max() == -175
    # a ring round the South Pole is closed along the bottom of the map
    lons = [*range(0, 180, 10), *range(-180, 10, 10)]   # eastwards once round, crossing the meridian once
    pieces = cut_at_180(np.column_stack([lons, np.full(len(lons), -70.0)]).astype(float))
    assert all(p[:, 1].min() == -90 and p[:, 1].max() == -70 for p in pieces)
    assert sorted((p[:, 0].min(), p[:, 0].max()) for p in pieces) == [(-180, 0), (0, 180)]


# ---------------------------------------------------------------- the atlas

def test_the_atlas_is_vendored_with_its_licence_and_source():
    folder = resources.files("generator.site").joinpath("data/world")
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["LICENSE", "README.md", "countries-50m.json"]
    assert "ISC" in folder.joinpath("README.md").read_text(encoding="utf-8")
    assert "Michael Bostock" in folder.joinpath("LICENSE").read_text(encoding="utf-8")
    data = folder.joinpath("countries-50m.json").read_bytes()
    # the file exactly as npm's world-atlas 2.0.2 ships it
    assert hashlib.sha256(data).hexdigest() == "04342cdc1e3016bcd7db1630de95684d67b79fe3c8c460321e87aef469502394"


def test_every_country_of_the_atlas_has_one_outline():
    geometries = json.loads(resources.files("generator.site").joinpath(worldmap.ATLAS_FILE).read_text())[
        "objects"]["countries"]["geometries"]
    keys = {str(g.get("id") or g["properties"]["name"]) for g in geometries}
    shapes = outlines()
    assert len(shapes) == len(keys) == 240   # 241 shapes; Australia's Ashmore and Cartier Islands join it
    assert {o.key for o in shapes} == keys
    assert all(o.path.startswith("M") for o in shapes)


@pytest.mark.parametrize("key, lon, lat", [
    ("250", 2.35, 48.86),      # Paris, France
    ("422", 35.90, 33.85),     # Zahle, Lebanon
    ("036", 149.13, -35.28),   # Canberra, Australia
    ("076", -47.88, -15.79),   # Brasilia, Brazil
    ("840", -149.90, 61.22),   # Anchorage, United States
    ("643", 37.62, 55.76),     # Moscow, Russia
    ("643", 175.0, 66.0),      # Chukotka west of the 180th meridian, Russia
    ("643", -171.0, 66.0),     # Chukotka east of the 180th meridian, still Russia
    ("242", 178.0, -17.8),     # Viti Levu, Fiji
    ("010", 0.0, -85.0),       # Antarctica
])
def test_places_fall_inside_their_country(key, lon, lat):
    assert _inside(_at(lon, lat), _outline(key).path)


def test_places_fall_outside_other_countries():
    assert not _inside(_at(2.35, 48.86), _outline("276").path)     # Paris is not in Germany
    assert not _inside(_at(-30.0, 0.0), _outline("076").path)      # the Atlantic is not Brazil
    assert not _inside(_at(28.2, -29.5), _outline("710").path)     # Lesotho is a hole in South Africa
    assert _inside(_at(28.2, -29.5), _outline("426").path)


def test_no_line_runs_across_the_map():
    """A ring that crossed the 180th meridian uncut would draw a line from one side of the map to the other;
    only Antarctica's edge along the South Pole (the bottom of the map) is that long."""
    for o in outlines():
        for ring in _rings(o.path):
            ring = np.vstack([ring, ring[:1]])
            long = np.abs(np.diff(ring[:, 0])) >= WIDTH / 3
            at_pole = (ring[:-1, 1] == HEIGHT) & (ring[1:, 1] == HEIGHT)
            assert not np.any(long & ~at_pole), o.name


def test_small_countries_are_flagged_for_a_dot():
    small = {o.key for o in outlines() if o.small}
    assert {"702", "048", "470", "422"} <= small             # Singapore, Bahrain, Malta, Lebanon
    assert not {"250", "643", "076"} & small                  # France, Russia, Brazil
    # the dot sits on the country
    x0, y0, x1, y1 = _outline("702").box
    x, y = _at(103.82, 1.35)
    assert x0 - 2 <= x <= x1 + 2 and y0 - 2 <= y <= y1 + 2
    cx, cy = _outline("702").centre
    assert abs(cx - x) < 10 and abs(cy - y) < 10


# ---------------------------------------------------------------- the archive's codes

def test_archive_codes_resolve_to_outlines():
    t = load_countries()
    by_name = {o.name: o.key for o in outlines() if not o.key.isdigit()}
    assert outline_key("LBA", t, by_name) == "422" and _outline("422").name == "Lebanon"
    assert outline_key("lba", t, by_name) == "422"
    assert outline_key("GER", t, by_name) == outline_key("DEU", t, by_name) == "276"
    assert outline_key("SUI", t, by_name) == "756"
    assert outline_key("KOS", t, by_name) == "Kosovo"
    assert outline_key("YUG", t, by_name) is None
    assert outline_key("QQQ", t, by_name) is None


def test_every_code_of_the_table_has_an_outline_or_is_listed_under_the_map():
    t = load_countries()
    by_name = {o.name: o.key for o in outlines() if not o.key.isdigit()}
    keys = {o.key for o in outlines()}
    missing = {c.code for c in t if outline_key(c.code, t, by_name) not in keys}
    assert missing == NOT_ON_THE_MAP
    # and the page names them: every entry without an outline comes back to be listed
    entries = [{"key": code, "label": t.name(code), "count": 1, "url": f"countries/{code}/index.html"}
               for code in sorted(missing)]
    assert [e["key"] for e in world_map(entries, t)["off_map"]] == sorted(missing)


# ---------------------------------------------------------------- the page's map

def _entry(code: str, count: int) -> dict:
    t = load_countries()
    return {"key": code, "label": t.name(code) if code != "unknown" else "Unknown country", "count": count,
            "url": f"countries/{code}/index.html"}


def test_world_map_links_shades_and_lists():
    entries = [_entry(c, n) for c, n in [("FRA", 400), ("LBA", 12), ("GER", 30), ("DEU", 5), ("SGP", 1),
                                         ("YUG", 3), ("unknown", 2), ("ITA", 60), ("JPN", 2)]]
    m = world_map(entries, load_countries())
    linked = {c["url"]: c for c in m["linked"]}
    assert set(linked) == {f"countries/{c}/index.html" for c in ("FRA", "LBA", "GER", "SGP", "ITA", "JPN")}
    assert linked["countries/LBA/index.html"]["label"] == "Lebanon: 12 drawings"
    assert linked["countries/SGP/index.html"]["label"] == "Singapore: 1 drawing"
    # two codes of one country: added together, the link goes to the larger, the other is listed
    assert linked["countries/GER/index.html"]["label"] == "Germany: 35 drawings"
    assert [(e["key"], e["shown_as"]) for e in m["merged"]] == [("DEU", "Germany")]
    assert [e["key"] for e in m["off_map"]] == ["YUG", "unknown"]
    # more drawings, darker shade; every shade in the legend
    order = sorted(linked.values(), key=lambda c: int(c["label"].split(": ")[1].split()[0].replace(",", "")))
    shades = [c["shade"] for c in order]
    assert shades == sorted(shades) and shades[0] == 1 and shades[-1] == len(m["legend"]) - 1
    assert m["legend"][0]["label"] == "No drawings" and m["legend"][-1]["label"].endswith("–400 drawings")
    # small countries with drawings get a dot; large ones do not
    assert linked["countries/SGP/index.html"]["dot"] and linked["countries/LBA/index.html"]["dot"]
    assert linked["countries/FRA/index.html"]["dot"] is None
    # the others are drawn plain, named by the country table
    assert len(m["plain"]) == len(outlines()) - len(linked)
    names = {c["name"] for c in m["plain"]}
    assert "Democratic Republic of the Congo" in names and "Dem. Rep. Congo" not in names
    assert "Kosovo" in names and "Somaliland" in names   # outlines without a number keep the atlas's name


def test_shade_bounds_split_countries_evenly():
    assert shade_bounds(list(range(1, 101))) == [1, 21, 41, 61, 81]
    assert shade_bounds([5] * 10 + [1000]) == [5, 1000]


def test_the_map_is_small_and_the_same_in_every_process():
    code = ("import hashlib, json; from generator.inputs.countries import load_countries; "
            "from generator.site.worldmap import world_map; "
            "e = [{'key': 'LBA', 'label': 'Lebanon', 'count': 3, 'url': 'countries/LBA/index.html'}]; "
            "print(hashlib.sha256(json.dumps(world_map(e, load_countries()), sort_keys=True).encode()).hexdigest())")
    runs = {subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout
            for seed in ("1", "2")}
    assert len(runs) == 1 and len(next(iter(runs)).strip()) == 64
    size = sum(len(o.path) for o in outlines())
    assert 30_000 < size < 120_000
