"""Thumbnail atlases of the map: every item's picture packed into large sheets, at two sizes.

The map draws each item as its picture from the very first frame. One picture file per item would be
100,000 requests, so the thumbnails are packed into sheets (sprite sheets). The map's points come in the
order of its tiles (the leaves of a quadtree over the square of quantised coordinates, see
``ml/maplayouts.py``), so no per-item table is needed to find a picture.

Two levels:

* the **detail** level, 64-pixel cells in sheets 2048 pixels wide: **one sheet per tile**, cell ``i`` of
  the sheet of a tile holding the tile's point ``start + i``. A sheet is loaded when one zooms into its
  tile. It is named after its tile (``atlas-detail-DEPTH-X-Y.webp``) and made from the pictures it holds,
  so adding drawings to one part of the map re-encodes only the sheets of the tiles there; every other
  sheet keeps its name and its bytes;
* the **overview** level, loaded before the first frame: one sheet of at most 4096 x 4096 pixels holds
  every item up to 262,144 items (cell ``i`` of sheet ``s`` is point ``s * per_sheet + i``); its cell
  shrinks with the item count (32 pixels up to 16,384 items, 16 up to 65,536, 8 beyond) because, seen
  whole, a larger map draws each item smaller. It is made by shrinking the detail sheets' cells rather
  than by reading every picture again; each detail sheet's shrunk cells are kept in the cache beside it, so
  when one tile changes the overview costs the decoding of that tile's sheet, not of 100,000 pictures.

Closer still, the map shows each item's own thumbnail (already on the site).

A map of ``TILED_FROM`` items or more has no overview level (it would take several 4096-pixel sheets before
the first frame): it gets picture tiles of the whole map at several zoom levels instead
(``pipeline/maptiles.py``), made from the detail sheets.

Sheets are WebP, written with fixed settings so the same pictures give the same bytes. This build stage
makes them in the build cache, keyed by the pictures they hold (their file names carry a content hash), and
hands the finished files to the pages (:class:`AtlasSheets`), which only copy them into the site.
"""

from __future__ import annotations

import hashlib
import io
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

import numpy as np

from generator.contracts import AtlasSheets, MapTile
from generator.forks import can_fork, in_forks
from generator.fsutil import write_atomic
from generator.pipeline.maptiles import make_pyramid, present_bitmaps
from generator.pipeline.sheetcells import shrunk_cells

ATLAS_VERSION = "atlas-v4"   # v4: detail sheets encoded with WebP method 2 (DETAIL_METHOD)
MAX_SHEET = 4096


@dataclass(frozen=True)
class AtlasLevel:
    """One size of the atlas: square cells of ``cell`` pixels in sheets ``sheet`` pixels wide."""

    name: str
    cell: int
    sheet: int

    @property
    def per_row(self) -> int:
        return self.sheet // self.cell

    @property
    def per_sheet(self) -> int:
        return self.per_row * self.per_row

    def file_name(self, s: int | str) -> str:
        """The overview's sheets are numbered, the detail sheets named after their tile."""
        return f"atlas-{self.name}-{s:03d}.webp" if isinstance(s, int) else f"atlas-{self.name}-{s}.webp"


