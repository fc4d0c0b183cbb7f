"""Headless Chromium: the search box in every page's header, and the drawing page's first screen
(the drawing beside its artwork, a keyboard-operable overlay to compare them) at desktop and phone widths."""

from __future__ import annotations

import csv
import json
import math
import re

import pytest
from tests.helpers import site_artworks, site_drawings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def paths(built_demo):
    """Addresses of the pages checked: a drawing with a confirmed artwork, one without, and the others."""
    _, _, out = built_demo
    drawings = site_drawings(out)
    artworks = site_artworks(out)
    paired = {row[0] for row in json.loads((out / "data/pairs.json").read_text())["rows"]}
    pictured = [d for d in drawings if d["thumbnail"]]
    with_pair = next(d for d in pictured if d["id"] in paired)
    without_pair = next(d for d in pictured if d["id"] not in paired and d["country"])
    return {"home": "index.html", "drawing": with_pair["page"], "drawing-suggested": without_pair["page"],
            "artwork": artworks[0]["page"], "collection": f"countries/{without_pair['country']}/index.html",
            "stats": "stats/index.html", "map": "map/index.html", "search": "search/index.html"}


@pytest.fixture()
def errors():
    return []


def _page(browser, errors, viewport=None):
    context = browser.new_context(viewport=viewport or DESKTOP)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page


def _open(page, url):
    page.goto(url)
    page.wait_for_load_state("load")
    # The pictures have their final size only once loaded.
    page.wait_for_function("Array.from(document.querySelectorAll('.pair img')).every(i => i.complete)")


def test_every_page_has_a_search_box_in_its_header(browser, errors, site_server, paths):
    context, page = _page(browser, errors)
    for name, path in paths.items():
        page.goto(site_server + path)
        box = page.locator("header [role=search]").get_by_role("searchbox", name="Search drawings and artworks")
        assert box.is_visible(), name
    context.close()
    assert errors == []


@pytest.mark.parametrize("start", ["drawing", "artwork"])
def test_a_search_from_the_header_lands_on_results(browser, errors, site_server, paths, demo_dir, start):
    with (demo_dir / "artworks.csv").open(newline="", encoding="utf-8") as f:
        title = next(csv.DictReader(f))["title"]
    context, page = _page(browser, errors)
    page.goto(site_server + paths[start])
    page.fill("#site-search-q", title)
    page.press("#site-search-q", "Enter")
    page.wait_for_url(re.compile(r"/search/index\.html\?q="))
    page.locator("#search-results a", has_text=title).first.wait_for()
    assert page.input_value("#search-q") == title
    context.close()
    assert errors == []


def test_the_header_search_works_from_disk(browser, errors, built_demo, paths):
    _, _, out = built_demo
    context, page = _page(browser, errors)
    page.goto((out / paths["drawing"]).as_uri())
    page.fill("#site-search-q", "France")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"search/index\.html\?q=France$"))
    page.locator("#search-results a").first.wait_for()
    context.close()
    assert errors == []


@pytest.mark.parametrize("which", ["drawing", "drawing-suggested"])
def test_the_artwork_is_fully_visible_at_first_sight_on_a_desktop(browser, errors, site_server, paths, which):
    context, page = _page(browser, errors, DESKTOP)
    _open(page, site_server + paths[which])
    assert page.evaluate("window.scrollY") == 0
    art = page.locator(".pair-artwork img").bounding_box()
    drawing = page.locator(".pair-drawing img").bounding_box()
    assert art["width"] > 150 and art["height"] > 150, art
    assert 0 <= art["x"] and art["x"] + art["width"] <= DESKTOP["width"], art
    assert 0 <= art["y"] and art["y"] + art["height"] <= DESKTOP["height"], art
    # Side by side: the two pictures share the first screen's height.
    assert drawing["y"] + drawing["height"] <= DESKTOP["height"] and drawing["x"] + drawing["width"] <= art["x"]
    caption = page.locator(".pair-artwork figcaption").text_content()
    assert ("Confirmed re-creation of" if which == "drawing" else "Best suggestion") in caption
    assert "similarity" in caption or which == "drawing"
    context.close()
    assert errors == []


def test_the_artwork_is_visible_after_one_screen_on_a_phone(browser, errors, site_server, paths):
    context, page = _page(browser, errors, PHONE)
    _open(page, site_server + paths["drawing"])
    art = page.locator(".pair-artwork img").bounding_box()
    drawing = page.locator(".pair-drawing img").bounding_box()
    assert drawing["y"] + drawing["height"] <= art["y"], "the pictures are stacked"
    assert art["x"] >= 0 and art["x"] + art["width"] <= PHONE["width"], art
    assert art["height"] > 150 and art["y"] + art["height"] <= 2 * PHONE["height"], art
    # Scrolling down by at most one screen brings the whole picture into view.
    scroll = max(0, math.ceil(art["y"] + art["height"] - PHONE["height"]))   # whole pixels: scrollTo rounds
    assert scroll <= PHONE["height"]
    page.evaluate(f"window.scrollTo(0, {scroll})")
    page.wait_for_function(f"Math.abs(window.scrollY - {scroll}) < 1")
    seen = page.locator(".pair-artwork img").bounding_box()
    assert 0 <= seen["y"] and seen["y"] + seen["height"] <= PHONE["height"], seen
    context.close()
    assert errors == []


