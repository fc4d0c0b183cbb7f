"""The explorable pages in headless Chromium: map, search and statistics, over HTTP and from file://."""

from __future__ import annotations

import csv
import io
import html
import json
from urllib.parse import urljoin

import pytest
from PIL import Image

from .conftest import CHROMIUM_ARGS
from .helpers import site_drawings, site_layout
from tests import mapformat
from tests.helpers import site_artworks

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.errors = []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    # Nothing may be asked of another host. (wait_for_function gets arrow functions: strings would need eval,
    # which the pages' Content-Security-Policy forbids.)
    pg.on("request", lambda r: pg.errors.append(f"external request {r.url}")
          if not r.url.startswith(("http://127.0.0.1", "file://", "data:")) else None)
    yield pg
    context.close()


def open_map(page, url):
    page.goto(url)
    page.wait_for_selector("#map[data-ready]", timeout=15_000)
    page.locator("#map").scroll_into_view_if_needed()


def test_map_loads_without_errors(page, site_server, built_demo):
    _, report, _ = built_demo
    open_map(page, site_server + "map/index.html")
    n = report.drawings + report.artworks
    assert page.locator("#map-count").get_attribute("data-visible") == str(n)
    assert page.evaluate("typeof window.SITEGEN_FIRST_FRAME_MS") == "number"
    assert page.locator("#map-legend li").count() >= 2
    assert page.errors == []


def _picture_colours(page) -> tuple[int, float]:
    """Distinct colours in the map's pixels and the share of pixels that are not the white background."""
    shot = Image.open(io.BytesIO(page.locator("#map").screenshot())).convert("RGB")
    colours = shot.getcolors(1 << 24)
    painted = sum(count for count, rgb in colours if rgb != (255, 255, 255))
    return len(colours), painted / (shot.width * shot.height)


@pytest.mark.parametrize("renderer, query", [("webgl", ""), ("2d", "?draw=2d")])
def test_the_first_frame_draws_pictures(page, site_server, renderer, query):
    """Read by pixels: plain dots in a dozen colours would give a few dozen colours; pictures give thousands."""
    open_map(page, site_server + "map/index.html" + query)
    assert page.locator("#map").get_attribute("data-renderer") == renderer
    assert page.evaluate("SITEGEN_MAP_API.pictureSize()") >= 16
    colours, painted = _picture_colours(page)
    assert colours > 5000 and painted > 0.03, (colours, painted)
    assert page.errors == []


def test_the_map_draws_pictures_without_webgl(browser_without_webgl, site_server):
    page = browser_without_webgl.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_map(page, site_server + "map/index.html")
    assert page.locator("#map").get_attribute("data-renderer") == "2d"
    colours, painted = _picture_colours(page)
    assert colours > 5000 and painted > 0.03, (colours, painted)
    assert errors == []
    page.close()


@pytest.fixture(scope="module")
def browser_without_webgl(browser, chromium):
    """A second Chromium, started with WebGL switched off, from the same Playwright as ``browser``."""
    b = browser.browser_type.launch(executable_path=chromium, args=CHROMIUM_ARGS + ["--disable-webgl",
                                                                                    "--disable-3d-apis"])
    yield b
    b.close()


