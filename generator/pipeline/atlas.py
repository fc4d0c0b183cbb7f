"""Thumbnail atlases of the map: every item's picture packed into a few large sheets, at two sizes.

The map draws each item as its picture from the very first frame. One picture file per item would be
100,000 requests, so the thumbnails are packed into sheets (sprite sheets): cell ``i`` of sheet ``s`` of
a level holds the picture of point ``s * per_sheet + i`` in the map's point order, so no per-item
table is needed to find a picture.

Two levels:

* the **overview** level, loaded before the first frame: one sheet of at most 4096 x 4096 pixels
  holds every item up to 262,144 items; its cell shrinks with the item count (32 pixels up to
  16,384 items, 16 up to 65,536, 8 beyond) because, seen whole, a larger map draws each item smaller;
* the **detail** level, 64-pixel cells in 2048 x 2048 sheets, loaded sheet by sheet for the part of
  the map one zooms into. The points are ordered along a Z-order curve, so one sheet covers one
  neighbourhood.

Closer still, the map shows each item's own thumbnail (already on the site).

Sheets are WebP, written with fixed settings so the same pictures give the same bytes. This build stage
makes them in the build cache, keyed by the pictures they hold (their file names carry a content hash), and
hands the finished files to the pages (:class:`AtlasSheets`), which only copy them into the site.
"""

from __future__ import annotations

import hashlib
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from generator.contracts import AtlasSheets
from generator.fsutil import write_atomic

ATLAS_VERSION = "atlas-v2"
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

    def file_name(self, s: int) -> str:
        return f"atlas-{self.name}-{s:03d}.webp"


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


def _cell_image(path: Path, cell: int) -> Image.Image | None:
    """The thumbnail fitted into a cell; None when it cannot be read (its cell stays empty)."""
    try:
        with Image.open(path) as img:
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
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        cells = list(pool.map(lambda p: _cell_image(p, cell), [part[i] for i in wanted]))
    holes = []
    for i, img in zip(wanted, cells):
        if img is None:
            holes.append(i)
            continue
        x0 = (i % per_row) * cell + (cell - img.width) // 2
        y0 = (i // per_row) * cell + (cell - img.height) // 2
        sheet.paste(img, (x0, y0))
    buf = io.BytesIO()
    sheet.save(buf, "WEBP", quality=70, method=4)
    return buf.getvalue(), holes


def make_level(thumbs: list[Path | None], level: AtlasLevel, cache_dir: Path, workers: int = 2
               ) -> tuple[list[tuple[str, Path]], int, list[int]]:
    """Pack ``thumbs`` into the sheets of ``level``, in the cache folder ``cache_dir/atlas``.

    Returns (file name in the site, finished file) of each sheet, how many sheets were made now, and the
    positions of the thumbnails that could not be read. A sheet with such a hole is kept under a name the
    next build does not look for, so that build tries again.
    """
    per_sheet = level.per_sheet
    files, computed, failed = [], 0, []
    for s in range(0, (len(thumbs) + per_sheet - 1) // per_sheet):
        part = thumbs[s * per_sheet:(s + 1) * per_sheet]
        key = hashlib.sha256("|".join([ATLAS_VERSION, str(level.cell), str(level.sheet)] +
                                      [Path(p).name if p else "" for p in part]).encode()).hexdigest()[:24]
        made = Path(cache_dir) / "atlas" / f"{key}.webp"
        if not made.is_file():
            data, holes = _sheet_bytes(part, level, workers)
            computed += 1
            failed += [s * per_sheet + i for i in holes]
            if holes:
                made = made.with_name(f"{key}-incomplete.webp")
            write_atomic(made, data)
        files.append((level.file_name(s), made))
    return files, computed, failed


def make_atlas(thumbs: list[Path | None], cache_dir: Path, workers: int = 2) -> AtlasSheets:
    """Both levels for ``thumbs`` (in the map's point order): their descriptions for the map's metadata, the
    finished sheets, the number of sheets made now, and the positions whose picture could not be read."""
    described, files, computed, failed = [], [], 0, set()
    for level in atlas_levels(len(thumbs)):
        sheets, made, holes = make_level(thumbs, level, cache_dir, workers)
        files += sheets
        computed += made
        failed.update(holes)
        described.append({"name": level.name, "cell": level.cell, "sheet": level.sheet,
                          "per_row": level.per_row, "per_sheet": level.per_sheet,
                          "files": [name for name, _ in sheets]})
    return AtlasSheets(tuple(described), tuple(files), computed, tuple(sorted(failed)))
