"""The discoveries pages of the built demo: what they list, that they work without scripts, and in a real
browser that the filters work, from a server and from the disk, with no serious accessibility problem."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from tests.helpers import neighbour_rows, site_drawings
from tests.sitecheck import broken_links

pytestmark = pytest.mark.slow  # builds the demo site


class _Pairs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-pair" in a:
            self.pairs.append(tuple(a["data-pair"].split(" ")))
        if tag == "script" and a.get("src"):
            self.scripts.append(a["src"])


def _parse(path) -> _Pairs:
    p = _Pairs()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _data(out) -> dict:
    text = (out / "data/discoveries.js").read_text(encoding="utf-8")
    return json.loads(re.fullmatch(r"window\.SITEGEN_DISCOVERIES=(.*);\n", text, re.S).group(1))


@pytest.fixture(scope="module")
def site(built_demo):
    settings, _, out = built_demo
    return settings, out


def test_pages_list_the_best_suggestions_of_unconfirmed_drawings_once_each_best_first(site):
    settings, out = site
    confirmed = {row[0] for row in json.loads((out / "data/pairs.json").read_text())["rows"]}
    drawings = {d["id"] for d in site_drawings(out)}
    neighbours = {}
    for d, _, a, _ in neighbour_rows(out):
        neighbours.setdefault(d, set()).add(a)
    data = _data(out)
    pages = [out / "discoveries/index.html"] + sorted(out.glob("discoveries/page-*/index.html"),
                                                       key=lambda p: int(p.parent.name.split("-")[1]))
    listed = [pair for page in pages for pair in _parse(page).pairs]
    unconfirmed = drawings - confirmed
    assert len(listed) == min(settings.discoveries, sum(len(neighbours.get(d, ())) for d in unconfirmed))
    assert len(set(listed)) == len(listed)
    assert all(d in unconfirmed and a in neighbours[d] for d, a in listed)
    rows = [(r[0], r[1]) for r in data["rows"]]
    assert rows == [p for p in listed]  # the filters' data holds the same suggestions, in the same order
    scores = [r[data["columns"].index("score")] for r in data["rows"]]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) > 1
    assert len(pages) == -(-len(listed) // settings.page_size)


def test_pages_link_everything_they_show_and_carry_the_review_script(site):
    _, out = site
    first = out / "discoveries/index.html"
    html = first.read_text(encoding="utf-8")
    assert "adjusted similarity" in html and "discoveries/index.html" in (out / "index.html").read_text()
    assert any(s.endswith("static/review.js") for s in _parse(first).scripts)
    assert 'data-pair="' in html
    assert [(page, ref) for page, ref in broken_links(out) if page.startswith("discoveries/")] == []


# ------------------------------------------------------------------------------ in a browser

@pytest.fixture()
def page(browser):
    context = browser.new_context()
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    # a request the page's own reload cancels (the icon, say) is no failure of the page
    pg.on("requestfailed", lambda r: None if "ERR_ABORTED" in (r.failure or "") else errors.append(r.url))
    pg.on("response", lambda r: errors.append(r.url) if r.status >= 400 else None)
    yield pg, errors
    context.close()


def _shown(pg) -> list[str]:
    return pg.eval_on_selector_all("#discoveries > li", "els => els.map(e => e.getAttribute('data-pair'))")


@pytest.mark.browser
def test_filters_show_only_matching_suggestions_and_come_back_from_the_address(page, site):
    pg, errors = page
    _, out = site
    data = _data(out)
    col = {c: i for i, c in enumerate(data["columns"])}
    pg.goto((out / "discoveries/index.html").as_uri())
    first_page = _shown(pg)
    assert pg.is_visible("#discovery-filters")
    country, year = data["filters"]["country"][0][0], None
    pg.select_option("select[data-field=country]", country)
    expected = [f"{r[0]} {r[1]}" for r in data["rows"] if r[col["country"]] == country]
    assert _shown(pg) == expected[:data["page_size"]]
    assert pg.inner_text("#discovery-status").startswith(f"{len(expected)} of {len(data['rows'])}")
    assert pg.is_hidden("#discoveries-pager")
    # Two filters at once, then the address brings the same choice back on a fresh load.
    year = next(r[col["year"]] for r in data["rows"] if r[col["country"]] == country)
    pg.select_option("select[data-field=year]", year)
    both = [f"{r[0]} {r[1]}" for r in data["rows"] if r[col["country"]] == country and r[col["year"]] == year]
    assert _shown(pg) == both[:data["page_size"]] and both
    pg.goto((out / "discoveries/index.html").as_uri() + f"#country={country}&year={year}")
    pg.reload()
    assert _shown(pg) == both[:data["page_size"]]
    # Back to all: the page's own list returns.
    pg.select_option("select[data-field=country]", "")
    pg.select_option("select[data-field=year]", "")
    assert _shown(pg) == first_page and pg.is_visible("#discoveries-pager")
    broken = pg.evaluate("Array.from(document.images).filter(i => i.complete && i.naturalWidth === 0).map(i => i.src)")
    assert broken == [] and errors == []


@pytest.mark.browser
def test_an_artist_filter_with_more_matches_than_a_page_shows_more_on_request(page, site):
    pg, errors = page
    _, out = site
    data = _data(out)
    col = data["columns"].index("artist")
    counts = {k: n for k, _, n in data["filters"]["artist"]}
    artist = max(counts, key=lambda k: (counts[k], k))
    pg.goto((out / "discoveries/page-2/index.html").as_uri())
    pg.select_option("select[data-field=artist]", artist)
    expected = [f"{r[0]} {r[1]}" for r in data["rows"] if r[col] == artist]
    assert _shown(pg) == expected[:data["page_size"]]
    if len(expected) > data["page_size"]:
        pg.click("button.discoveries-more")
        assert _shown(pg) == expected[:2 * data["page_size"]]
    assert errors == []


@pytest.mark.browser
def test_no_serious_accessibility_problems(page, site_server):
    from axe_playwright_python import sync_playwright as axe
    pg, errors = page
    problems = []
    for path in ("discoveries/index.html", "discoveries/page-2/index.html"):
        pg.goto(site_server + path)
        pg.wait_for_load_state("networkidle")
        pg.select_option("select[data-field=country]", index=1)
        results = axe.Axe().run(pg)
        problems += [f"{path}: {v['id']} ({v['impact']}): {v['help']}" for v in results.response["violations"]
                     if v["impact"] in ("serious", "critical")]
    assert problems == [] and errors == []
