"""Pictures of the whole map cut into square tiles at several zoom levels, as street maps are served: for a map
far larger than one picture sheet holds (a million items and more), the first view is made of a few tiles
instead of every point and every picture.

Level ``L`` cuts the square of quantised coordinates (0..65535 on each side, see ``contracts.QUANT``) into
``2**L x 2**L`` tiles of ``TILE_PX`` pixels. At the deepest level ``depth`` (:func:`pyramid_depth`) every item is drawn as its own
picture, ``item_px`` pixels wide, centred on its position (an item astride a tile's edge is drawn in each tile
it covers); each level above is its four tiles below shrunk by half, so an item's picture shrinks with the map
as on any map. Items are drawn in the map's point order, so the same map gives the same pixels.

The pictures come from the detail sheets (``pipeline/atlas.py``), their 64-pixel cells shrunk, not from
every thumbnail again. Each tile is made in the build cache and keyed by what it shows: a tile of the
deepest level by the position and the picture of every item it draws, a tile above by the keys of its four
tiles below. New drawings in one part of the map therefore make again only the tiles over them and the
few tiles above those, up to the single tile of level 0.

Tiles are WebP on a white ground (the map's background), written with fixed settings.

The build makes them for maps of ``atlas.TILED_FROM`` items and more (see ``pipeline/atlas.py``); the map
page then draws them until one zooms in to where the items stand apart, and loads the points and detail
sheets of the tiles in view from there on (``static/map/tiles.js``).
"""

from __future__ import annotations

import hashlib
import io
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from generator.contracts import MapTile
from generator.ml.maplayouts import morton_codes
from generator.fsutil import write_atomic
from generator.pipeline.sheetcells import shrunk_cells

TILES_VERSION = "maptiles-v1"
TILE_PX = 256
#: Coordinates are 16-bit: level 8 draws one quantised unit as one pixel.
COORD_BITS = 16
WHITE = (255, 255, 255)


@dataclass(frozen=True)
class TilePyramid:
    """The tiles made for a map: ``files`` are (file name in the site, finished file), deepest level first;
    ``levels`` how many levels there are (0 to ``levels - 1``); ``computed`` how many tiles were made now."""

    files: tuple[tuple[str, Path], ...]
    levels: int
    item_px: int
    computed: int
    tile_px: int = TILE_PX


def tile_name(level: int, x: int, y: int) -> str:
    return f"tile-{level}-{x}-{y}.webp"


