from pathlib import Path

import numpy as np
from PIL import Image


def write_jpeg(path: Path, size=(64, 64), seed: int = 0, fmt: str = "JPEG", mode: str = "RGB") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(arr).convert(mode).save(path, fmt)
    return path


def neighbour_rows(site: Path) -> list[tuple[str, int, str, float]]:
    """(drawing, rank, artwork, similarity) of the site's neighbours.csv, typed."""
    import csv

    with open(site / "data" / "neighbours.csv", newline="", encoding="utf-8") as f:
        return [(r["drawing"], int(r["rank"]), r["artwork"], float(r["similarity"])) for r in csv.DictReader(f)]
