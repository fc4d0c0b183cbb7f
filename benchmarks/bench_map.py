"""How fast does the map open, with every item drawn as its picture, at 100,000 items (or 1,100,000)?

    python benchmarks/bench_map.py [--items 100000] [--runs 3] [--keep DIR [--reuse]] [--tiles] [--no-browser]

Writes a synthetic map (clustered random coordinates, invented labels and facets,
240 generated thumbnails with painted textures, reused, packed into the atlas
sheets) with the real writer (generator.site.mapdata), next to the real map page,
static files and a one-line home page (the server wants one); serves it on
127.0.0.1 and opens it in headless Chromium, once with WebGL and once with the 2D
canvas (``?draw=2d``). Reported (median of the runs): bytes loaded before the first
frame (page, CSS, scripts, point chunks and the overview atlas: what the browser
fetched up to the moment map.js drew), time to first frame
(``window.SITEGEN_FIRST_FRAME_MS``, from navigation start), one full redraw (waiting
until it is drawn), the time between frames while the view is dragged sideways (30
frames as the browser shows them, at most 60 a second), the same while zooming in
(8 steps of x1.25 at the centre; on a tiled map, how many of those frames lacked a
picture tile yet and drew the enlarged tile from above instead) and one hit test; on a tiled map
also the files, bytes and time to draw the items of a view zoomed in on the largest group, and the frame
time while panning there.
Targets: < 3 MB, < 2 s, 16.7 ms a frame (60 frames a second).
``--keep DIR`` writes the site under ``DIR/site`` and the picture sheets' cache under ``DIR/cache`` and keeps
both: a later run with the same ``DIR`` takes the sheets from that cache (the thumbnails are the same, so are
the sheets' keys); with ``--reuse`` it measures the site already there without writing its data again (its
static files and scripts are copied again from this checkout).
From ``atlas.TILED_FROM`` items on (or ``--tiled-from N``) the map is drawn from picture tiles
(``pipeline/maptiles.py``), whose count and size per level are printed; ``--no-browser`` stops after writing
and timing the files.
The 240 thumbnails are decoded once each per cell size, so the time to make the sheets is that of packing
and encoding them, not of decoding one picture per item.
Headless Chromium here has no graphics card: WebGL runs in SwiftShader, on the
processor, so a real graphics card draws faster than measured.
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


def generic_thumbnails(folder: Path, count: int = 240) -> list[Path]:
    """Pictures that compress like drawings and paintings: smooth colour fields with strokes across them."""
    from PIL import ImageDraw

    rng = np.random.default_rng(1)
    out = []
    for k in range(count):
        field = rng.integers(40, 255, (4, 3, 3), dtype=np.uint8)
        img = Image.fromarray(field).resize((240, 320), Image.Resampling.BICUBIC)
        draw = ImageDraw.Draw(img)
        for _ in range(int(rng.integers(3, 12))):
            pts = [tuple(int(v) for v in rng.integers(0, 320, 2)) for _ in range(4)]
            draw.line(pts, fill=tuple(int(v) for v in rng.integers(0, 255, 3)), width=int(rng.integers(2, 9)))
        path = folder / f"thumb-{k:03d}.webp"
        img.save(path, "WEBP", quality=70)
        out.append(path)
    return out


def decode_once() -> None:
    """The synthetic map reuses 240 thumbnails: each is decoded once per cell size (what is timed is the packing
    and encoding of the sheets, not 100,000 decodings of the same 240 files; a real collection decodes each of
    its thumbnails once)."""
    import functools

    from generator.pipeline import atlas

    if not hasattr(atlas._cell_image, "cache_info"):
        atlas._cell_image = functools.lru_cache(maxsize=4096)(atlas._cell_image)


def copy_static(dest: Path) -> None:
    """The site's static files and joined scripts, as the build writes them."""
    from generator.site.output import asset_dir
    from generator.site.scripts import joined_scripts

    if (dest / "static").exists():
        shutil.rmtree(dest / "static")
    shutil.copytree(asset_dir("static"), dest / "static", ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    for name, text in joined_scripts(asset_dir("static")).items():
        (dest / "static" / name).write_text(text, encoding="utf-8")


def write_site(dest: Path, n: int, cache: Path, tiled_from: int | None = None) -> tuple[float, object]:
    from generator.pipeline.derive import map_stage
    from generator.site.mapdata import write_map_data
    from generator.site.output import template_environment

    copy_static(dest)
    thumbs = generic_thumbnails(Path(tempfile.mkdtemp(prefix="bench-thumbs-")))
    items = synthetic_items(n, thumbs)
    t0 = time.perf_counter()
    extra = {"tiled_from": tiled_from} if tiled_from else {}
    arrangement, sheets = map_stage(items, {}, cache, **extra)   # what the build's derive stage makes
    files = write_map_data(dest, items, arrangement, sheets, method="synthetic")
    elapsed = time.perf_counter() - t0
    # The real map page template, rendered with the same Jinja settings as the site.
    html = template_environment().get_template("map.html").render(
        root="../", site_title="Benchmark", page_path="map/index.html", title="Map", method="synthetic",
        csp="default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'", n_drawings=n - n // 20,
        n_artworks=n // 20, map_facets=files.facets, map_count=files.count, map_layouts=files.layouts,
        layout_sample=0, map_tiled=files.tiled)
    (dest / "map").mkdir(parents=True, exist_ok=True)
    (dest / "map" / "index.html").write_text(html, encoding="utf-8")
    # The server serves built sites only, recognised by their home page.
    (dest / "index.html").write_text('<!doctype html><title>Benchmark</title><a href="map/index.html">Map</a>\n',
                                     encoding="utf-8")
    return elapsed, files


MEASURE = """async () => {
  const first = window.SITEGEN_FIRST_FRAME_MS;
  const nav = performance.getEntriesByType('navigation')[0];
  let bytes = nav.encodedBodySize || nav.transferSize || 0;
  for (const r of performance.getEntriesByType('resource')) {
    if (r.responseEnd <= first) { bytes += r.encodedBodySize || r.transferSize || 0; }
  }
  const size = SITEGEN_MAP_API.pictureSize();
  const draws = [1, 2, 3, 4, 5].map(() => SITEGEN_MAP_API.drawMs());
  const pan = await SITEGEN_MAP_API.panFrames(30);
  const zoom = await SITEGEN_MAP_API.zoomFrames(8);
  const canvas = document.getElementById('map');
  const hits = [1, 2, 3, 4, 5].map(() => SITEGEN_MAP_API.hitMs(canvas.width / 2, canvas.height / 2));
  return {first, bytes, draw: Math.min(...draws), pan, zoom: zoom.frame, zoomBlank: zoom.blank, hit: Math.min(...hits),
          renderer: SITEGEN_MAP_API.renderer(), size};
}"""


DEEP = """async () => {
  // a tiled map, zoomed in on its largest group until the items stand apart (1.5 times the deepest tiles' size)
  const T = SITEGEN_MAP.tiles, g = SITEGEN_MAP.layouts[0].groups, c = document.getElementById('map');
  const deepest = T.tile_px * 2 ** (T.levels - 1), q = SITEGEN_MAP.quant;
  const z = 1.5 * deepest / 2 / (Math.min(c.width, c.height) / 2 * 0.94);
  const t0 = performance.now();
  location.hash = `#x=${g.x[0] / q * 2 - 1}&y=${g.y[0] / q * 2 - 1}&z=${z}`;
  while (SITEGEN_MAP_API.sheetsLoaded() === 0 && performance.now() - t0 < 60000) {
    await new Promise(r => setTimeout(r, 20));
  }
  await new Promise(r => setTimeout(r, 500));   // the other sheets of the view
  const got = performance.getEntriesByType('resource').filter(r => r.startTime >= t0);
  const deepMs = Math.max(...got.map(r => r.responseEnd)) - t0;
  const deepBytes = got.reduce((a, r) => a + (r.encodedBodySize || r.transferSize || 0), 0);
  const deepPan = await SITEGEN_MAP_API.panFrames(30);
  return {deepMs, deepBytes, deepPan, deepFiles: got.length, deepSize: SITEGEN_MAP_API.pictureSize()};
}"""


def measure(browser, url: str, runs: int) -> list[dict]:
    results = []
    for _ in range(runs):
        ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url)
        page.wait_for_selector("#map[data-ready]", timeout=120_000)
        r = page.evaluate(MEASURE)
        if page.evaluate("!!SITEGEN_MAP.tiles"):
            r.update(page.evaluate(DEEP))
        r["visible"] = int(page.locator("#map-count").get_attribute("data-visible"))
        r["errors"] = len(errors)
        results.append(r)
        ctx.close()
    return results