def overview_cell(n: int) -> int:
    """The overview level's cell size for ``n`` items: all of them fit one 4096 x 4096 sheet up to 262,144.

    >>> [overview_cell(n) for n in (10, 16384, 16385, 65536, 100000)]
    [32, 32, 16, 16, 8]
    """
    for cell in (32, 16):
        if n <= (MAX_SHEET // cell) ** 2:
            return cell
    return 8


def atlas_levels(n: int) -> tuple[AtlasLevel, AtlasLevel]:
    return AtlasLevel("overview", overview_cell(n), MAX_SHEET), AtlasLevel("detail", 64, 2048)


#: The formats a thumbnail is opened as, in this order (see :func:`_cell_image`).
THUMBNAIL_FORMATS = ("WEBP", "JPEG", "PNG")


def _cell_image(path: Path, cell: int) -> Image.Image | None:
    """The thumbnail fitted into a cell; None when it cannot be read (its cell stays empty)."""
    try:
        # The build makes its thumbnails in WebP: that format is tried first, not after every other one (0.12 ms a
        # cell, 0.07 ms so: a sheet holds up to 1,024 cells, and adding drawings makes ten to twenty sheets again).
        with Image.open(path, formats=THUMBNAIL_FORMATS) as img:
            img.draft("RGB", (cell * 2, cell * 2))
            img = img.convert("RGB")
            img.thumbnail((cell, cell), Image.Resampling.LANCZOS)
            return img
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


def _sheet_bytes(part: list[Path | None], level: AtlasLevel, workers: int) -> tuple[bytes, list[int]]:
    per_row, cell = level.per_row, level.cell
    rows = (len(part) + per_row - 1) // per_row
    # A sheet is only as tall as it needs to be; cells stay at the same place.
    sheet = Image.new("RGBA", (level.sheet, max(1, rows) * cell), (0, 0, 0, 0))
    wanted = [i for i, p in enumerate(part) if p is not None]
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            cells = list(pool.map(lambda p: _cell_image(p, cell), [part[i] for i in wanted]))
    else:   # a process making sheets beside others: no threads to hand each cell to
        cells = [_cell_image(part[i], cell) for i in wanted]
    holes = []
    for i, img in zip(wanted, cells):
        if img is None:
            holes.append(i)
            continue
        x0 = (i % per_row) * cell + (cell - img.width) // 2
        y0 = (i // per_row) * cell + (cell - img.height) // 2
        sheet.paste(img, (x0, y0))
    buf = io.BytesIO()
    sheet.save(buf, "WEBP", quality=70, method=DETAIL_METHOD)
    return buf.getvalue(), holes


#: WebP's method for the detail sheets: 2 encodes a sheet in half the time of 4 (0.17 s against 0.31 s for a sheet of
#: 1,024 real pictures; 0.10 against 0.20 s for a benchmark's sheet), 3-4 % larger (346 kB against 334 kB; 259
#: against 251 kB); method 0 is 29 % larger. Adding drawings makes ten to twenty sheets again, a first build hundreds.
DETAIL_METHOD = 2


#: The overview sheet is made again whenever an item is added. WebP's fastest method (0) encodes a full 4096-pixel
#: overview of 100,000 items in 0.5 s instead of 10.5 s at method 4, to the same size (2,535 kB either way; 0.2 dB
#: less faithful); the detail sheets use method 2 (see DETAIL_METHOD).
OVERVIEW_ENCODING = "box-webp-q70-m0"


def _sheet_key(level: AtlasLevel, parts: list[str]) -> str:
    return hashlib.sha256("|".join([ATLAS_VERSION, level.name, str(level.cell), str(level.sheet)] + parts
                                   ).encode()).hexdigest()[:24]


def make_detail(thumbs: list[Path | None], tiles: tuple[MapTile, ...], level: AtlasLevel, cache_dir: Path,
                workers: int = 2) -> tuple[list[tuple[str, Path, str]], int, list[int]]:
    """One sheet of ``level`` per tile, in the cache folder ``cache_dir/atlas``.

    Returns (file name in the site, finished file, key) of each sheet, how many sheets were made now, and
    the positions of the thumbnails that could not be read. A sheet with such a hole is kept under a name
    the next build does not look for, so that build tries again.
    """
    files, failed, todo = [], [], []
    for tile in tiles:
        assert tile.end - tile.start <= level.per_sheet, "a tile holds more points than a sheet"
        part = thumbs[tile.start:tile.end]
        key = _sheet_key(level, [os.path.basename(p) if p else "" for p in part])
        made = Path(cache_dir) / "atlas" / f"{key}.webp"
        if not made.is_file():
            todo.append(len(files))
        files.append((level.file_name(tile.name), made, key))
    parts = [(thumbs[tiles[n].start:tiles[n].end], files[n][1]) for n in todo]
    for n, holes in zip(todo, _make_sheets(parts, level, workers)):
        name, made, key = files[n]
        failed += [tiles[n].start + i for i in holes]
        if holes:
            key += "-incomplete"
            made = _incomplete(made)
        files[n] = (name, made, key)
    return files, len(todo), failed


def _incomplete(made: Path) -> Path:
    """Where a sheet with holes is kept: a name the next build does not look for, so that it tries again."""
    return made.with_name(f"{made.stem}-incomplete.webp")


def _make_sheet(part: list[Path | None], level: AtlasLevel, workers: int, made: Path) -> list[int]:
    """The sheet of ``part`` written to ``made`` (or to its incomplete name); the positions that had no picture."""
    data, holes = _sheet_bytes(part, level, workers)
    write_atomic(_incomplete(made) if holes else made, data)
    return holes


def _make_sheets(parts: list[tuple[list[Path | None], Path]], level: AtlasLevel, workers: int) -> list[list[int]]:
    """:func:`_make_sheet` of each (part, file): side by side in forked processes when there are several (the WebP
    encoder holds Python's lock, so threads encode one sheet at a time; 0.3 s a sheet, ten or so when drawings
    are added, hundreds in a first build), else here; each process writes its sheets. The same bytes either way."""
    if workers < 2 or len(parts) < 2 or not can_fork():
        return [_make_sheet(part, level, workers, made) for part, made in parts]
    done = in_forks(lambda lo, hi: [_make_sheet(part, level, 1, made) for part, made in parts[lo:hi]], len(parts),
                    workers, 1)
    return [holes for chunk in done for holes in chunk]


def _kept_shrunk_cells(path: Path, key: str, count: int, detail: AtlasLevel, cell: int, cache_dir: Path
                       ) -> np.ndarray:
    """:func:`shrunk_cells` of the detail sheet ``path`` (whose key is ``key``), kept in the cache beside it: when
    drawings are added the overview is made again, and only the detail sheets that changed are decoded again
    (decoding all 200 sheets of a 100,000-item map took 5-9 s of every such build)."""
    kept = cache_dir / "atlas" / f"{key}-cells{cell}.npy"
    if not key.endswith("-incomplete"):
        try:
            cells = np.load(kept, allow_pickle=False)
            if cells.shape == (count, cell, cell, 4) and cells.dtype == np.uint8:
                return cells
        except (OSError, ValueError):
            pass   # not made yet, or damaged: made again below
    cells = np.ascontiguousarray(shrunk_cells(path, count, detail.cell, detail.per_row, cell))
    if not key.endswith("-incomplete"):
        buf = io.BytesIO()
        np.save(buf, cells, allow_pickle=False)
        write_atomic(kept, buf.getvalue())
    return cells


def make_overview(detail_files: list[tuple[str, Path, str]], tiles: tuple[MapTile, ...], n: int,
                  level: AtlasLevel, detail: AtlasLevel, cache_dir: Path, workers: int = 2
                  ) -> tuple[list[tuple[str, Path]], int]:
    """The overview sheets, made from the detail sheets (their cells shrunk), keyed by the detail sheets'
    keys; returns (file name in the site, finished file) of each sheet and how many were made now."""
    per_sheet = level.per_sheet
    count = (n + per_sheet - 1) // per_sheet
    key = _sheet_key(level, [OVERVIEW_ENCODING] + [k for _, _, k in detail_files])
    incomplete = any(k.endswith("-incomplete") for _, _, k in detail_files)
    suffix = "-incomplete" if incomplete else ""
    made = [Path(cache_dir) / "atlas" / f"{key}-{s:03d}{suffix}.webp" for s in range(count)]
    files = [(level.file_name(s), m) for s, m in enumerate(made)]
    if all(m.is_file() for m in made) and not incomplete:
        return files, 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        parts = list(pool.map(lambda ft: _kept_shrunk_cells(ft[0][1], ft[0][2], ft[1].end - ft[1].start, detail,
                                                            level.cell, Path(cache_dir)),
                              zip(detail_files, tiles)))
    cells = np.concatenate(parts) if parts else np.zeros((0, level.cell, level.cell, 4), np.uint8)
    assert len(cells) == n
    c, per_row = level.cell, level.per_row
    for s, path in enumerate(made):
        part = cells[s * per_sheet:(s + 1) * per_sheet]
        rows = max(1, (len(part) + per_row - 1) // per_row)
        grid = np.zeros((rows * per_row, c, c, 4), np.uint8)
        grid[:len(part)] = part
        sheet = grid.reshape(rows, per_row, c, c, 4).transpose(0, 2, 1, 3, 4).reshape(rows * c, per_row * c, 4)
        buf = io.BytesIO()
        Image.fromarray(sheet, "RGBA").save(buf, "WEBP", quality=70, method=0)   # see OVERVIEW_ENCODING
        write_atomic(path, buf.getvalue())
    return files, count


#: From this many items on, the map is tiled: no overview sheet (it would need more than one 4096 x 4096 sheet)
#: but picture tiles at several zoom levels (``pipeline/maptiles.py``), and the points load tile by tile.
TILED_FROM = 262_145


def make_atlas(thumbs: list[Path | None], tiles: tuple[MapTile, ...], cache_dir: Path, workers: int = 2,
               qx: np.ndarray | None = None, qy: np.ndarray | None = None, tiled_from: int = TILED_FROM
               ) -> AtlasSheets:
    """Both levels for ``thumbs`` (in the map's point order, cut into ``tiles``): their descriptions for the
    map's metadata, the finished sheets, the number of sheets made now, and the positions whose picture
    could not be read. From ``tiled_from`` items on (with the points' quantised ``qx``, ``qy``), the detail
    level and the map's picture tiles instead."""
    overview, detail = atlas_levels(len(thumbs))
    det_files, det_made, failed = make_detail(thumbs, tiles, detail, cache_dir, workers)
    det_described = {"name": detail.name, "cell": detail.cell, "sheet": detail.sheet, "per_row": detail.per_row,
                     "per_sheet": detail.per_sheet, "files": [name for name, _, _ in det_files],
                     "starts": [t.start for t in tiles]}
    det_pairs = [(name, path) for name, path, _ in det_files]
    if len(thumbs) >= tiled_from and qx is not None and qy is not None:
        pyramid = make_pyramid(qx, qy, thumbs, tiles, [path for _, path, _ in det_files], detail.cell,
                               detail.per_row, cache_dir)
        described_tiles = {"levels": pyramid.levels, "tile_px": pyramid.tile_px, "item_px": pyramid.item_px,
                           "present": present_bitmaps([name for name, _ in pyramid.files], pyramid.levels)}
        return AtlasSheets((det_described,), tuple(det_pairs) + pyramid.files, det_made + pyramid.computed,
                           tuple(sorted(set(failed))), described_tiles)
    ov_files, ov_made = make_overview(det_files, tiles, len(thumbs), overview, detail, cache_dir, workers)
    described = [
        {"name": overview.name, "cell": overview.cell, "sheet": overview.sheet, "per_row": overview.per_row,
         "per_sheet": overview.per_sheet, "files": [name for name, _ in ov_files]},
        det_described,
    ]
    return AtlasSheets(tuple(described), tuple(ov_files + det_pairs), det_made + ov_made, tuple(sorted(set(failed))))
