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
    """(drawing, rank, artwork, similarity) of the site's neighbours.csv.gz, typed."""
    import csv
    import gzip

    with gzip.open(site / "data" / "neighbours.csv.gz", "rt", newline="", encoding="utf-8") as f:
        return [(r["drawing"], int(r["rank"]), r["artwork"], float(r["similarity"])) for r in csv.DictReader(f)]


def site_drawings(site: Path) -> list[dict]:
    """The rows of the site's drawings.csv; empty cells read as None, the year as a number."""
    import csv

    with open(site / "data" / "drawings.csv", newline="", encoding="utf-8") as f:
        rows = [{k: (v if v != "" else None) for k, v in r.items()} for r in csv.DictReader(f)]
    for r in rows:
        r["year"] = int(r["year"]) if r["year"] else None
        # The page and the small picture follow from the id, as the id column's description says.
        r["page"] = f"drawings/{r['id']}/index.html"
        r["thumbnail"] = f"images/drawings/{r['id']}.thumb.webp" if r["image"] else None
    return rows


def site_artworks(site: Path) -> list[dict]:
    """The rows of the site's artworks.csv.gz; empty cells read as None; page and thumbnail added from the id."""
    import csv
    import gzip

    with gzip.open(site / "data" / "artworks.csv.gz", "rt", newline="", encoding="utf-8") as f:
        rows = [{k: (v if v != "" else None) for k, v in r.items()} for r in csv.DictReader(f)]
    for r in rows:
        # The page and the small picture follow from the id, as the id column's description says.
        r["page"] = f"artworks/{r['id']}/index.html"
        r["thumbnail"] = f"images/artworks/{r['id']}.thumb.webp" if r["image"] else None
    return rows


def site_layout(site: Path) -> dict[str, tuple[float, float]]:
    """id -> (x, y) of every drawing and artwork in the site's layout.csv.gz."""
    import csv
    import gzip

    with gzip.open(site / "data" / "layout.csv.gz", "rt", newline="", encoding="utf-8") as f:
        return {r["id"]: (float(r["x"]), float(r["y"])) for r in csv.DictReader(f)}


def related_entry(site: Path, drawing: str) -> dict:
    """What data/related/ lists under a drawing's page: its suggested artworks (ids, in rank order) and its
    similar drawings (ids)."""
    import json
    import re

    from generator.site.related import chunk_of

    def payload(name):
        text = (site / "data" / "related" / f"{name}.js").read_text(encoding="utf-8")
        return json.loads(re.match(r"^\(window\.\w+=window\.\w+\|\|\{\}\)\[[^\]]*\]=(.*);\s*$", text, re.S).group(1))

    meta = payload("meta")
    entry = payload(f"d-{chunk_of(drawing, meta['chunks']):03d}")[drawing]
    per = meta["artwork_chunk"]
    tables: dict[int, list] = {}
    artworks = []
    for j in entry[0]:
        if j // per not in tables:
            tables[j // per] = payload(f"a-{j // per:03d}")
        table = tables[j // per]
        row = table["rows"][j % per]
        artworks.append(table["artists"][row[2]][1] + row[0])
    return {"artworks": artworks, "drawings": entry[2]}


def network_library_loaded_by(code: str) -> bool:
    """Whether running ``code`` in a fresh Python process (as a build's process starts) loads the network library;
    the code's own failures fail the test."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint('torch' in sys.modules)\n"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] in ("True", "False"), out.stdout + out.stderr
    return out.stdout.strip().splitlines()[-1] == "True"


def js_payloads(path: Path) -> dict:
    """The values a data file assigns, by key: ``(window.G=window.G||{})["key"]=VALUE;`` (one a line)."""
    import json
    import re

    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r'^\(window\.\w+=window\.\w+\|\|\{\}\)\[("[^"]*"|\d+)\]=(.*);$', line)
        assert m, line[:80]
        out[json.loads(m.group(1))] = json.loads(m.group(2))
    return out