def present_bitmaps(names: list[str], levels: int) -> list[str]:
    """Per level, which tiles exist (``tile_name``): bit ``x + y * 2**level`` of a bitmap, in base64.

    >>> present_bitmaps([tile_name(0, 0, 0), tile_name(1, 1, 0), tile_name(1, 0, 1)], 2)
    ['AQ==', 'Bg==']
    """
    import base64

    bits = [np.zeros(max(1, (1 << (2 * level)) // 8), np.uint8) for level in range(levels)]
    for name in names:
        level, x, y = (int(v) for v in name[len("tile-"):-len(".webp")].split("-"))
        k = x + (y << level)
        bits[level][k >> 3] |= 1 << (k & 7)
    return [base64.b64encode(b.tobytes()).decode("ascii") for b in bits]


def _key(parts: list[str]) -> str:
    return hashlib.sha256("|".join([TILES_VERSION] + parts).encode()).hexdigest()[:24]


class _Cells:
    """The detail sheets' cells shrunk to ``px`` pixels, read sheet by sheet and kept for the last few sheets."""

    def __init__(self, sheets: list[Path], tiles: tuple[MapTile, ...], detail_cell: int, per_row: int, px: int,
                 keep: int = 48):
        self.sheets, self.tiles, self.detail_cell, self.per_row, self.px = sheets, tiles, detail_cell, per_row, px
        self.starts = np.array([t.start for t in tiles], np.int64)
        self.kept: OrderedDict[int, np.ndarray] = OrderedDict()
        self.keep = keep

    def _sheet(self, s: int) -> np.ndarray:
        if s in self.kept:
            self.kept.move_to_end(s)
            return self.kept[s]
        tile = self.tiles[s]
        cells = shrunk_cells(self.sheets[s], tile.end - tile.start, self.detail_cell, self.per_row, self.px)
        self.kept[s] = cells
        if len(self.kept) > self.keep:
            self.kept.popitem(last=False)
        return cells

    def cell(self, i: int) -> np.ndarray:
        s = int(np.searchsorted(self.starts, i, side="right")) - 1
        return self._sheet(s)[i - self.tiles[s].start]


def _encode(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "WEBP", quality=70, method=4)
    return buf.getvalue()


def pyramid_depth(n: int) -> int:
    """The deepest level for ``n`` items: where a map as crowded as one spread evenly would have its items
    about four pictures apart.

    >>> [pyramid_depth(n) for n in (3000, 100_000, 1_100_000)]
    [4, 6, 8]
    """
    return int(min(10, max(2, round(np.log2(max(1.0, np.sqrt(n)))) - 2)))


def make_pyramid(qx: np.ndarray, qy: np.ndarray, thumbs: list[Path | None], tiles: tuple[MapTile, ...],
                 detail_sheets: list[Path], detail_cell: int, detail_per_row: int, cache_dir: Path,
                 depth: int | None = None, item_px: int = 16) -> TilePyramid:
    """The tiles of levels 0 to ``depth`` for the points ``qx``, ``qy`` (in the map's order, cut into ``tiles``,
    whose pictures are the cells of ``detail_sheets``), made in ``cache_dir/maptiles``.

    ``thumbs`` name each point's picture (for the keys). An item without a picture is drawn as a grey square.
    """
    folder = Path(cache_dir) / "maptiles"
    n = len(qx)
    depth = pyramid_depth(n) if depth is None else depth
    units = 1 << (COORD_BITS - depth)           # quantised units per tile of the deepest level
    scale = TILE_PX / units                     # pixels per quantised unit there
    half = item_px / 2 / scale                  # half an item, in quantised units
    qx64, qy64 = np.asarray(qx, np.int64), np.asarray(qy, np.int64)
    # every (tile, item) pair where the item's picture covers the tile
    x0 = np.clip(np.floor((qx64 - half) / units), 0, (1 << depth) - 1).astype(np.int64)
    x1 = np.clip(np.floor((qx64 + half) / units), 0, (1 << depth) - 1).astype(np.int64)
    y0 = np.clip(np.floor((qy64 - half) / units), 0, (1 << depth) - 1).astype(np.int64)
    y1 = np.clip(np.floor((qy64 + half) / units), 0, (1 << depth) - 1).astype(np.int64)
    idx = np.arange(n, dtype=np.int64)
    pairs = np.unique(np.concatenate([
        np.stack([tx, ty, idx], 1) for tx in (x0, x1) for ty in (y0, y1)]), axis=0) if n else np.zeros((0, 3), np.int64)
    # tiles in Z order of their place, items in point order inside: the sheets are read with locality
    tile_code = morton_codes(pairs[:, 0], pairs[:, 1])
    order = np.lexsort((pairs[:, 2], tile_code))
    pairs, tile_code = pairs[order], tile_code[order]
    bounds = np.flatnonzero(np.diff(tile_code.astype(np.int64), prepend=-1, append=-1) != 0) if len(pairs) else []
    names = [os.path.basename(p) if p else "" for p in thumbs]
    cells = _Cells(detail_sheets, tiles, detail_cell, detail_per_row, item_px)
    grey = np.full((item_px, item_px, 4), (200, 200, 200, 255), np.uint8)

    keys: dict[tuple[int, int, int], str] = {}
    files: list[tuple[str, Path]] = []
    computed = 0
    for a, b in zip(bounds[:-1], bounds[1:]):
        tx, ty = int(pairs[a, 0]), int(pairs[a, 1])
        members = pairs[a:b, 2]
        key = _key([str(depth), str(item_px)] + [f"{qx[i]},{qy[i]},{names[i]}" for i in members])
        keys[(depth, tx, ty)] = key
        made = folder / f"{key}.webp"
        if not made.is_file():
            img = Image.new("RGB", (TILE_PX, TILE_PX), WHITE)
            for i in members:
                cell = cells.cell(int(i)) if thumbs[i] is not None else grey
                px = int(round((qx64[i] - tx * units) * scale - item_px / 2))
                py = int(round(((ty + 1) * units - 1 - qy64[i]) * scale - item_px / 2))
                pic = Image.fromarray(np.ascontiguousarray(cell), "RGBA")
                img.paste(pic, (px, py), pic)
            write_atomic(made, _encode(img))
            computed += 1
        files.append((tile_name(depth, tx, ty), made))
    # the levels above: four tiles shrunk by half
    for level in range(depth - 1, -1, -1):
        parents: dict[tuple[int, int], list] = {}
        for (lv, x, y), key in keys.items():
            if lv == level + 1:
                parents.setdefault((x // 2, y // 2), []).append((x, y, key))
        for (px_, py_), children in sorted(parents.items()):
            children.sort()
            key = _key([str(level), str(item_px)] + [f"{x}-{y}-{k}" for x, y, k in children])
            keys[(level, px_, py_)] = key
            made = folder / f"{key}.webp"
            if not made.is_file():
                img = Image.new("RGB", (2 * TILE_PX, 2 * TILE_PX), WHITE)
                for x, y, k in children:
                    with Image.open(folder / f"{k}.webp") as child:
                        # rows count downwards in a picture, tiles upwards on the map
                        img.paste(child.convert("RGB"), ((x - 2 * px_) * TILE_PX, (1 - (y - 2 * py_)) * TILE_PX))
                write_atomic(made, _encode(img.reduce(2)))
                computed += 1
            files.append((tile_name(level, px_, py_), made))
    return TilePyramid(tuple(files), depth + 1, item_px, computed)
