"""Real headless Chromium on the built demo's countries page: the world map draws every country of the atlas,
links the countries with drawings to their pages, shows them where they are, and passes axe."""

from __future__ import annotations

import posixpath

import numpy as np
import pytest

from generator.site.worldmap import HEIGHT, WIDTH, outlines, to_map

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGE = "countries/index.html"


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture()
def opened(page, site_server):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    response = page.goto(site_server + PAGE)
    assert response.status == 200
    page.wait_for_load_state("load")
    return page, errors


def test_a_path_per_country_and_a_link_per_country_with_drawings(opened, built_demo):
    page, errors = opened
    _, _, out = built_demo
    n_paths = page.locator("svg.world-map path:not(.sphere)").count()
    assert n_paths == len(outlines()) == 240
    links = page.eval_on_selector_all("svg.world-map a", "els => els.map(a => [a.getAttribute('href'), "
                                      "a.getAttribute('aria-label'), a.querySelector('title').textContent])")
    listed = dict(page.eval_on_selector_all("#facet-list a", "els => els.map(a => [a.getAttribute('href'), "
                                            "a.textContent])"))
    # every country of the demo with an outline is linked once; the list links the same pages
    assert len(links) == len({href for href, _, _ in links}) == len(listed) - 1   # all but "Unknown country"
    for href, name, title in links:
        assert href in listed and name == title and name.startswith(listed[href] + ": ")
        assert (out / posixpath.normpath(posixpath.join("countries", href))).is_file(), href
    assert "Lebanon: " in " ".join(name for _, name, _ in links)
    off_map = page.eval_on_selector_all(".off-map a", "els => els.map(a => a.textContent)")
    assert off_map == ["Unknown country"]
    assert errors == []


@pytest.mark.parametrize("code, lon, lat", [("FRA", 2.5, 46.5), ("BRA", -50.0, -10.0), ("LBA", 35.9, 33.85),
                                            ("SGP", 103.82, 1.35)])
def test_a_country_is_drawn_where_it_is_and_leads_to_its_page(opened, code, lon, lat):
    """Hit-testing the rendered map: the point of the screen where the country lies belongs to its link."""
    page, errors = opened
    svg = page.locator("svg.world-map")
    svg.scroll_into_view_if_needed()
    box = svg.bounding_box()   # in the viewport, as elementFromPoint wants
    x, y = to_map(np.array([lon]), np.array([lat]))[0]
    sx = box["x"] + (x + 5) / (WIDTH + 10) * box["width"]
    sy = box["y"] + (y + 5) / (HEIGHT + 10) * box["height"]
    # a small country is found through its dot
    href = page.evaluate("([x, y]) => { const a = document.elementFromPoint(x, y).closest('a');"
                         " return a && a.getAttribute('href'); }", [sx, sy])
    assert href == f"../countries/{code}/index.html"
    # its shade is one of the scale's, visible as a fill colour
    fill = page.evaluate("([x, y]) => getComputedStyle(document.elementFromPoint(x, y)).fill", [sx, sy])
    assert fill not in ("", "none", "rgb(0, 0, 0)", "rgb(228, 224, 217)")
    assert errors == []


def test_map_links_are_reachable_by_keyboard_and_skippable(opened):
    page, _ = opened
    page.keyboard.press("Tab")                      # skip to content
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('world-skip') && "
                         "document.activeElement.getAttribute('href') === '#facet-list'"):
            break
    else:
        pytest.fail("the link that skips the map was not reached")
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('svg.world-map')")


def test_no_serious_accessibility_problems_on_the_countries_page(opened):
    page, _ = opened
    from axe_playwright_python import sync_playwright as axe
    results = axe.Axe().run(page)
    problems = [f"{v['id']} ({v['impact']}): {v['help']}" for v in results.response["violations"]
                if v["impact"] in ("serious", "critical")]
    assert problems == []
