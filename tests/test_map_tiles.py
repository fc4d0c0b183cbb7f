"""The map's tiles: fixed squares of the quantised map, so that new drawings in one part of the map change only
the picture sheets of that part."""

from __future__ import annotations

import numpy as np
import pytest

from generator.contracts import QUANT
from generator.ml.maplayouts import TILE_POINTS, morton_codes, morton_order, quadtree_tiles
from generator.site import mapdata
from tests.helpers import write_jpeg


def _clustered(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.array([[-0.6, -0.5], [0.5, -0.4], [-0.1, 0.6]])
    return np.clip(centres[rng.integers(0, 3, n)] + rng.normal(0, 0.12, (n, 2)), -1, 1)


def test_tiles_cut_the_order_into_squares_that_hold_their_points():
    qx, qy = (np.round((_clustered(20_000, 1) + 1) / 2 * QUANT).astype(np.uint16)).T
    order = morton_order(qx, qy, [str(i) for i in range(len(qx))])
    qx, qy = qx[order], qy[order]
    tiles = quadtree_tiles(morton_codes(qx, qy))
    assert [t.start for t in tiles] == [0] + [t.end for t in tiles[:-1]] and tiles[-1].end == len(qx)
    assert len({t.name for t in tiles}) == len(tiles)
    for t in tiles:
        assert 0 < t.end - t.start <= TILE_POINTS
        side = 1 << (16 - t.depth)
        assert (qx[t.start:t.end] // side == t.x).all() and (qy[t.start:t.end] // side == t.y).all(), t
    # a square is cut only when it holds too many points: each tile's parent square held more than a tile's worth
    for t in tiles:
        if t.depth:
            side = 1 << (17 - t.depth)
            inside = (qx // side == t.x // 2) & (qy // side == t.y // 2)
            assert inside.sum() > TILE_POINTS, t


def _items(xy: np.ndarray, thumbs: list, prefix: str) -> list[mapdata.MapItem]:
    return [mapdata.MapItem("d", f"{prefix}{i}", float(x), float(y), f"Item {i}", thumb=thumbs[i % len(thumbs)])
            for i, (x, y) in enumerate(xy)]


@pytest.mark.slow
def test_new_points_in_one_part_of_the_map_leave_the_other_sheets_as_they_were(tmp_path, monkeypatch):
    from generator.pipeline import atlas
    from generator.pipeline.derive import map_stage

    thumbs = [write_jpeg(tmp_path / "pictures" / f"p{k}.jpg", (40, 48), seed=k) for k in range(30)]
    old = _items(_clustered(2500, 2), thumbs, "old-")
    rng = np.random.default_rng(5)
    corner = rng.uniform(0.8, 0.95, (60, 2))    # far from every cluster
    new = old + _items(corner, thumbs[::-1], "new-")

    decoded = []
    real_shrunk = atlas.shrunk_cells
    monkeypatch.setattr(atlas, "shrunk_cells", lambda path, *a: decoded.append(path) or real_shrunk(path, *a))

    def build(items, out, cache="cache"):
        arrangement, sheets = map_stage(items, {}, tmp_path / cache)
        files = mapdata.write_map_data(out, items, arrangement, sheets)
        return arrangement, files

    before, first = build(old, tmp_path / "a")
    decoded.clear()
    after, second = build(new, tmp_path / "b")
    assert len(before.tiles) > 3   # the test means something only with several tiles
    # the earlier points keep their quantised position
    pos_before = dict(zip((old[i].id for i in before.order), zip(before.x.tolist(), before.y.tolist())))
    pos_after = dict(zip((new[i].id for i in after.order), zip(after.x.tolist(), after.y.tolist())))
    assert all(pos_after[k] == v for k, v in pos_before.items())
    # every detail sheet of a tile away from the corner keeps its name and its bytes
    lo = int((0.8 + 1) / 2 * QUANT)
    touched = {t.name for t in after.tiles if ((t.x + 1) << (16 - t.depth)) > lo and ((t.y + 1) << (16 - t.depth)) > lo}
    det_a = {f for f in first.files if "atlas-detail-" in f}
    det_b = {f for f in second.files if "atlas-detail-" in f}
    kept = {f for f in det_b if f.removeprefix("data/map/atlas-detail-").removesuffix(".webp") not in touched}
    assert kept and kept <= det_a
    for rel in kept:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    # made again: the corner's new sheet(s) and the overview, nothing else
    assert second.atlas_computed == len(det_b - kept) + 1 and len(det_b - kept) <= 2
    # the overview decoded only the new sheets again (the others' shrunk cells were kept in the cache) ...
    assert len(decoded) == len(det_b - kept)
    # ... and is the one a build from an empty cache makes, even when a kept file is damaged
    overview = sorted(f for f in second.files if "atlas-overview" in f)
    assert overview
    build(new, tmp_path / "c", cache="fresh-cache")
    for rel in overview:
        assert (tmp_path / "b" / rel).read_bytes() == (tmp_path / "c" / rel).read_bytes(), rel
    kept_cells = sorted((tmp_path / "cache" / "atlas").glob("*-cells*.npy"))
    assert kept_cells
    kept_cells[0].write_bytes(b"not an array")
    for made in (tmp_path / "cache" / "atlas").glob("*-000.webp"):   # the overview made again
        made.unlink()
    build(new, tmp_path / "d")
    for rel in overview:
        assert (tmp_path / "b" / rel).read_bytes() == (tmp_path / "d" / rel).read_bytes(), rel


@pytest.mark.slow
def test_map_tiles_draw_each_item_where_it_stands_and_new_items_change_only_their_tiles(tmp_path):
    from PIL import Image

    from generator.pipeline.derive import map_stage
    from generator.pipeline.maptiles import TILE_PX, make_pyramid, tile_name

    colours = [(220, 40, 40), (40, 170, 60), (40, 70, 220)]
    thumbs = []
    for k, rgb in enumerate(colours):
        thumbs.append(tmp_path / f"c{k}.png")
        Image.new("RGB", (48, 48), rgb).save(thumbs[-1])
    xy = _clustered(1500, 3)
    old = [mapdata.MapItem("d", f"i{i}", float(x), float(y), "", thumb=thumbs[i % 3]) for i, (x, y) in enumerate(xy)]
    new = old + [mapdata.MapItem("d", "corner", 0.9, 0.9, "", thumb=thumbs[0])]

    def pyramid(items, cache="cache"):
        arrangement, sheets = map_stage(items, {}, tmp_path / cache)
        detail = sheets.levels[1]
        by_name = dict(sheets.files)
        got = make_pyramid(arrangement.x, arrangement.y, [items[i].thumb for i in arrangement.order],
                           arrangement.tiles, [by_name[f] for f in detail["files"]], detail["cell"],
                           detail["per_row"], tmp_path / cache, depth=4, item_px=12)
        return arrangement, got

    arrangement, first = pyramid(old)
    names = dict(first.files)
    assert tile_name(0, 0, 0) in names and first.levels == 5
    # an item alone in its neighbourhood shows its own colour at its place in the deepest tile
    units, checked = 1 << 12, 0
    for p in range(0, len(old), 97):
        i = arrangement.order[p]
        qx, qy = int(arrangement.x[p]), int(arrangement.y[p])
        tx, ty = qx // units, qy // units
        px = (qx - tx * units) * TILE_PX // units
        py = ((ty + 1) * units - 1 - qy) * TILE_PX // units
        with Image.open(names[tile_name(4, tx, ty)]) as img:
            rgb = np.asarray(img.convert("RGB")).astype(int)
        patch = rgb[max(0, py - 1):py + 2, max(0, px - 1):px + 2].reshape(-1, 3)
        others = np.hypot(arrangement.x.astype(float) - qx, arrangement.y.astype(float) - qy)
        if np.sort(others)[1] > 12 * units / TILE_PX:   # no neighbour's picture over it
            assert np.abs(patch.mean(0) - colours[i % 3]).max() < 45, (p, patch.mean(0))
            checked += 1
    assert checked >= 5
    again = pyramid(old)[1]
    assert again.computed == 0 and again.files == first.files
    # made again from nothing: the same bytes
    afresh = dict(pyramid(old, "other-cache")[1].files)
    assert afresh.keys() == names.keys() and all(afresh[k].read_bytes() == names[k].read_bytes() for k in names)
    # one new item in an empty corner: its deepest tile and one tile on each level above, nothing else
    _, second = pyramid(new)
    changed = {name for name, path in second.files if names.get(name) != path}
    assert second.computed == len(changed) == 5 and tile_name(0, 0, 0) in changed


@pytest.mark.skipif(not __import__("generator.forks").forks.can_fork(), reason="the system cannot fork")
def test_sheets_made_side_by_side_in_forked_processes_are_those_made_one_by_one(tmp_path, monkeypatch):
    from generator.pipeline import atlas
    from generator.pipeline.derive import map_stage

    thumbs = [write_jpeg(tmp_path / "pictures" / f"p{k}.jpg", (40, 48), seed=k) for k in range(12)]
    unreadable = tmp_path / "pictures" / "broken.jpg"
    unreadable.write_bytes(b"not a picture")
    items = _items(_clustered(1500, 4), thumbs + [unreadable], "i-")
    forked = []
    real = atlas.in_forks
    monkeypatch.setattr(atlas, "in_forks", lambda *a: forked.append(a[1]) or real(*a))

    def sheets(workers: int, cache: str):
        _, made = map_stage(items, {}, tmp_path / cache, workers=workers)
        return made, {name: path.read_bytes() for name, path in made.files}

    one, one_bytes = sheets(1, "one")
    assert not forked
    two, two_bytes = sheets(2, "two")
    assert forked and forked[0] > 1, "the sheets were not made side by side"
    assert two_bytes == one_bytes and two.unreadable == one.unreadable and one.unreadable   # the unreadable pictures' places too
    assert [n for n, _ in two.files] == [n for n, _ in one.files]