def _drag(page, a, b, shift=False):
    if shift:
        page.keyboard.down("Shift")
    page.mouse.move(a[0], a[1])
    page.mouse.down()
    page.mouse.move((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, steps=3)
    page.mouse.move(b[0], b[1], steps=3)
    page.mouse.up()
    if shift:
        page.keyboard.up("Shift")


def _listed_links(page, out, site_server):
    page.wait_for_selector("#map-selection-list[data-complete]")
    hrefs = page.eval_on_selector_all("#map-selection-list a", "els => els.map(a => a.href)")
    for href in hrefs:
        assert href.startswith(site_server) and (out / href[len(site_server):]).is_file(), href
    return hrefs


def test_a_box_selection_lists_the_items_with_links(page, site_server, built_demo):
    _, _, out = built_demo
    open_map(page, site_server + "map/index.html")
    box = page.locator("#map").bounding_box()
    p0 = page.evaluate("SITEGEN_MAP_API.position(0)")
    # Shift + drag around the first item.
    _drag(page, (p0["x"] - 40, p0["y"] - 40), (p0["x"] + 40, p0["y"] + 40), shift=True)
    hrefs = _listed_links(page, out, site_server)
    count = int(page.locator("#map-selection-count").get_attribute("data-count"))
    assert 1 <= count == len(hrefs) or (count > len(hrefs) == 100)
    assert 0 in page.evaluate("SITEGEN_MAP_API.selected()")
    assert page.evaluate("SITEGEN_MAP_API.state()")["x"] == 0  # selecting did not move the map
    # The button switches selection on for a plain drag; the whole canvas selects everything shown.
    page.click("#map-select")
    assert page.get_attribute("#map-select", "aria-pressed") == "true"
    _drag(page, (box["x"] + 2, box["y"] + 2), (box["x"] + box["width"] - 2, box["y"] + box["height"] - 2))
    page.wait_for_function("() => document.getElementById('map-selection-count').getAttribute('data-count') !== '%d'"
                           % count)
    total = int(page.locator("#map-count").get_attribute("data-visible"))
    everything = int(page.locator("#map-selection-count").get_attribute("data-count"))
    assert total - 5 <= everything <= total  # pictures cut by the canvas edge may fall outside
    hrefs = _listed_links(page, out, site_server)
    assert len(hrefs) == min(everything, 100)
    if everything > 100:
        assert f"and {everything - 100} more" in page.text_content("#map-selection-more")
    assert page.errors == []


def test_the_keyboard_lists_what_is_in_view(page, site_server, built_demo):
    _, _, out = built_demo
    open_map(page, site_server + "map/index.html")
    page.focus("#map-select-view")
    page.keyboard.press("Enter")
    assert len(_listed_links(page, out, site_server)) > 0
    from axe_playwright_python import sync_playwright as axe
    page.click("#map-select")
    serious = [f"{v['id']}: {v['help']}" for v in axe.Axe().run(page).response["violations"]
               if v["impact"] in ("serious", "critical")]
    assert serious == []  # with the list of selected items shown and selection mode on
    page.focus("#map-selection-clear")
    page.keyboard.press("Enter")
    assert page.locator("#map-selection").is_hidden()
    assert page.errors == []


def test_the_arrangement_can_be_switched(page, site_server):
    open_map(page, site_server + "map/index.html")
    before = page.evaluate("[0, 1, 2, 3].map(i => SITEGEN_MAP_API.position(i))")
    for name in ("year", "country"):
        page.select_option("#map-layout", name)
        page.wait_for_function(f"() => location.hash.indexOf('layout={name}') >= 0")
        assert page.evaluate("SITEGEN_MAP_API.state()")["layout"] == name
        assert page.evaluate("[0, 1, 2, 3].map(i => SITEGEN_MAP_API.position(i))") != before
        colours, painted = _picture_colours(page)
        assert colours > 5000 and painted > 0.02, (name, colours, painted)
    # The address brings the arrangement back.
    page.reload()
    page.wait_for_selector("#map[data-ready]")
    assert page.input_value("#map-layout") == "country"
    page.select_option("#map-layout", "similarity")
    page.wait_for_function("() => location.hash.indexOf('layout=') < 0")
    assert page.evaluate("[0, 1, 2, 3].map(i => SITEGEN_MAP_API.position(i))") == before
    assert page.errors == []


def test_hover_shows_label_and_click_opens_page(page, site_server, built_demo):
    _, _, out = built_demo
    open_map(page, site_server + "map/index.html")
    pos = page.evaluate("SITEGEN_MAP_API.position(0)")
    page.mouse.move(pos["x"], pos["y"])
    label = page.locator("#map-label")
    label.wait_for(state="visible")
    page.wait_for_function("() => document.getElementById('map-label').textContent.length > 0")
    text, href = label.text_content(), label.get_attribute("data-href")
    assert page.locator("#map-preview").is_visible()
    # The label is the one written for that item in the labels file, or, where the file leaves it out (a
    # drawing named as the archive names its scans), the one its page has, spelt from its id.
    body = (out / "data/map/labels-000.js").read_text()
    labels = json.loads(body[body.index("]=") + 2:].rstrip().rstrip(";"))
    item_id = href.split("/")[-2]
    ids = mapformat.item_ids(out / "data/map")[:len(labels["ids"])]   # an artwork's written after its prefix
    written = labels["labels"][ids.index(item_id)]
    artworks = {a["id"]: a for a in site_artworks(out)}
    if isinstance(written, list):   # an artwork's title: the page adds the artist of its point
        written = f"{written[0]} ({artworks[item_id]['artist']})"
    if written is None:
        h1 = (out / href.split("../", 1)[-1]).read_text(encoding="utf-8").split("<h1>")[1].split("</h1>")[0]
        written = html.unescape(h1)
    assert written == text
    # Every label of that file as the page spells it: an artwork's title and artist (the file holds its title,
    # the artist is the one of its point), a drawing's as its page names it.
    got = page.evaluate("() => SITEGEN_MAP_LABELS[0].ids.map((id, i) => SITEGEN_MAP_API.item(i))")
    got = [(g["id"], g["label"]) for g in got]
    assert [g[0] for g in got] == ids and any(isinstance(w, list) for w in labels["labels"])
    assert any(a != b for a, b in zip(ids, labels["ids"])), "some artworks' ids are written after their prefix"
    for (one, text), stored in zip(got, labels["labels"]):
        if one in artworks:
            assert text == f"{artworks[one]['title']} ({artworks[one]['artist'] or 'Unknown artist'})"
            assert stored == ([artworks[one]["title"]] if artworks[one]["artist"] else text)
        else:
            h1 = (out / "drawings" / one / "index.html").read_text(encoding="utf-8").split("<h1>")[1]
            assert text == html.unescape(h1.split("</h1>")[0]), one
    with page.expect_navigation():
        page.mouse.click(pos["x"], pos["y"])
    assert page.url == urljoin(site_server + "map/index.html", href)
    assert item_id in page.url and (out / page.url[len(site_server):]).is_file()
    assert page.errors == []


def test_filter_changes_what_is_shown(page, site_server, built_demo):
    _, _, out = built_demo
    stats = json.loads((out / "data/stats.json").read_text())
    code, n = stats["countries"][0]["code"], stats["countries"][0]["drawings"]
    open_map(page, site_server + "map/index.html")
    page.select_option("#filter-country", code)
    page.wait_for_function(f"() => document.getElementById('map-count').getAttribute('data-visible') === '{n}'")
    page.select_option("#filter-kind", "a")
    page.wait_for_function("() => document.getElementById('map-count').getAttribute('data-visible') === '0'")
    page.select_option("#filter-country", "")
    n_art = len(site_artworks(out))
    page.wait_for_function(f"() => document.getElementById('map-count').getAttribute('data-visible') === '{n_art}'")
    assert page.errors == []


def test_url_hash_round_trips_the_view(page, site_server, built_demo):
    _, _, out = built_demo
    code = json.loads((out / "data/stats.json").read_text())["countries"][0]["code"]
    open_map(page, site_server + f"map/index.html#x=0.1250&y=-0.2500&z=3.000&color=year&kind=d&country={code}")
    assert page.input_value("#map-color") == "year"
    assert page.input_value("#filter-country") == code
    assert page.input_value("#filter-kind") == "d"
    state = page.evaluate("SITEGEN_MAP_API.state()")
    assert (state["x"], state["y"], state["z"]) == (0.125, -0.25, 3)
    # Changing a control writes the view back into the address...
    page.select_option("#map-color", "age")
    page.wait_for_function("() => location.hash.indexOf('color=age') >= 0")
    page.keyboard.press("Tab")  # controls are reachable by keyboard
    page.focus("#map")
    page.keyboard.press("+")
    page.wait_for_function("() => /z=4\\.500/.test(location.hash)")
    shared = page.url
    # ...and that address opens the same view elsewhere.
    other = page.context.new_page()
    open_map(other, shared)
    assert other.input_value("#map-color") == "age" and other.input_value("#filter-country") == code
    assert other.evaluate("SITEGEN_MAP_API.state()") == page.evaluate("SITEGEN_MAP_API.state()")
    other.close()
    assert page.errors == []


def test_keyboard_pans_the_map(page, site_server):
    open_map(page, site_server + "map/index.html")
    page.focus("#map")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowUp")
    state = page.evaluate("SITEGEN_MAP_API.state()")
    assert state["x"] > 0 and state["y"] > 0


def test_search_finds_an_artwork(page, site_server, demo_dir):
    row = next(csv.DictReader(io.StringIO((demo_dir / "artworks.csv").read_text())))
    page.goto(site_server + "search/index.html")
    page.fill("#search-q", row["title"])
    page.press("#search-q", "Enter")
    link = page.locator("#search-results a", has_text=row["title"]).first
    link.wait_for()
    assert "/artworks/" in link.get_attribute("href")
    # The line under the title is spelt in the browser from the stored artist and date (see search.doc_entry).
    item = page.locator("#search-results li.result-artwork", has_text=row["title"]).first
    assert f"Artwork by {row['artist'] or 'Unknown artist'}" in item.text_content()
    assert "result" in page.locator("#search-status").text_content()
    # The address keeps the query.
    page.goto(site_server + "search/index.html#q=" + row["artist"].split()[0])
    page.locator("#search-results a", has_text=row["title"]).first.wait_for()
    assert page.errors == []


def test_search_finds_a_drawing_by_its_number(page, site_server, built_demo):
    """Most drawings are stored in the index by id alone: the label, detail and page the browser spells from the
    id must be those of the drawing's page."""
    _, _, out = built_demo
    drawing = next(d for d in site_drawings(out) if d["age_group"] and d["country"])
    number = drawing["id"].split("_")[2]
    page.goto(site_server + "search/index.html")
    page.fill("#search-q", number)
    page.press("#search-q", "Enter")
    link = page.locator(f'#search-results a[href$="drawings/{drawing["id"]}/index.html"]')
    link.wait_for()
    title = (out / drawing["page"]).read_text(encoding="utf-8").split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert link.text_content() == title.replace("&#39;", "'")
    assert f"Age group {drawing['age_group']}" in link.locator("xpath=..").text_content()
    link.click()
    page.wait_for_url(f"**/drawings/{drawing['id']}/index.html")
    assert page.errors == []


def test_stats_page_renders_its_charts(page, site_server):
    page.goto(site_server + "stats/index.html")
    charts = page.locator("svg.chart")
    assert charts.count() >= 4
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box and box["width"] > 100 and box["height"] > 20
        assert charts.nth(i).locator("rect").count() >= 1
    assert page.errors == []


def test_map_and_search_work_from_file_urls(page, built_demo, demo_dir):
    _, report, out = built_demo
    open_map(page, (out / "map/index.html").as_uri())
    assert page.locator("#map-count").get_attribute("data-visible") == str(report.drawings + report.artworks)
    pos = page.evaluate("SITEGEN_MAP_API.position(1)")
    page.mouse.move(pos["x"], pos["y"])
    page.wait_for_function("() => document.getElementById('map-label').textContent.length > 0")
    # Zoomed in, thumbnails come from the atlas sheets (images, not fetch: fine from file://).
    x, y = next(iter(site_layout(out).values()))
    open_map(page, (out / "map/index.html").as_uri() + f"#x={x}&y={y}&z=8")
    page.wait_for_function("() => SITEGEN_MAP_API.sheetsLoaded() > 0")
    row = next(csv.DictReader(io.StringIO((demo_dir / "artworks.csv").read_text())))
    page.goto((out / "search/index.html").as_uri() + "#q=" + row["title"].split()[0])
    page.locator("#search-results a", has_text=row["title"]).first.wait_for()
    assert page.errors == []
