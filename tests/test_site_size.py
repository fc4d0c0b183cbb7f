"""What the site's shared data files list for each artwork: at a million artworks every byte written for each
one counts about a megabyte, so the files list only what the site's scripts read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from generator.contracts import Embedded, Embeddings, Neighbours
from generator.inputs.collection import Artwork, Drawing
from generator.inputs.countries import load_countries
from generator.settings import BuildSettings
from generator.site.context import SiteContext, SiteData
from generator.site import search
from tests.helpers import js_payloads
from generator.site.related import write_related


def _payloads(folder: Path, pattern: str) -> dict:
    out = {}
    for f in sorted(folder.glob(pattern)):
        out.update(js_payloads(f))
    return out


def _site(n_drawings: int = 3, n_artworks: int = 40) -> SiteData:
    drawings = [Drawing(f"d{i}", Path(f"in/d{i}.jpg"), f"d{i}.jpg", None) for i in range(n_drawings)]
    artworks = [Artwork(f"a{j}", Path(f"art/a{j}.jpg"), f"A/a{j}.jpg", f"Title {j}", f"Artist {j % 3}",
                        str(1900 + j) if j % 4 else None) for j in range(n_artworks)]
    rng = np.random.default_rng(3)
    named = rng.choice(n_artworks, (n_drawings, 4), replace=False).reshape(n_drawings, 4)
    nb = Neighbours(named, np.sort(rng.random((n_drawings, 4), np.float32))[:, ::-1].copy(),
                    np.array([[(i + 1) % n_drawings] for i in range(n_drawings)]), np.full((n_drawings, 1), 0.5, np.float32),
                    rng.integers(0, n_drawings, (n_artworks, 2)), np.ones((n_artworks, 2), np.float32))
    emb = Embeddings(Embedded([d.id for d in drawings], np.zeros((n_drawings, 2), np.float32)),
                     Embedded([a.id for a in artworks], np.zeros((n_artworks, 2), np.float32)))
    # a0 is confirmed for d0 (named by no ranked list), a39 has no picture
    pictures = {it.id: (Path("t.webp"), Path("d.webp")) for it in drawings + artworks[:-1]}
    return SiteData(settings=BuildSettings(), drawings=drawings, artworks=artworks, pairs=[("d0", "a0")],
                    countries=load_countries(None), artists={}, neighbours=nb,
                    coords=np.zeros((n_drawings + n_artworks, 2)), layout_method="umap", pictures=pictures,
                    model_source="pretrained", model_name="m", embeddings=emb)


def test_the_related_lists_table_holds_only_the_artworks_the_lists_name(tmp_path):
    site = _site()
    site.neighbours.artworks_index[2, 0] = 39    # one list names the artwork without a picture
    named = {int(j) for row in site.neighbours.artworks_index for j in row} | {0}
    assert len(named) < len(site.artworks), "some artworks are named by no list, so the test can fail"
    write_related(SiteContext.build(site), tmp_path)
    data = _payloads(tmp_path / "data/related", "*.js")
    artists = data["a0"]["artists"]
    table = [(artists[row[2]][1] + row[0], row) for row in data["a0"]["rows"]]
    assert [a_id for a_id, _ in table] == [f"a{j}" for j in sorted(named)], "named ones only, in site order"
    for a_id, row in table:
        a = site.artworks[int(a_id[1:])]
        assert (row[1], artists[row[2]][0], str(row[3])) == (a.title, a.artist, a.year or "")
        assert row[4:] == ([0] if a.id == "a39" else []), "a fifth value only for an artwork without a picture"
    assert len(artists) == 3 and all(prefix.startswith("a") for _, prefix in artists)
    for d, listed in zip(site.drawings, site.neighbours.artworks_index):
        entry = data["d0"][d.id]
        assert [table[k][0] for k in entry[0]] == [f"a{j}" for j in listed]
    assert [table[k][0] for k in data["d0"]["d0"][4]["c"]] == ["a0"], "the confirmed artwork has its row"


def _titled_site(folder: Path) -> SiteData:
    """Drawings named as the archive names its scans, artworks named as "Best Artworks of All Time" names them,
    half of them titled from the file name (``Painter 1, no. 4``), which the data files leave out."""
    from PIL import Image

    from generator.inputs.collection import DrawingName

    thumb, display = folder / "t.webp", folder / "d.webp"
    Image.new("RGB", (32, 40), (200, 120, 40)).save(thumb, "WEBP")
    Image.new("RGB", (64, 80), (40, 120, 200)).save(display, "WEBP")
    drawings = []
    for i in range(12):
        name = DrawingName(year=2000 + i % 3, age_group="6-9", number=f"{i:04d}", country="FRA", variant=None,
                           side="R", quality="C")
        drawings.append(Drawing(name.drawing_id, folder / f"{i}.jpg", f"{name.drawing_id}_R_C.jpg", name))
    artworks = [Artwork(f"painter_{j % 4}_{j}", folder / f"a{j}.jpg", f"Painter_{j % 4}/Painter_{j % 4}_{j}.jpg",
                        f"Painter {j % 4}, no. {j}" if j % 2 else f"Title {j}", f"Painter {j % 4}",
                        str(1800 + j) if j % 3 else None) for j in range(60)]
    rng = np.random.default_rng(5)
    nd, na = len(drawings), len(artworks)
    site = _site()
    nb = Neighbours(np.array([rng.choice(na, 10, replace=False) for _ in range(nd)]),
                    np.sort(rng.random((nd, 10), np.float32))[:, ::-1].copy(),
                    np.array([[(i + k) % nd for k in (1, 2)] for i in range(nd)]), np.full((nd, 2), 0.5, np.float32),
                    rng.integers(0, nd, (na, 3)), np.ones((na, 3), np.float32))
    return SiteData(settings=BuildSettings(out=folder / "site", cache=folder / "cache", find_page=False),
                    drawings=drawings, artworks=artworks, pairs=[], countries=site.countries, artists={},
                    neighbours=nb, coords=rng.uniform(-1, 1, (nd + na, 2)).astype(np.float32), layout_method="UMAP",
                    pictures={it.id: (thumb, display) for it in drawings + artworks}, model_source="synthetic",
                    model_name="synthetic",
                    embeddings=Embeddings(Embedded([d.id for d in drawings], np.zeros((nd, 2), np.float32)),
                                          Embedded([a.id for a in artworks], np.zeros((na, 2), np.float32))))


@pytest.mark.slow
@pytest.mark.browser
def test_the_pages_scripts_spell_what_the_files_leave_out(browser, tmp_path):
    """The lists under a drawing, the search and the map find every artwork they list from the shortened files:
    ids after their artist's shared start, artists by number, titles spelt from the file name."""
    from generator.pipeline.derive import derive
    from generator.site.pages import render_site

    site = _titled_site(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    render_site(site, out, prepare=derive)
    by_id = {a.id: a for a in site.artworks}
    related = _payloads(out / "data/related", "a-*.js")["a0"]
    assert 0 in [row[1] for row in related["rows"]], "some titles are left out of the files"
    assert len(related["rows"]) < len(site.artworks), "only the artworks some list names"
    page = browser.new_context().new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    for d, listed in zip(site.drawings[:3], site.neighbours.artworks_index):
        page.goto((out / "drawings" / d.id / "index.html").as_uri())
        page.locator("#related ol.cards > li").first.wait_for()
        items = page.locator("#related ol.cards > li")
        want = [site.artworks[j] for j in listed][1:]   # the first is beside the drawing
        assert items.count() == len(want)
        for k, a in enumerate(want):
            assert items.nth(k).locator("a").get_attribute("href") == f"../../artworks/{a.id}/index.html"
            line = f"{k + 2}. {a.title} {a.artist}" + (f", {a.year}" if a.year else "") + " · "
            assert items.nth(k).text_content().startswith(line), line
    # the search's documents hold rows of one artist's artworks, and its shards the numbers one document holds
    docs = [doc for chunk in _payloads(out / "data/search", "docs-*.js").values() for doc in chunk["docs"]]
    rows = [doc for doc in docs if doc[0] == "A"]
    assert rows and len(search.expand_docs(docs)) == len(site.artworks) + len(site.drawings)
    assert any(tok.startswith("#") for table in _payloads(out / "data/search", "t-*.js").values() for tok in table)
    page.goto((out / "search/index.html").as_uri() + "#q=painter")
    results = page.locator("#search-results li.result-artwork")
    page.wait_for_function("() => document.querySelectorAll('#search-results li.result-artwork').length === 60")
    for k in range(results.count()):
        a = by_id[results.nth(k).locator("a").get_attribute("href").split("/")[-2]]
        assert results.nth(k).locator("a").text_content() == a.title
        assert results.nth(k).locator(".count").text_content() == f" Artwork by {a.artist}" + (f", {a.year}" if a.year else "")
    # an artwork of a row found by its number alone (held by that one artwork: listed apart in its shard)
    number = str(rows[0][2])
    page.goto("about:blank")   # a new load: the search page reads its query when it opens
    page.goto((out / "search/index.html").as_uri() + "#q=" + number)
    found = page.locator("#search-results li.result-artwork a")
    found.first.wait_for()
    want = {a.id for a in site.artworks
            if any(t.startswith(number) for t in search.tokens(f"{a.title} {a.artist} {a.year or ''} {a.id} {a.rel}"))}
    page.wait_for_function(f"() => document.querySelectorAll('#search-results li.result-artwork').length === {len(want)}")
    assert {found.nth(k).get_attribute("href").split("/")[-2] for k in range(found.count())} == want
    page.goto((out / "map/index.html").as_uri())
    page.wait_for_selector("#map[data-ready]")
    page.wait_for_function("() => SITEGEN_MAP_API.item(0) !== null")
    got = page.evaluate("() => Array.from({length: 72}, (_, i) => SITEGEN_MAP_API.item(i))")
    seen = 0
    for g in got:
        if g["id"] in by_id:
            a = by_id[g["id"]]
            assert g["label"] == f"{a.title} ({a.artist})"
            seen += 1
    assert seen == 60 and errors == []