def test_the_overlay_works_with_the_keyboard(browser, errors, site_server, paths):
    context, page = _page(browser, errors, DESKTOP)
    _open(page, site_server + paths["drawing"])
    toggle = page.locator("#overlay-toggle")
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-pressed") == "true"
    assert page.locator("#overlay-stage").is_visible() and not page.locator("#pair").is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "overlay-mix"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.input_value("#overlay-mix") == "60"
    assert page.evaluate("getComputedStyle(document.querySelector('.overlay-over')).opacity") == "0.6"
    over = page.locator(".overlay-over").bounding_box()
    assert over["y"] + over["height"] <= DESKTOP["height"] + page.evaluate("window.scrollY")
    page.keyboard.press("Home")
    assert page.evaluate("getComputedStyle(document.querySelector('.overlay-over')).opacity") == "0"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")
    assert toggle.get_attribute("aria-pressed") == "false" and page.locator("#pair").is_visible()
    assert page.locator("#overlay-mix").is_disabled()
    context.close()
    assert errors == []


def test_the_artwork_page_shows_its_re_creations_on_the_first_screen(browser, errors, site_server, built_demo):
    _, _, out = built_demo
    artwork = json.loads((out / "data/pairs.json").read_text())["rows"][0][1]
    context, page = _page(browser, errors, DESKTOP)
    page.goto(site_server + f"artworks/{artwork}/index.html")
    page.wait_for_load_state("load")
    first = page.locator(".echoes .cards li").first
    first.locator("img").wait_for()
    box = first.bounding_box()
    assert box["y"] + box["height"] <= DESKTOP["height"], box
    context.close()
    assert errors == []


@pytest.mark.parametrize("which", ["drawing", "artwork", "collection", "home"])
def test_lists_show_a_thumbnail_for_every_item_with_a_picture(browser, errors, site_server, paths, which):
    """The pages carry text links; static/cards.js puts the thumbnails in, and each one must load."""
    context, page = _page(browser, errors, DESKTOP)
    page.goto(site_server + paths[which])
    page.wait_for_load_state("load")
    if which == "drawing":   # drawn by static/related.js from shared data
        page.locator("#related .cards > li img").first.wait_for()
    items = page.locator(".cards > li")
    assert items.count() > 0
    for i in range(items.count()):
        item = items.nth(i)
        name = item.locator("a").text_content()
        if "no-pic" in (item.get_attribute("class") or ""):
            assert item.locator("img").count() == 0, name
            continue
        img = item.locator("img")
        img.scroll_into_view_if_needed()
        img.evaluate("i => i.decode()")
        assert img.evaluate("i => i.naturalWidth") > 0, name
        assert img.get_attribute("alt") == "" and name.strip(), name   # the link's text names the item
    context.close()
    assert errors == []


def test_lists_are_plain_links_without_scripts(browser, site_server, paths):
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    page.goto(site_server + paths["collection"])
    links = page.locator(".cards > li > a")
    assert links.count() > 0 and page.locator(".cards img").count() == 0
    # A drawing page shows the drawing and its artwork; its other lists need the script, and say where they are.
    page.goto(site_server + paths["drawing"])
    assert page.locator(".pair-artwork img").is_visible()
    assert page.locator("header nav a").count() == 1
    page.get_by_role("link", name="data download").click()
    assert page.url.endswith("/data/index.html")
    context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_serious_accessibility_problems_on_the_changed_pages(browser, errors, site_server, paths, viewport):
    from axe_playwright_python import sync_playwright as axe
    context, page = _page(browser, errors, viewport)
    problems = []
    for name in ("home", "drawing", "drawing-suggested", "artwork", "collection", "search", "stats", "map"):
        page.goto(site_server + paths[name])
        page.wait_for_load_state("load")
        checks = [name]
        if name == "drawing":
            checks.append("drawing, overlay shown")
        for check in checks:
            if check.endswith("overlay shown"):
                page.click("#overlay-toggle")
            for v in axe.Axe().run(page).response["violations"]:
                if v["impact"] in ("serious", "critical"):
                    problems.append(f"{check}: {v['id']} ({v['impact']}) on {len(v['nodes'])} element(s): {v['help']}")
    context.close()
    assert problems == [] and errors == []


def test_the_header_shows_results_while_typing(browser, errors, site_server, paths, demo_dir):
    with (demo_dir / "artworks.csv").open(newline="", encoding="utf-8") as f:
        title = next(csv.DictReader(f))["title"]
    context, page = _page(browser, errors)
    page.goto(site_server + paths["drawing"])
    page.locator("#site-search-q").press_sequentially(title[:12])
    link = page.locator("#site-search-live a", has_text=title).first
    link.wait_for()
    assert "result" in page.locator("#site-search-live .site-search-status").text_content()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.closest('#site-search-live') !== null")
    page.keyboard.press("Escape")
    assert not page.locator("#site-search-live").is_visible()
    assert page.evaluate("document.activeElement.id") == "site-search-q"
    page.keyboard.press("ArrowDown")  # closed: the arrow does nothing
    assert page.evaluate("document.activeElement.id") == "site-search-q"
    page.fill("#site-search-q", title)
    link.wait_for()
    link.click()
    page.wait_for_url(re.compile(r"/artworks/[^/]+/index\.html$"))
    page.wait_for_load_state("load")
    context.close()
    assert errors == []
