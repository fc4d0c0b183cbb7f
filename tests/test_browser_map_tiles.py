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
    """(base URL, point colours in the page's order, tile count, labels in the page's order, server) of a 3,000-item
    map on 127.0.0.1."""
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
            len(arrangement.tiles), [items[i].label for i in arrangement.order], server)


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


def _new_page(browser):
    """A page of the map's size, and the list its script errors go to."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


@pytest.mark.parametrize("query", ["", "?draw=2d"])
def test_zoomed_in_each_item_is_drawn_from_its_tiles_sheet(browser, tiled_map, query):
    base, colours, tiles, _ = tiled_map
    assert tiles >= 4
    page, errors = _new_page(browser)
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
    base, colours, tiles, labels = pictured_map
    page, errors = _new_page(browser)
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


ZOOM_TO_NEXT_LEVEL = """async () => {
  // zooms in with the + button, letting the tiles fetched ahead arrive between steps, until the next level of
  // tiles is drawn; returns the levels and whether every tile of the view was in at that level's first frame
  const api = SITEGEN_MAP_API, button = document.getElementById('map-zoom-in'), first = api.tiles().level;
  const frame = () => new Promise(r => requestAnimationFrame(() => r()));
  const settled = async () => {
    const t0 = performance.now();
    while (api.tiles().loading > 0 && performance.now() - t0 < 15000) { await new Promise(r => setTimeout(r, 20)); }
  };
  for (let k = 0; k < 6; k++) {
    await settled();
    button.click();
    await frame();   // the frame of the click (drawn before this callback)
    const t = api.tiles();
    if (t.level > first) { return {first, level: t.level, complete: t.complete}; }
  }
  return {first, level: api.tiles().level, complete: false};
}"""


def test_the_next_levels_tiles_are_in_before_the_zoom_reaches_them(browser, pictured_map):
    base, colours, tiles, labels = pictured_map
    page, errors = _new_page(browser)
    page.goto(base + "map/index.html")
    page.wait_for_selector("#map[data-ready]", timeout=15_000)
    got = page.evaluate(ZOOM_TO_NEXT_LEVEL)
    assert got["level"] == got["first"] + 1, got
    # the tiles of the new level were fetched and decoded while the view was still on the level above: the first
    # frame at the new level draws them all, none enlarged from the level above
    assert got["complete"], got
    fetched = page.evaluate("performance.getEntriesByType('resource').map(r => r.name.split('/').pop())")
    assert any(f.startswith(f"tile-{got['level']}-") for f in fetched)
    assert errors == []
    page.close()


def _map_shot(page):
    return np.asarray(Image.open(io.BytesIO(page.locator("#map").screenshot())).convert("RGB")).astype(int)


def test_a_dragged_frame_is_the_frame_drawn_whole_and_its_items_can_be_pointed_at(browser, pictured_map):
    """While the view moves, the last frame is moved and only what it uncovers is drawn: the result must be what
    drawing everything again gives, and the items must still be drawn and found where they are."""
    base, colours, tiles, labels = pictured_map
    page, errors = _new_page(browser)
    page.goto(base + "map/index.html#x=0&y=0&z=23")
    page.wait_for_selector("#map[data-ready]", timeout=15_000)
    page.locator("#map").scroll_into_view_if_needed()
    page.wait_for_function("() => SITEGEN_MAP_API.sheetsLoaded() >= 2", timeout=15_000)
    box = page.locator("#map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    for k in range(1, 13):   # about a third of the canvas, left and up, one frame at a time
        page.mouse.move(cx - 31 * k, cy - 13 * k)
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
    page.mouse.up()
    page.mouse.move(box["x"] + 5, box["y"] + box["height"] - 5)   # out of the way of the items
    # the items uncovered are loaded and drawn; nothing more on its way
    page.wait_for_function("() => SITEGEN_MAP_API.sheetsLoaded() >= 3 && SITEGEN_MAP_API.tiles().loading === 0",
                           timeout=15_000)
    page.wait_for_timeout(500)
    moved = _map_shot(page)
    page.evaluate("SITEGEN_MAP_API.drawMs()")   # everything drawn again
    whole = _map_shot(page)
    differ = (np.abs(moved - whole).max(axis=2) > 8).mean()
    assert differ < 0.0002, differ   # one column of pixels left out at each step would be ten times more
    # every item loaded there shows its own colour where the page says it is
    checked, matched = _colours_at_items(page, colours, 60)
    assert checked >= 6 and matched == checked, (checked, matched)
    loaded = page.evaluate(f"[...Array({len(colours)}).keys()].filter(i => SITEGEN_MAP_API.isLoaded(i)).length")
    assert page.evaluate("SITEGEN_MAP_API.visibleCount()") == loaded   # the items that arrived count, each once
    # pointing at one of the items uncovered by the drag names it
    for i in range(len(colours)):
        pos = page.evaluate(f"SITEGEN_MAP_API.position({i})")
        if page.evaluate(f"SITEGEN_MAP_API.isLoaded({i})") and box["x"] + box["width"] * 0.7 < pos["x"] < box["x"] + \
                box["width"] - 40 and box["y"] + box["height"] * 0.6 < pos["y"] < box["y"] + box["height"] - 40:
            break
    else:
        raise AssertionError("no loaded item in the part uncovered by the drag")
    page.mouse.move(pos["x"], pos["y"])
    page.wait_for_function("label => document.getElementById('map-label').textContent === label", arg=labels[i])
    assert errors == []
    page.close()
