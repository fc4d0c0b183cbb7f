"""Review mode in real headless Chromium: confirm and reject suggestions, save decisions.csv, build with it,
and the site shows the result; keys, later elements, reading a file back; no console error, no serious
accessibility problem."""

from __future__ import annotations

import csv

import pytest

from generator.pipeline.stages import build

from .helpers import neighbour_rows, related_entry, site_drawings

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _watch(page):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.fixture(scope="module")
def drawing(built_demo) -> str:
    """A drawing with no confirmed artwork, so that every suggestion on its page can be reviewed."""
    _, _, out = built_demo
    with open(out / "data/pairs.csv", newline="", encoding="utf-8") as f:
        confirmed = {r["drawing"] for r in csv.DictReader(f)}
    return next(d["id"] for d in site_drawings(out) if d["id"] not in confirmed and d["image"])


@pytest.fixture()
def page(browser):
    context = browser.new_context(accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture(scope="module")
def reviewed(browser, site_server, drawing, built_demo, tmp_path_factory):
    """Confirm the second suggestion, reject the third, save decisions.csv; then build with it."""
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    errors = _watch(page)
    page.goto(f"{site_server}drawings/{drawing}/index.html")
    strip = page.locator("ol.strip > li[data-pair]")   # drawn by static/related.js
    strip.first.wait_for()
    # Visitors see one button; the review controls appear once it is pressed.
    assert not strip.first.get_by_role("button", name="Confirm").is_visible()
    page.get_by_role("button", name="Review suggestions").click()
    to_confirm, to_reject = strip.nth(0), strip.nth(1)
    confirmed = to_confirm.get_attribute("data-pair").split()[1]
    rejected = to_reject.get_attribute("data-pair").split()[1]
    to_confirm.get_by_role("button", name="Confirm").click()
    to_reject.get_by_role("button", name="Reject").click()
    counts = page.locator(".review-count").inner_text()
    with page.expect_download() as download:
        page.get_by_role("button", name="Save decisions.csv").click()
    work = tmp_path_factory.mktemp("reviewed")
    exported = work / "decisions.csv"
    download.value.save_as(exported)
    from axe_playwright_python import sync_playwright as axe
    violations = [f"{v['id']} ({v['impact']}): {v['help']}" for v in axe.Axe().run(page).response["violations"]
                  if v["impact"] in ("serious", "critical")]
    context.close()
    settings, _, _ = built_demo
    rebuilt = settings.replace(out=work / "site", decisions=(exported,))
    report = build(rebuilt)
    return {"confirmed": confirmed, "rejected": rejected, "counts": counts, "file": exported, "errors": errors,
            "violations": violations, "out": rebuilt.out, "report": report, "name": download.value.suggested_filename}


def test_review_saves_a_decisions_file(reviewed, drawing):
    assert reviewed["counts"] == "1 confirmed, 1 rejected in this browser"
    assert reviewed["name"] == "decisions.csv"
    rows = sorted(csv.DictReader(reviewed["file"].open(newline="", encoding="utf-8")), key=lambda r: r["artwork"])
    assert rows == sorted([{"drawing": drawing, "artwork": reviewed["confirmed"], "decision": "confirmed", "note": ""},
                           {"drawing": drawing, "artwork": reviewed["rejected"], "decision": "rejected", "note": ""}],
                          key=lambda r: r["artwork"])
    assert reviewed["errors"] == []
    assert reviewed["violations"] == []


def test_the_next_build_shows_the_decisions(reviewed, drawing):
    out, a_ok, a_no = reviewed["out"], reviewed["confirmed"], reviewed["rejected"]
    assert [p for p in reviewed["report"].problems if p.kind == "decision"] == []
    page = (out / "drawings" / drawing / "index.html").read_text()
    # The confirmed artwork is now the one shown beside the drawing, as confirmed.
    assert "<strong>Confirmed re-creation of</strong>" in page and f"artworks/{a_ok}/index.html" in page
    assert f"artworks/{a_no}/index.html" not in page, "the rejected artwork is no longer suggested"
    listed = related_entry(out, drawing)["artworks"]
    assert a_no not in listed and a_ok in listed and len(listed) == 10, "nor in the list under the page"
    assert f'data-pair="{drawing} {a_ok}"' not in page, "a confirmed pair is not offered for review"
    artwork_page = (out / "artworks" / a_ok / "index.html").read_text()
    echoes = artwork_page.split("Drawings that re-create it", 1)[1].split("</section>", 1)[0]
    assert f"drawings/{drawing}/index.html" in echoes and "in a review" in echoes
    rows = [r for r in neighbour_rows(out) if r[0] == drawing]
    assert a_no not in [r[2] for r in rows] and len(rows) == 10
    with open(out / "data/pairs.csv", newline="", encoding="utf-8") as f:
        assert {"drawing": drawing, "artwork": a_ok, "source": "review"} in list(csv.DictReader(f))
    with open(out / "data/rejected.csv", newline="", encoding="utf-8") as f:
        assert list(csv.DictReader(f)) == [{"drawing": drawing, "artwork": a_no}]


def test_keys_later_elements_storage_and_reading_a_file(page, site_server, drawing, tmp_path):
    errors = _watch(page)
    page.goto(f"{site_server}drawings/{drawing}/index.html")
    page.locator("ol.strip > li[data-pair]").first.wait_for()
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement === document.body"), "no keys before review is turned on"
    page.get_by_role("button", name="Review suggestions").click()
    items = page.locator("[data-pair]")
    page.keyboard.press("j")
    page.keyboard.press("j")
    second = items.nth(1)
    assert second.evaluate("el => el === document.activeElement")
    page.keyboard.press("y")
    assert second.get_attribute("data-review-state") == "confirmed"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("n")
    assert items.nth(2).get_attribute("data-review-state") == "rejected"
    page.keyboard.press("u")
    assert items.nth(2).get_attribute("data-review-state") == "open"
    assert page.locator(".review-count").inner_text() == "1 confirmed, 0 rejected in this browser"
    # Kept in the browser: a reload shows the decision again.
    page.reload()
    page.locator("ol.strip > li[data-pair]").first.wait_for()
    assert page.get_by_role("button", name="Review suggestions").get_attribute("aria-pressed") == "true"
    assert page.locator("[data-pair]").nth(1).get_attribute("data-review-state") == "confirmed"
    # A suggestion drawn later by another script gets its buttons too.
    page.evaluate("""() => { const li = document.createElement('li');
        li.setAttribute('data-pair', 'late_drawing late_artwork'); li.textContent = 'Drawn later';
        document.querySelector('ol.strip').appendChild(li); }""")
    late = page.locator('[data-pair="late_drawing late_artwork"]')
    late.get_by_role("button", name="Reject").click()
    assert late.get_attribute("data-review-state") == "rejected"
    # Reading a decisions file back.
    f = tmp_path / "more.csv"
    f.write_text(f"drawing,artwork,decision,note\n{drawing},x_1,rejected,\"a, b\"\n{drawing},x_2,maybe,\n")
    page.locator(".review-import input").set_input_files(str(f))
    page.wait_for_function("document.querySelector('.review-message').textContent.length > 0")
    assert page.locator(".review-message").inner_text() == (
        "Read 1 decision from more.csv. Lines not read (an identifier is missing, or the decision is neither "
        "confirmed nor rejected): 3.")
    assert page.locator(".review-count").inner_text() == "1 confirmed, 2 rejected in this browser"
    assert errors == []


def test_review_works_from_disk(page, built_demo, drawing):
    _, _, out = built_demo
    errors = _watch(page)
    page.goto((out / "drawings" / drawing / "index.html").as_uri())
    page.get_by_role("button", name="Review suggestions").click()
    page.locator("[data-pair]").first.get_by_role("button", name="Confirm").click()
    assert page.locator(".review-count").inner_text() == "1 confirmed, 0 rejected in this browser"
    key = page.evaluate("Object.keys(localStorage)")
    site_key = "sitegen-review:" + out.as_uri() + "/"
    assert sorted(key) == [site_key, site_key + ":on"], "kept under the site's own address"
    assert errors == []
