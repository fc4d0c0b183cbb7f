"""How fast does the map open with 100,000 items?

    python benchmarks/bench_map.py [--items 100000] [--runs 3] [--keep DIR]

Writes a synthetic map (clustered random coordinates, invented labels and facets,
a handful of generic thumbnails packed into atlas sheets) with the real writer
(generator.site.mapdata), next to the real map page, static files and a minimal
stand-in for the rest of the site; serves it on 127.0.0.1 and opens it in headless
Chromium. Reported per run: bytes loaded before the first frame (page, CSS,
scripts, point chunks: what the browser fetched up to the moment map.js drew),
time to first frame (``window.SITEGEN_FIRST_FRAME_MS``, from navigation start),
one full redraw and one hit test. Targets: < 3 MB and < 2 s.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import click
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

COUNTRIES = ["FRA", "DEU", "ITA", "ESP", "GBR", "RUS", "POL", "USA", "CAN", "MEX", "BRA", "ARG", "JPN", "CHN",
             "IND", "SGP", "VNM", "KEN", "EGY", "LBA", "ZAF", "TUR", "NOR", "SWE", "FIN", "GRC", "PRT", "IRL",
             "NLD", "BEL", "CHE", "AUT", "CZE", "HUN", "ROU", "BGR", "SRB", "HRV", "UKR", "KAZ"]
AGES = ["3-5", "6-9", "10-13", "14-17", "18-25", "MS"]
ARTISTS = [f"Artist {i}" for i in range(60)]


def synthetic_items(n: int, thumbs: list[Path], seed: int = 0):
    from generator.site.mapdata import NONE_VALUE, MapItem

    rng = np.random.default_rng(seed)
    centres = rng.uniform(-0.8, 0.8, (40, 2))
    which = rng.integers(0, len(centres), n)
    xy = np.clip(centres[which] + rng.normal(0, 0.07, (n, 2)), -1, 1)
    n_art = max(1, n // 20)
    items = []
    for i in range(n):
        x, y = float(xy[i, 0]), float(xy[i, 1])
        if i < n_art:
            artist = ARTISTS[i % len(ARTISTS)]
            items.append(MapItem("a", f"{artist.lower().replace(' ', '_')}_{i}", x, y, f"Artwork {i} ({artist})",
                                 artist=artist, thumb=thumbs[i % len(thumbs)]))
        else:
            country = COUNTRIES[int(rng.integers(0, len(COUNTRIES)))]
            year = str(1990 + int(rng.integers(0, 30)))
            age = AGES[int(rng.integers(0, len(AGES)))]
            items.append(MapItem("d", f"{year}_{age}_{i:06d}_{country}", x, y, f"Drawing {i:06d}, {country}, {year}",
                                 country=country, year=year, age=age,
                                 artist=ARTISTS[i % len(ARTISTS)] if i % 7 == 0 else NONE_VALUE,
                                 thumb=thumbs[i % len(thumbs)]))
    return items


def generic_thumbnails(folder: Path, count: int = 24) -> list[Path]:
    rng = np.random.default_rng(1)
    out = []
    for k in range(count):
        arr = np.zeros((96, 72, 3), np.uint8) + rng.integers(80, 255, 3, dtype=np.uint8)
        arr[rng.integers(0, 60):, :, :] //= 2
        path = folder / f"thumb-{k:02d}.webp"
        Image.fromarray(arr).save(path, "WEBP", quality=70)
        out.append(path)
    return out


def write_site(dest: Path, n: int, cache: Path) -> tuple[float, object]:
    from generator.site.mapdata import write_map_data
    from generator.site.render import asset_dir

    shutil.copytree(asset_dir("static"), dest / "static", ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    thumbs = generic_thumbnails(Path(tempfile.mkdtemp(prefix="bench-thumbs-")))
    items = synthetic_items(n, thumbs)
    t0 = time.perf_counter()
    files = write_map_data(dest, items, method="synthetic", cache_dir=cache)
    elapsed = time.perf_counter() - t0
    # The real map page template, rendered with the same Jinja settings as the site.
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(asset_dir("templates"))), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    html = env.get_template("map.html").render(
        root="../", site_title="Benchmark", page_path="map/index.html", title="Map", method="synthetic",
        csp="default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'", n_drawings=n - n // 20,
        n_artworks=n // 20, map_facets=files.facets, map_count=files.count, map_layouts=files.layouts)
    (dest / "map").mkdir(parents=True, exist_ok=True)
    (dest / "map" / "index.html").write_text(html, encoding="utf-8")
    return elapsed, files


MEASURE = """() => {
  const first = window.SITEGEN_FIRST_FRAME_MS;
  const nav = performance.getEntriesByType('navigation')[0];
  let bytes = nav.encodedBodySize || nav.transferSize || 0;
  for (const r of performance.getEntriesByType('resource')) {
    if (r.responseEnd <= first) { bytes += r.encodedBodySize || r.transferSize || 0; }
  }
  const draws = [1, 2, 3, 4, 5].map(() => SITEGEN_MAP_API.drawMs());
  const canvas = document.getElementById('map');
  const hits = [1, 2, 3, 4, 5].map(() => SITEGEN_MAP_API.hitMs(canvas.width / 2, canvas.height / 2));
  return {first, bytes, draw: Math.min(...draws), hit: Math.min(...hits)};
}"""


@click.command()
@click.option("--items", default=100_000, show_default=True)
@click.option("--runs", default=3, show_default=True)
@click.option("--keep", type=click.Path(path_type=Path), help="Write the synthetic site here and keep it.")
def main(items: int, runs: int, keep: Path | None):
    from playwright.sync_api import sync_playwright

    from generator.publish.web import make_server

    work = Path(tempfile.mkdtemp(prefix="bench-map-"))
    site = keep or work / "site"
    try:
        write_s, files = write_site(site, items, work / "cache")
        again_s, _ = write_site(work / "again", items, work / "cache")
        total = sum((site / f).stat().st_size for f in files.files)
        atlas = sum((site / "data/map" / f).stat().st_size for f in (site / "data/map").glob("atlas-*.webp"))

        server = make_server(site, port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/map/index.html"
        results = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"),
                                        args=["--headless=new", "--no-sandbox", "--disable-gpu"])
            for _ in range(runs):
                ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                page = ctx.new_page()
                errors = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(url)
                page.wait_for_selector("#map[data-ready]", timeout=60_000)
                r = page.evaluate(MEASURE)
                r["visible"] = page.locator("#map-count").get_attribute("data-visible")
                r["errors"] = len(errors)
                results.append(r)
                ctx.close()
            browser.close()
        server.shutdown()
        first = statistics.median(r["first"] for r in results)
        loaded = statistics.median(r["bytes"] for r in results)
        print(f"Map benchmark: {items:,} items, {runs} runs in headless Chromium (median)")
        print(f"{'measure':<42}{'value':>14}  target")
        rows = [
            ("bytes before first frame", f"{loaded / 1e6:.2f} MB", "< 3 MB"),
            ("time to first frame", f"{first:.0f} ms", "< 2000 ms"),
            ("one full redraw (points)", f"{statistics.median(r['draw'] for r in results):.1f} ms", "< 16 ms"),
            ("one hit test (pointer)", f"{statistics.median(r['hit'] for r in results):.2f} ms", ""),
            ("points visible", f"{results[0]['visible']}", str(items)),
            ("page errors", f"{sum(r['errors'] for r in results)}", "0"),
            ("map data files (excl. atlases)", f"{(total - atlas) / 1e6:.2f} MB", ""),
            ("atlas sheets", f"{files.atlas_sheets} ({atlas / 1e6:.1f} MB)", ""),
            ("write map data (first / cached atlases)", f"{write_s:.1f} s / {again_s:.1f} s", ""),
        ]
        for name, value, target in rows:
            print(f"{name:<42}{value:>14}  {target}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
