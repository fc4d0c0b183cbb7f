"""Real headless Chromium: the main pages load without console errors or requests to other hosts,
and axe-core finds no serious or critical accessibility problem."""

from __future__ import annotations

import json

import pytest
from tests.helpers import site_artworks, site_drawings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = ["index.html", "{drawing}", "{artwork}", "countries/index.html", "{collection}", "map/index.html",
         "years/index.html", "data/index.html", "model/index.html", "groups/index.html", "{group}",
         "series/index.html"]


@pytest.fixture(scope="module")
def page_paths(built_demo):
    _, _, out = built_demo
    drawings = site_drawings(out)
    artworks = site_artworks(out)
    with_country = next(d for d in drawings if d["country"])
    group = sorted((out / "group").glob("*/index.html"))[0]
    return [p.format(drawing=drawings[0]["page"], artwork=artworks[0]["page"],
                     collection=f"countries/{with_country['country']}/index.html",
                     group=group.relative_to(out).as_posix()) for p in PAGES]


@pytest.fixture()
def page(browser):
    context = browser.new_context()
    pg = context.new_page()
    yield pg
    context.close()


def _watch(page, base: str):
    errors, foreign = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith((base, "data:", "file:")) else None)
    return errors, foreign


def test_pages_have_no_console_errors_or_foreign_requests(page, site_server, page_paths):
    errors, foreign = _watch(page, site_server)
    for path in page_paths:
        response = page.goto(site_server + path)
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
    assert errors == [] and foreign == []


def test_pages_work_from_a_subfolder_and_from_disk(page, built_demo, page_paths):
    _, _, out = built_demo
    errors, _ = _watch(page, "file://")
    for path in page_paths[:3]:
        page.goto((out / path).as_uri())
        page.wait_for_load_state("load")
        # Every image on the page loaded (relative links resolve from disk too).
        broken = page.evaluate("Array.from(document.images).filter(i => i.complete && i.naturalWidth === 0)"
                               ".map(i => i.src)")
        assert broken == [], (path, broken)
    assert errors == []


def test_no_serious_accessibility_problems(page, site_server, page_paths):
    from axe_playwright_python import sync_playwright as axe
    problems = []
    for path in page_paths:
        page.goto(site_server + path)
        results = axe.Axe().run(page)
        for v in results.response["violations"]:
            if v["impact"] in ("serious", "critical"):
                problems.append(f"{path}: {v['id']} ({v['impact']}) on {len(v['nodes'])} element(s): {v['help']}")
    assert problems == []
