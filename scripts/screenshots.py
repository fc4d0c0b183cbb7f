"""Screenshots of the main pages at desktop and phone widths.

    python scripts/screenshots.py SHOTS_DIR [--site SITE_DIR]

Without --site, the demo collection is generated and built in a temporary folder
first (a few minutes the first time). Pages are served from 127.0.0.1 and shot
with Playwright driving Debian's Chromium (apt-get install chromium).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
from pathlib import Path

import click

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def build_demo(work: Path) -> Path:
    from generator.settings import BuildSettings
    from generator.demo.collection import write_demo
    from generator.pipeline.stages import build

    write_demo(work / "demo")
    settings = BuildSettings(drawings=work / "demo" / "drawings", artworks=work / "demo" / "artworks",
                             artworks_csv=work / "demo" / "artworks.csv", pairs=work / "demo" / "pairs.csv",
                             out=work / "site", cache=work / "cache")
    build(settings, echo=lambda s: click.echo(s, err=True))
    return settings.out


#: Shots of what a visitor sees before scrolling; the others show the whole page.
FIRST_SCREEN_ONLY = ("map", "map-zoomed", "drawing-first-screen", "artwork-first-screen")


def pages(site: Path) -> dict[str, str]:
    """Page name -> path: home, map, stats, the countries and their world map, a drawing with a confirmed pair,
    an artwork re-created by drawings."""
    import json

    pairs = json.loads((site / "data" / "pairs.json").read_text())["rows"]
    drawing = pairs[0][0] if pairs else sorted(p.name for p in (site / "drawings").iterdir() if p.is_dir())[0]
    artwork = pairs[0][1] if pairs else sorted(p.name for p in (site / "artworks").iterdir() if p.is_dir())[0]
    import csv
    import gzip

    with gzip.open(site / "data" / "layout.csv.gz", "rt", newline="", encoding="utf-8") as f:
        layout = list(csv.DictReader(f))
    x, y = (float(layout[len(layout) // 2][k]) for k in ("x", "y"))
    return {"home": "index.html", "map": "map/index.html", "map-zoomed": f"map/index.html#x={x}&y={y}&z=8&color=country",
            "stats": "stats/index.html", "countries": "countries/index.html", "search": "search/index.html?q=ada",
            "drawing": f"drawings/{drawing}/index.html", "drawing-first-screen": f"drawings/{drawing}/index.html",
            "artwork": f"artworks/{artwork}/index.html", "artwork-first-screen": f"artworks/{artwork}/index.html"}


@click.command()
@click.argument("shots", type=click.Path(path_type=Path))
@click.option("--site", type=click.Path(path_type=Path, exists=True, file_okay=False), help="A built site folder.")
def main(shots: Path, site: Path | None):
    from playwright.sync_api import sync_playwright

    from generator.publish.web import make_server

    tmp = None
    if site is None:
        tmp = Path(tempfile.mkdtemp(prefix="sitegen-shots-"))
        site = build_demo(tmp)
    shots.mkdir(parents=True, exist_ok=True)

    server = make_server(site, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            for size_name, (w, h) in SIZES.items():
                page = browser.new_page(viewport={"width": w, "height": h})
                for name, path in pages(site).items():
                    page.goto(base + path)
                    if name.startswith("map"):
                        page.wait_for_selector("#map[data-ready]")
                        page.wait_for_timeout(600)  # atlas sheets
                    elif name == "search":
                        page.wait_for_selector("#search-results li")
                    else:
                        page.wait_for_load_state("load")
                    out = shots / f"{name}-{size_name}.png"
                    page.screenshot(path=str(out), full_page=name not in FIRST_SCREEN_ONLY)
                    click.echo(out)
                page.close()
            browser.close()
    finally:
        server.shutdown()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
