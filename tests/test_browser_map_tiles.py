"""A map of several tiles in headless Chromium: zoomed in, each item is drawn from its tile's detail sheet, at its
own cell (the demo's map fits one tile, so this writes a larger synthetic one)."""

from __future__ import annotations

import io
import shutil
import threading

import numpy as np
import pytest
from PIL import Image

pytestmark = [pytest.mark.slow, pytest.mark.browser]

COLOURS = [(220, 40, 40), (40, 170, 60), (40, 70, 220), (240, 200, 30), (160, 50, 200), (30, 200, 210)]


@pytest.fixture(scope="module")
def tiled_map(tmp_path_factory):
    """(base URL, point colours in the page's order, tile count) of a 3,000-item map served on 127.0.0.1."""
    from generator.pipeline.derive import map_stage
    from generator.publish.web import make_server
    from generator.site.mapdata import MapItem, write_map_data
    from generator.site.output import asset_dir, template_environment
    from generator.site.scripts import joined_scripts

    root = tmp_path_factory.mktemp("tiled-map")
    site = root / "site"
    shutil.copytree(asset_dir("static"), site / "static", ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    for name, text in joined_scripts(asset_dir("static")).items():   # as the build joins them
        (site / "static" / name).write_text(text, encoding="utf-8")
    thumbs = []
    for k, rgb in enumerate(COLOURS):
        thumbs.append(root / f"colour-{k}.png")
        Image.new("RGB", (48, 48), rgb).save(thumbs[-1])
    rng = np.random.default_rng(4)
    gx, gy = np.meshgrid(np.linspace(-0.9, 0.9, 60), np.linspace(-0.9, 0.9, 50))
    colour = rng.integers(0, len(COLOURS), gx.size)
    items = [MapItem("d", f"item-{i}", float(x), float(y), f"Item {i}", thumb=thumbs[colour[i]])
             for i, (x, y) in enumerate(zip(gx.ravel(), gy.ravel()))]
    arrangement, sheets = map_stage(items, {}, root / "cache")
    files = write_map_data(site, items, arrangement, sheets, method="synthetic")
    html = template_environment().get_template("map.html").render(
        root="../", site_title="Test", page_path="map/index.html", title="Map", method="synthetic",
        csp="default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'", n_drawings=len(items),
        n_artworks=0, map_facets=files.facets, map_count=files.count, map_layouts=files.layouts,
        layout_sample=0)
    (site / "map").mkdir()
    (site / "map" / "index.html").write_text(html, encoding="utf-8")
    (site / "index.html").write_text('<!doctype html><title>Test</title><a href="map/index.html">Map</a>\n',
                                     encoding="utf-8")
    server = make_server(site, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield (f"http://127.0.0.1:{server.server_address[1]}/", [COLOURS[colour[i]] for i in arrangement.order],
           len(arrangement.tiles))
    server.shutdown()


@pytest.mark.parametrize("query", ["", "?draw=2d"])
def test_zoomed_in_each_item_is_drawn_from_its_tiles_sheet(browser, tiled_map, query):
    base, colours, tiles = tiled_map
    assert tiles >= 4
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # zoomed into a corner where four tiles meet, so that several sheets are needed
    page.goto(base + "map/index.html" + query + "#x=0&y=0&z=6.5")
    page.wait_for_selector("#map[data-ready]", timeout=15_000)
    page.locator("#map").scroll_into_view_if_needed()
    size = page.evaluate("SITEGEN_MAP_API.pictureSize()")
    assert 45 < size < 75, size   # between the overview's cells and each item's own thumbnail: detail sheets
    page.wait_for_function("() => SITEGEN_MAP_API.sheetsLoaded() >= 2", timeout=15_000)
    page.wait_for_timeout(300)
    box = page.locator("#map").bounding_box()
    shot = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB")).astype(int)
    checked = matched = 0
    for i, rgb in enumerate(colours):
        pos = page.evaluate(f"SITEGEN_MAP_API.position({i})") if checked < 40 else None
        if pos is None:
            break
        if not (box["x"] + 40 < pos["x"] < box["x"] + box["width"] - 40 and
                box["y"] + 40 < pos["y"] < box["y"] + box["height"] - 40):
            continue
        checked += 1
        got = shot[int(pos["y"]) - 3:int(pos["y"]) + 4, int(pos["x"]) - 3:int(pos["x"]) + 4].reshape(-1, 3).mean(0)
        matched += int(np.abs(got - np.array(rgb)).max() < 40)
    assert checked >= 20 and matched == checked, (checked, matched)
    assert errors == []
    page.close()
