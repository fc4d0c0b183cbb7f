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


def _serve_map(root, tiled_from):
    """(base URL, point colours in the page's order, tile count, server) of a 3,000-item map on 127.0.0.1."""
    from generator.pipeline.derive import map_stage
    from generator.publish.web import make_server
    from generator.site.mapdata import MapItem, write_map_data
    from generator.site.output import asset_dir, template_environment
    from generator.site.scripts import joined_scripts

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
    arrangement, sheets = map_stage(items, {}, root / "cache", tiled_from=tiled_from)
    files = write_map_data(site, items, arrangement, sheets, method="synthetic")
    html = template_environment().get_template("map.html").render(
        root="../", site_title="Test", page_path="map/index.html", title="Map", method="synthetic",
        csp="default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'", n_drawings=len(items),
        n_artworks=0, map_facets=files.facets, map_count=files.count, map_layouts=files.layouts,
        layout_sample=0, map_tiled=files.tiled)
    (site / "map").mkdir()
    (site / "map" / "index.html").write_text(html, encoding="utf-8")
    (site / "index.html").write_text('<!doctype html><title>Test</title><a href="map/index.html">Map</a>\n',
                                     encoding="utf-8")
    server = make_server(site, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return (f"http://127.0.0.1:{server.server_address[1]}/", [COLOURS[colour[i]] for i in arrangement.order],
            len(arrangement.tiles), server)


@pytest.fixture(scope="module")
def tiled_map(tmp_path_factory):
    """A map of several tiles, loaded whole (as every map below ``atlas.TILED_FROM`` items)."""
    *got, server = _serve_map(tmp_path_factory.mktemp("map-of-tiles"), tiled_from=10**9)
    yield got
    server.shutdown()


@pytest.fixture(scope="module")
def pictured_map(tmp_path_factory):
    """The same map drawn from picture tiles, as a map of ``atlas.TILED_FROM`` items or more is."""
    *got, server = _serve_map(tmp_path_factory.mktemp("map-of-picture-tiles"), tiled_from=1000)
    yield got
    server.shutdown()


def _colours_at_items(page, colours, limit):
    """(items checked, items whose pixels show their own colour) among the first ``limit`` items well inside the
    canvas."""
    box = page.locator("#map").bounding_box()
    shot = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB")).astype(int)
    checked = matched = 0
    for i, rgb in enumerate(colours):
        if checked >= limit:
            break
        if not page.evaluate(f"SITEGEN_MAP_API.isLoaded({i})"):
            continue
        pos = page.evaluate(f"SITEGEN_MAP_API.position({i})")
        if not (box["x"] + 40 < pos["x"] < box["x"] + box["width"] - 40 and
                box["y"] + 40 < pos["y"] < box["y"] + box["height"] - 40):
            continue
        checked += 1
        got = shot[int(pos["y"]) - 3:int(pos["y"]) + 4, int(pos["x"]) - 3:int(pos["x"]) + 4].reshape(-1, 3).mean(0)
        matched += int(np.abs(got - np.array(rgb)).max() < 40)
    return checked, matched


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
    checked, matched = _colours_at_items(page, colours, 40)
    assert checked >= 20 and matched == checked, (checked, matched)
    assert errors == []
    page.close()


def test_a_large_map_opens_on_picture_tiles_and_loads_the_items_in_view_when_zoomed_in(browser, pictured_map):
    base, colours, tiles = pictured_map
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    missing = []   # this synthetic site has no pages nor thumbnails of its own: only the map's files must be there
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 and "/data/map/" in r.url else None)
    page.goto(base + "map/index.html")
    page.wait_for_selector("#map[data-ready]", timeout=15_000)
    # the first frame: picture tiles only, every item counted, no point loaded
    fetched = page.evaluate("performance.getEntriesByType('resource').map(r => r.name.split('/').pop())")
    assert any(f.startswith("tile-") for f in fetched) and not any(f.startswith("points-") for f in fetched)
    assert page.locator("#map-count").get_attribute("data-visible") == str(len(colours))
    assert "too large to load every item at once" in page.content()
    shot = Image.open(io.BytesIO(page.locator("#map").screenshot())).convert("RGB")
    painted = sum(c for c, rgb in shot.getcolors(1 << 24) if rgb != (255, 255, 255)) / (shot.width * shot.height)
    assert painted > 0.1, painted
    # zoomed in where four tiles meet: their points and sheets are loaded, each item drawn as its picture
    page.goto(base + "map/index.html#x=0&y=0&z=23")
    page.reload()
    page.wait_for_selector("#map[data-ready]", timeout=15_000)
    page.locator("#map").scroll_into_view_if_needed()
    size = page.evaluate("SITEGEN_MAP_API.pictureSize()")
    assert 45 < size < 75, size
    page.wait_for_function("() => SITEGEN_MAP_API.sheetsLoaded() >= 2", timeout=15_000)
    page.wait_for_timeout(300)
    checked, matched = _colours_at_items(page, colours, 40)
    assert checked >= 6 and matched == checked, (checked, matched)
    fetched = page.evaluate("performance.getEntriesByType('resource').map(r => r.name.split('/').pop())")
    assert 2 <= len([f for f in fetched if f.startswith("points-")]) <= tiles
    # pointing at a loaded item names it
    box = page.locator("#map").bounding_box()
    for i in range(len(colours)):
        pos = page.evaluate(f"SITEGEN_MAP_API.position({i})")
        if page.evaluate(f"SITEGEN_MAP_API.isLoaded({i})") and box["x"] + 40 < pos["x"] < box["x"] + box["width"] - 40 \
                and box["y"] + 40 < pos["y"] < box["y"] + box["height"] - 40:
            break
    page.mouse.move(pos["x"], pos["y"])
    page.wait_for_function("() => document.getElementById('map-label').textContent.length > 0")
    assert missing == []
    # inside one tile, only that tile's points are loaded
    page.goto(base + "map/index.html#x=-0.5&y=-0.5&z=23")
    page.reload()
    page.wait_for_selector("#map[data-ready]", timeout=15_000)
    page.wait_for_function("() => SITEGEN_MAP_API.sheetsLoaded() >= 1", timeout=15_000)
    fetched = page.evaluate("performance.getEntriesByType('resource').map(r => r.name.split('/').pop())")
    assert len([f for f in fetched if f.startswith("points-")]) == 1
    assert errors == []
    page.close()