@click.command()
@click.option("--items", default=100_000, show_default=True)
@click.option("--runs", default=3, show_default=True)
@click.option("--keep", type=click.Path(path_type=Path),
              help="Write the synthetic site and the sheets' cache under this folder and keep them.")
@click.option("--reuse", is_flag=True, help="With --keep: measure the site already written there.")
@click.option("--tiled-from", type=int, default=None,
              help="Draw the map from picture tiles from this many items on (the build's threshold otherwise).")
@click.option("--no-browser", is_flag=True, help="Write (and time) the files only.")
def main(items: int, runs: int, keep: Path | None, reuse: bool, tiled_from: int | None, no_browser: bool):
    from playwright.sync_api import sync_playwright

    from generator.publish.web import make_server

    decode_once()
    work = Path(tempfile.mkdtemp(prefix="bench-map-"))
    site = keep / "site" if keep else work / "site"
    cache = keep / "cache" if keep else work / "cache"
    try:
        write_s = again_s = float("nan")
        if reuse and keep and (site / "data/map/meta.js").is_file():
            files = None
            copy_static(site)   # the data as written, the scripts of this checkout
        else:
            if site.exists():
                shutil.rmtree(site)
            write_s, files = write_site(site, items, cache, tiled_from)
            if items <= 200_000:   # beyond, writing twice takes long: the cached time is the first minus the sheets
                again_s, _ = write_site(work / "again", items, cache, tiled_from)
        listed = files.files if files else [str(p.relative_to(site)) for p in (site / "data/map").iterdir()]
        total = sum((site / f).stat().st_size for f in listed)
        atlas = sum((site / "data/map" / f).stat().st_size for f in (site / "data/map").glob("atlas-*.webp"))
        sheets = len(list((site / "data/map").glob("atlas-*.webp")))
        print(f"write map data (first / cached atlases): {write_s:.1f} s / {again_s:.1f} s", flush=True)
        pictures = sorted((site / "data/map").glob("tile-*.webp"))
        if pictures:
            by_level: dict[int, list[int]] = {}
            for path in pictures:
                by_level.setdefault(int(path.name.split("-")[1]), []).append(path.stat().st_size)
            print(f"picture tiles: {len(pictures):,}, " + ", ".join(
                f"level {lv}: {len(v):,} ({sum(v) / 1e6:.2f} MB)" for lv, v in sorted(by_level.items())), flush=True)
        if no_browser:
            return
        overview = sum((site / "data/map" / f).stat().st_size for f in (site / "data/map").glob("atlas-overview-*"))
        server = make_server(site, port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/map/index.html"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"),
                                        args=["--headless=new", "--no-sandbox", "--disable-gpu"])
            by_renderer = {name: measure(browser, url + query, runs) for name, query in (("WebGL", ""),
                                                                                        ("2D canvas", "?draw=2d"))}
            browser.close()
        server.shutdown()
        print(f"Map benchmark: {items:,} items, {runs} runs per renderer in headless Chromium (median)")
        print(f"{'measure':<44}{'WebGL':>14}{'2D canvas':>14}  target")

        def row(name, fmt, key, target=""):
            cells = [fmt(statistics.median(r[key] for r in res)) for res in by_renderer.values()]
            print(f"{name:<44}{cells[0]:>14}{cells[1]:>14}  {target}")
        row("bytes before first frame", lambda v: f"{v / 1e6:.2f} MB", "bytes", "< 3 MB")
        row("time to first frame", lambda v: f"{v:.0f} ms", "first", "< 2000 ms")
        row("picture side at the first frame", lambda v: f"{v:.1f} px", "size")
        row("one full redraw (all pictures)", lambda v: f"{v:.1f} ms", "draw", "< 16 ms")
        row("frame while panning (30 frames shown)", lambda v: f"{v:.1f} ms", "pan", "<= 16.7 ms")
        row("frame while zooming in (x1.25, 8 frames)", lambda v: f"{v:.1f} ms", "zoom", "<= 16.7 ms")
        row("zoom frames drawn from enlarged tiles", lambda v: f"{v:.0f}", "zoomBlank")
        row("one hit test (pointer)", lambda v: f"{v:.2f} ms", "hit")
        if "deepMs" in next(iter(by_renderer.values()))[0]:
            row("zoomed in on a group: files until drawn", lambda v: f"{v:.0f}", "deepFiles")
            row("  their bytes", lambda v: f"{v / 1e6:.2f} MB", "deepBytes")
            row("  time until drawn", lambda v: f"{v:.0f} ms", "deepMs")
            row("  picture side there", lambda v: f"{v:.1f} px", "deepSize")
            row("  frame while panning there", lambda v: f"{v:.1f} ms", "deepPan", "<= 16.7 ms")
        row("points visible", lambda v: f"{v:.0f}", "visible", str(items))
        row("page errors", lambda v: f"{v:.0f}", "errors", "0")
        print(f"{'renderer used':<44}" + "".join(f"{res[0]['renderer']:>14}" for res in by_renderer.values()))
        print(f"map data files (excl. atlases): {(total - atlas) / 1e6:.2f} MB; atlas sheets: {sheets} "
              f"({atlas / 1e6:.1f} MB, of which the overview loaded first: {overview / 1e6:.2f} MB)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
