"""The lists under each drawing (other suggestions, similar drawings) come from shared data files, not the page:
the files must hold exactly the site's suggestions, and the page's script must draw them, from disk too."""

from __future__ import annotations

import html
import json
import re

import pytest

from generator.site.related import chunk_count, chunk_of
from tests.helpers import js_payloads as _js_payloads, neighbour_rows, site_artworks, site_drawings

pytestmark = pytest.mark.slow


def _table(data) -> list[list]:
    """The artworks' table, its rows spelt out as [id, title, artist, year, has a picture]."""
    rows = []
    for k in sorted((k for k in data if re.fullmatch(r"a\d+", k)), key=lambda k: int(k[1:])):
        artists = data[k]["artists"]   # [name, the start of its artworks' ids]
        rows += [[artists[r[2]][1] + r[0], r[1], artists[r[2]][0], str(r[3]), r[4] if len(r) > 4 else 1]
                 for r in data[k]["rows"]]
    return rows


@pytest.fixture(scope="module")
def related(built_demo):
    _, _, out = built_demo
    folder = out / "data/related"
    data = {}
    for f in sorted(folder.glob("*.js")):
        data.update(_js_payloads(f))
    return out, data


def test_every_drawing_is_in_the_chunk_its_id_names(related):
    out, data = related
    drawings = site_drawings(out)
    chunks = data["meta"]["chunks"]
    assert chunks == chunk_count(len(drawings))
    seen = []
    for c in range(chunks):
        for did in data[f"d{c}"]:
            assert chunk_of(did, chunks) == c, did
            seen.append(did)
    assert sorted(seen) == sorted(d["id"] for d in drawings)


def test_the_files_hold_the_published_suggestions(related):
    out, data = related
    artworks = site_artworks(out)
    per = data["meta"]["artwork_chunk"]
    table = _table(data)
    site_order = [a["id"] for a in artworks]
    assert [row[0] for row in table] == sorted((row[0] for row in table), key=site_order.index) and per >= 1
    expected: dict[str, list] = {}
    for d, rank, a, sim in neighbour_rows(out):
        expected.setdefault(d, []).append((rank, a, sim))
    chunks = data["meta"]["chunks"]
    for did, rows in expected.items():
        entry = data[f"d{chunk_of(did, chunks)}"][did]
        assert [table[j][0] for j in entry[0]] == [a for _, a, _ in rows]
        # the first similarity in thousandths, then each one's fall from the one before
        sims = [sum(entry[1][:1]) - sum(entry[1][1:k + 1]) for k in range(len(entry[1]))]
        assert all(abs(s / 1000 - sim) <= 0.0006 for s, (_, _, sim) in zip(sims, rows)) and len(sims) == len(rows)
        assert all(fall >= 0 for fall in entry[1][1:]), "in rank order: each one no higher than the one before"
        for other in entry[2]:
            assert (out / "drawings" / other / "index.html").is_file(), other
            assert other != did


def test_the_artworks_table_holds_only_the_artworks_some_list_names(related):
    """At a million artworks the table listed every one (57 bytes each); a drawing's list names at most ten."""
    out, data = related
    chunks = data["meta"]["chunks"]
    named = set()
    for c in range(chunks):
        for entry in data[f"d{c}"].values():
            named |= set(entry[0]) | set(entry[4].get("c", []) if len(entry) > 4 else [])
    table = _table(data)
    assert sorted(named) == list(range(len(table))), "every row is named by some list, and every name has a row"
    listed = {a for _, _, a, _ in neighbour_rows(out)}
    listed |= {row[1] for row in json.loads((out / "data/pairs.json").read_text())["rows"]}
    assert {row[0] for row in table} == listed
    by_id = {a["id"]: a for a in site_artworks(out)}
    for a_id, title, artist, year, picture in table:
        assert (title, year) == (by_id[a_id]["title"], by_id[a_id]["year"] or ""), a_id
        assert picture == 1 and artist, a_id


def test_confirmed_artworks_are_marked(related, built_demo):
    out, data = related
    pairs = json.loads((out / "data/pairs.json").read_text())["rows"]
    chunks = data["meta"]["chunks"]
    assert pairs
    for d, a, *_ in pairs:
        entry = data[f"d{chunk_of(d, chunks)}"][d]
        assert a in [_table(data)[j][0] for j in entry[4]["c"]]


@pytest.mark.browser
@pytest.mark.parametrize("how", ["served", "disk"])
def test_the_drawing_page_draws_its_lists(browser, built_demo, site_server, how):
    _, _, out = built_demo
    rows = [r for r in neighbour_rows(out)]
    pairs = {row[0] for row in json.loads((out / "data/pairs.json").read_text())["rows"]}
    did = next(d for d, _, _, _ in rows if d not in pairs)
    mine = [(rank, a) for d, rank, a, _ in rows if d == did]
    url = (site_server + f"drawings/{did}/index.html" if how == "served"
           else (out / "drawings" / did / "index.html").as_uri())
    errors = []
    context = browser.new_context()
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.locator("#related ol.cards li").first.wait_for()
    items = page.locator("#related ol.cards > li")
    # The best suggestion is beside the drawing; the strip lists the other nine, in rank order.
    assert items.count() == len(mine) - 1
    hrefs = [items.nth(i).locator("a").get_attribute("href") for i in range(items.count())]
    assert hrefs == [f"../../artworks/{a}/index.html" for _, a in mine[1:]]
    assert items.nth(0).get_attribute("data-pair") == f"{did} {mine[1][1]}"
    # The suggestion beside the drawing can be reviewed too; it is marked once the lists are drawn.
    assert page.locator(".pair-artwork").get_attribute("data-pair") == f"{did} {mine[0][1]}"
    assert items.nth(0).locator("a").text_content().startswith("2. ")
    by_id = {a["id"]: a for a in site_artworks(out)}
    for i, (rank, a) in enumerate(mine[1:]):
        art = by_id[a]
        assert items.nth(i).locator("a").text_content() == f"{rank}. {art['title']}"
        line = f"{rank}. {art['title']} {art['artist'] or 'Unknown artist'}" + (f", {art['year']}" if art["year"] else "")
        assert items.nth(i).text_content().startswith(line + " · "), line
    # The similarities, stored as falls from the one before, are added up again.
    sims = {a: sim for d, _, a, sim in rows if d == did}
    for i, (rank, a) in enumerate(mine[1:]):
        shown = float(re.search(r" · (-?\d+\.\d+)", items.nth(i).text_content()).group(1))
        assert abs(shown - sims[a]) <= 0.0006, (a, shown, sims[a])
    similar = page.locator("#related ul.cards > li a")
    assert similar.count() > 0
    for i in range(similar.count()):
        m = re.fullmatch(r"\.\./\.\./drawings/([^/]+)/index\.html", similar.nth(i).get_attribute("href"))
        h1 = (out / "drawings" / m.group(1) / "index.html").read_text(encoding="utf-8").split("<h1>")[1]
        assert similar.nth(i).text_content().strip() == html.unescape(h1.split("</h1>")[0])
    # The header's links are put in from the same data.
    nav = page.locator("header nav a")
    assert nav.count() >= 8 and nav.first.get_attribute("href") == "../../countries/index.html"
    page.locator("#related ol.cards img").first.wait_for()
    context.close()
    assert errors == []
