"""The cells of a map's detail sheet, shrunk: what the map's overview sheet (``atlas.py``) and its picture tiles
(``maptiles.py``) are both made from, so neither has to decode the items' pictures again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def shrunk_cells(path: Path, count: int, detail_cell: int, per_row: int, cell: int) -> np.ndarray:
    """The first ``count`` cells of a detail sheet (cells of ``detail_cell`` pixels, ``per_row`` a row) shrunk to
    ``cell`` pixels: (count, cell, cell, 4) RGBA. The overview and the map's picture tiles are made from these."""
    with Image.open(path) as img:
        full = img.convert("RGBA")
    size = (full.width * cell // detail_cell, full.height * cell // detail_cell)
    # averaged with premultiplied alpha, so the transparent margins do not darken the pictures' edges
    a = np.asarray(full.convert("RGBa").resize(size, Image.Resampling.BOX).convert("RGBA"))
    rows = a.shape[0] // cell
    a = a[:rows * cell].reshape(rows, cell, per_row, cell, 4).transpose(0, 2, 1, 3, 4)
    return a.reshape(rows * per_row, cell, cell, 4)[:count]
