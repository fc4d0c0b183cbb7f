"""The explorable site: statistics, map data files, search index, artwork echoes."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generator.site import mapdata, search
from tests import mapformat
from tests.helpers import site_artworks, site_drawings, site_layout

pytestmark = pytest.mark.slow

# The archive's naming convention, written out again here so the counts do not reuse generator code.
NAME = re.compile(r"^(\d{4})_(3-5|6-9|10-13|14-17|18-25|MS)_(\d+)_([A-Z]{3})(?:_([a-z]))?_([RV])_([A-Z]+)$")


def _js_payload(path: Path):
    """The JSON value a data/*.js file assigns (``...=VALUE;``)."""
    text = path.read_text(encoding="utf-8").strip()
    # "window.G=VALUE;" or "(window.G=window.G||{})[KEY]=VALUE;"
    start = text.index("]=", text.index(")[")) + 2 if text.startswith("(") else text.index("=") + 1
    return json.loads(text[start:].rstrip(";"))


def _csv(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


@pytest.fixture(scope="module")
def demo_counts(demo_dir):
    """Counts computed straight from the demo's file names and pairs.csv."""
    ids, unknown = {}, 0
    for p in sorted((demo_dir / "drawings").rglob("*.jpg")):
        m = NAME.match(p.stem)
        if m is None:
            unknown += 1
            continue
        year, age, number, country, variant, side, _ = m.groups()
        if side == "R":
            ids[(year, age, number, country, variant)] = (year, age, country)
    facts = list(ids.values())
    pairs = _csv(demo_dir / "pairs.csv")
    titles = {row["file"]: row["title"] for row in _csv(demo_dir / "artworks.csv")}
    return {
        "total": len(facts) + unknown, "unknown": unknown,
        "years": Counter(y for y, _, _ in facts), "ages": Counter(a for _, a, _ in facts),
        "countries": Counter(c for _, _, c in facts), "year_age": Counter((y, a) for y, a, _ in facts),
        # A drawing scanned twice (C and A) may be listed with both scans: it is one drawing.
        "confirmed_by_title": Counter(titles[a] for _, a in {(Path(row["drawing"]).stem.rsplit("_", 2)[0],
                                                               row["artwork"]) for row in pairs}),
        "pairs": len(pairs),
    }


def test_stats_match_the_collection(built_demo, demo_counts):
    _, report, out = built_demo
    st = json.loads((out / "data/stats.json").read_text())
    assert st["schema_version"] == 1
    assert st["drawings"] == report.drawings == demo_counts["total"]
    years = {r["year"]: r["drawings"] for r in st["years"]}
    assert years.pop("unknown") == demo_counts["unknown"]
    assert years == dict(demo_counts["years"])
    countries = {r["code"]: r["drawings"] for r in st["countries"]}
    assert countries.pop("unknown") == demo_counts["unknown"]
    assert countries == dict(demo_counts["countries"])
    ya = st["year_age"]
    table = {(y, a): ya["counts"][i][j] for i, y in enumerate(ya["years"]) for j, a in enumerate(ya["age_groups"])
             if ya["counts"][i][j]}
    assert table.pop(("unknown", "unknown")) == demo_counts["unknown"]
    assert table == dict(demo_counts["year_age"])
    assert ya["total"] == sum(ya["row_totals"]) == sum(ya["column_totals"]) == demo_counts["total"]
    # Ranked most first, ties by code.
    ranked = [(-r["drawings"], r["code"]) for r in st["countries"]]
    assert ranked == sorted(ranked)


def test_recreation_counts_match_pairs(built_demo, demo_counts):
    _, report, out = built_demo
    rows = _csv(out / "data/stats-artworks.csv")
    confirmed = {r["title"]: int(r["confirmed_drawings"]) for r in rows if int(r["confirmed_drawings"])}
    assert confirmed == dict(demo_counts["confirmed_by_title"])
    # The model's first suggestion: one per drawing.
    assert sum(int(r["model_top1_drawings"]) for r in rows) == report.drawings
    st = json.loads((out / "data/stats.json").read_text())
    top = st["recreated"]["confirmed"]["overall"]["artworks"][0]
    assert top["drawings"] == max(demo_counts["confirmed_by_title"].values())
    assert set(st["recreated"]) == {"confirmed", "model_top1"}
    for measure in st["recreated"].values():
        assert set(measure) >= {"overall", "by_country", "by_year", "by_age_group"}


def test_stats_json_and_csv_agree(built_demo):
    _, _, out = built_demo
    st = json.loads((out / "data/stats.json").read_text())
    assert [(r["code"], r["name"], int(r["drawings"])) for r in _csv(out / "data/stats-countries.csv")] == \
        [(r["code"], r["name"], r["drawings"]) for r in st["countries"]]
    assert [(r["year"], int(r["drawings"])) for r in _csv(out / "data/stats-years.csv")] == \
        [(r["year"], r["drawings"]) for r in st["years"]]
    ya = st["year_age"]
    rows = _csv(out / "data/stats-year-age.csv")
    assert [r["year"] for r in rows] == ya["years"] + ["total"]
    for r, counts, total in zip(rows, ya["counts"], ya["row_totals"]):
        assert [int(r[a]) for a in ya["age_groups"]] == counts and int(r["total"]) == total
    assert [int(rows[-1][a]) for a in ya["age_groups"]] == ya["column_totals"]
    by_group = _csv(out / "data/stats-recreated-by-group.csv")
    for m in ("confirmed", "model_top1"):
        for code, top in st["recreated"][m]["by_country"].items():
            got = [(r["artwork"], int(r["drawings"])) for r in by_group
                   if r["measure"] == m and r["facet"] == "country" and r["group"] == code]
            assert got == [(a["id"], a["drawings"]) for a in top["artworks"]]


def test_stats_page_has_charts_and_tables(built_demo):
    _, _, out = built_demo
    html = (out / "stats/index.html").read_text()
    assert html.count('<svg class="chart') >= 4
    assert "<table" in html and "confirmed by the archive" in html.lower() and "first suggestion" in html
    home = (out / "index.html").read_text()
    assert 'href="stats/index.html"' in home and 'href="search/index.html"' in home


def test_map_data_is_compact_and_complete(built_demo):
    _, report, out = built_demo
    folder = out / "data/map"
    meta = _js_payload(folder / "meta.js")
    n = report.drawings + report.artworks
    assert meta["count"] == n
    point_files = sorted(folder.glob("points-*.js"))
    assert len(point_files) == meta["chunks"]
    loaded_first = (folder / "meta.js").stat().st_size + sum(p.stat().st_size for p in point_files)
    assert loaded_first <= 16 * n + 12_000, loaded_first
    wide = [f["wide"] for f in meta["facets"]]
    xs, kinds = [], []
    for c, p in enumerate(point_files):
        text = _js_payload(p)
        size = min(meta["chunk_size"], n - c * meta["chunk_size"])
        qx, qy, cols = mapformat.decode_chunk(text, size, wide)
        xs.append(qx)
        kinds.append(cols[0])
    assert sum(len(x) for x in xs) == n
    kind_values = meta["facets"][0]["values"]
    kinds = np.concatenate(kinds)
    ids = mapformat.item_ids(folder)
    assert len(ids) == n
    for i, item_id in enumerate(ids):
        assert (out / meta["pages"][kind_values[kinds[i]]] / item_id / "index.html").is_file(), item_id
    assert Counter(kind_values[k] for k in kinds) == {"d": report.drawings, "a": report.artworks}
    sheets = [f for level in meta["atlas"] for f in level["files"]]
    assert sheets and [(folder / f).is_file() for f in sheets] == [True] * len(sheets)
    assert (out / "data/layout.csv.gz").is_file() and not (out / "data/layout.js").exists()


def test_map_coordinates_agree_with_layout_csv(built_demo):
    _, _, out = built_demo
    layout = site_layout(out)
    folder = out / "data/map"
    meta = _js_payload(folder / "meta.js")
    wide = [f["wide"] for f in meta["facets"]]
    qx, qy, _ = mapformat.decode_chunk(_js_payload(folder / "points-000.js"), min(meta["count"], meta["chunk_size"]),
                                     wide)
    chunk = _js_payload(folder / "labels-000.js")
    ids = mapformat.item_ids(folder)[:len(chunk["ids"])]
    for i, item_id in enumerate(ids):
        x, y = layout[item_id]
        assert abs(mapformat.dequantise(qx[i]) - x) < 1e-3 and abs(mapformat.dequantise(qy[i]) - y) < 1e-3
    # Drawings named as the archive names its scans carry no label: the page spells it from the id.
    spelt = {i for i, item_id in enumerate(ids) if chunk["labels"][i] is None}
    assert spelt and all(re.fullmatch(r"\d{4}_[^_]+_[^_]+_[A-Za-z]{3}(_[^_]+)?", ids[i]) for i in spelt)
    assert all(chunk["labels"][i] for i in range(len(ids)) if i not in spelt)
    # An artwork's label is its title; the page adds the artist its point names (the artist column).
    artworks = {a["id"]: a for a in site_artworks(out)}
    titled = [i for i, item_id in enumerate(ids) if item_id in artworks]
    assert titled and all(chunk["labels"][i] == [artworks[ids[i]]["title"]] for i in titled if artworks[ids[i]]["artist"])


def test_map_data_is_deterministic_and_atlases_are_cached(tmp_path):
    rng = np.random.default_rng(0)
    items = [mapdata.MapItem("d" if i % 3 else "a", f"item-{i}", float(x), float(y), f"Item {i}",
                             country=["FRA", "DEU", mapdata.NONE_VALUE][i % 3], year=str(2000 + i % 5))
             for i, (x, y) in enumerate(rng.uniform(-1, 1, (500, 2)))]
    first = _write_map(tmp_path / "a", items, tmp_path / "cache")
    second = _write_map(tmp_path / "b", items[::-1], tmp_path / "cache")
    assert first.atlas_computed == 2 and second.atlas_computed == 0  # one overview and one detail sheet
    for rel in first.files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_map_atlases_hold_every_picture_at_two_sizes(built_demo):
    """Cell i of overview sheet s is point s * per_sheet + i, cell i of a tile's detail sheet is the tile's point
    start + i; every published item has a picture there, no back scan."""
    _, report, out = built_demo
    folder = out / "data/map"
    meta = _js_payload(folder / "meta.js")
    n = meta["count"]
    ids = mapformat.item_ids(folder)
    assert not [i for i in ids if re.search(r"_V(_|$)", i)]
    overview, detail = meta["atlas"]
    assert (overview["name"], overview["cell"], overview["sheet"]) == ("overview", 32, 4096)
    assert (detail["name"], detail["cell"]) == ("detail", 64)
    assert len(overview["files"]) == -(-n // overview["per_sheet"])
    starts = detail["starts"]
    assert len(detail["files"]) == len(starts) and starts[0] == 0 and starts == sorted(set(starts))
    assert all(re.fullmatch(r"atlas-detail-\d+-\d+-\d+(-\d+)?\.webp", f) for f in detail["files"])
    no_thumb = set(meta.get("no_thumb", []))
    sheets = [(overview, name, s * overview["per_sheet"], min(n, (s + 1) * overview["per_sheet"]))
              for s, name in enumerate(overview["files"])]
    ends = starts[1:] + [n]
    sheets += [(detail, name, start, end) for name, start, end in zip(detail["files"], starts, ends)]
    for level, name, first, end in sheets:
        assert level["per_row"] == level["sheet"] // level["cell"] and end - first <= level["per_sheet"]
        with Image.open(folder / name) as img:
            assert img.format == "WEBP" and img.width == level["sheet"] and img.height <= level["sheet"]
            alpha = np.asarray(img.convert("RGBA"))[:, :, 3]
            rgb = np.asarray(img.convert("RGB")).astype(int)
        for k in range(end - first):
            y, x = divmod(k, level["per_row"])
            cell = np.s_[y * level["cell"]:(y + 1) * level["cell"], x * level["cell"]:(x + 1) * level["cell"]]
            covered = (alpha[cell] > 128).mean()
            if first + k in no_thumb:
                assert covered == 0
            else:  # a picture fitted into its cell (the longer side fills it), with more than one colour
                assert covered > 0.3 and rgb[cell][alpha[cell] > 128].std() > 2, (name, k)


def test_overview_cell_shrinks_with_the_item_count():
    from generator.pipeline.atlas import atlas_levels

    for n, cell in [(1, 32), (16384, 32), (20000, 16), (100_000, 8), (262_144, 8)]:
        overview, detail = atlas_levels(n)
        assert overview.cell == cell and overview.sheet <= 4096 and detail.sheet <= 4096
        assert -(-n // overview.per_sheet) == 1  # the first frame needs one sheet


def _layout_xy(folder: Path, name: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    raw = __import__("base64").b64decode(_js_payload(folder / f"layout-{name}.js"))
    q = np.frombuffer(raw, "<u2")
    assert len(q) == 2 * n
    return mapformat.dequantise(q[:n]), mapformat.dequantise(q[n:])


def test_map_offers_three_arrangements_with_named_groups(built_demo):
    from generator.ml.maplayouts import cluster_count

    _, _, out = built_demo
    folder = out / "data/map"
    meta = _js_payload(folder / "meta.js")
    n = meta["count"]
    assert [lay["name"] for lay in meta["layouts"]] == ["similarity", "year", "country"]
    ids = mapformat.item_ids(folder)
    drawings = {d["id"]: d for d in site_drawings(out)}
    artworks = site_artworks(out)
    stats = json.loads((out / "data/stats.json").read_text())
    # Similarity: k-means groups, named by an artist or a country of the site.
    sim = meta["layouts"][0]["groups"]
    assert len(sim["labels"]) == cluster_count(n) and sum(sim["counts"]) == n
    names = {a["artist"] for a in artworks if a.get("artist")} | {c["name"] for c in stats["countries"]}
    for label in sim["labels"]:
        assert re.sub(r"(, ages .*| \(\d+\))$", "", label) in names, label
    assert len(set(sim["labels"])) == len(sim["labels"])
    # Year: one column per year, left to right in year order.
    x, _ = _layout_xy(folder, "year", n)
    spans = {}
    for i, item_id in enumerate(ids):
        year = drawings.get(item_id, {}).get("year")
        if year:
            lo, hi = spans.get(year, (9, -9))
            spans[year] = (min(lo, x[i]), max(hi, x[i]))
    years = sorted(spans)
    assert len(years) > 3 and all(spans[a][1] < spans[b][0] for a, b in zip(years, years[1:]))
    year_groups = meta["layouts"][1]["groups"]
    assert {str(y) for y in years} <= set(year_groups["labels"]) and sum(year_groups["counts"]) == n
    # Country: one block per country, blocks apart.
    x, y = _layout_xy(folder, "country", n)
    boxes = {}
    for i, item_id in enumerate(ids):
        key = drawings[item_id]["country"] if item_id in drawings else "artworks"
        b = boxes.get(key, [9, 9, -9, -9])
        boxes[key] = [min(b[0], x[i]), min(b[1], y[i]), max(b[2], x[i]), max(b[3], y[i])]
    keys = sorted(boxes, key=str)
    for a in keys:
        for b in keys:
            if a != b:
                A, B = boxes[a], boxes[b]
                assert A[2] < B[0] or B[2] < A[0] or A[3] < B[1] or B[3] < A[1], (a, b)


def test_kmeans_finds_separate_blobs_and_is_seeded():
    from generator.ml.maplayouts import kmeans

    rng = np.random.default_rng(3)
    centres = np.array([[-0.6, -0.6], [0.6, -0.5], [0.0, 0.7]])
    truth = np.repeat(np.arange(3), 50)
    xy = centres[truth] + rng.normal(0, 0.05, (150, 2))
    got = kmeans(xy, 3)
    assert np.array_equal(got, kmeans(xy, 3))
    for k in range(3):  # each blob is one group
        assert len(set(got[truth == k].tolist())) == 1
    assert len(set(got.tolist())) == 3


def test_search_index_finds_an_artwork_title(built_demo, demo_dir):
    _, _, out = built_demo
    row = _csv(demo_dir / "artworks.csv")[0]
    title = row["title"]
    meta = _js_payload(out / "data/search/meta.js")
    hits = None
    for word in search.tokens(title):
        key = search.shard_key(word)
        assert key in meta["shards"]
        table = _js_payload(out / f"data/search/t-{key}.js")
        if word in table:
            found = set(search.undo_gaps(table[word]))  # stored as gaps between document numbers, runs as -k
        else:   # a number one document alone holds: listed apart by its digits (see search.number_pairs)
            found = {d for n, d in search.undo_numbers(table[f"{search.NUMBERS_KEY}{len(word)}"], len(word))
                     if n == word}
        hits = found if hits is None else hits & found
    docs = []
    for c in range((meta["docs"] + meta["doc_chunk"] - 1) // meta["doc_chunk"]):
        chunk = _js_payload(out / f"data/search/docs-{c:03d}.js")
        artists = chunk["artists"]   # [name, the start of its artworks' ids]
        docs += [["a", artists[doc[3]][1] + doc[1], doc[2], artists[doc[3]][0], str(doc[4])]
                 if doc[0] == "a" and len(doc) == 5 else doc for doc in search.expand_docs(chunk["docs"])]
    assert len(docs) == meta["docs"]
    artworks = [docs[n] for n in hits if docs[n][0] == "a"]
    # An artwork is stored as [kind, id, title, artist, date]: its detail and page follow (see search.doc_entry).
    assert artworks and all(len(doc) == 5 for doc in artworks)
    assert title in [doc[2] for doc in artworks]
    assert [doc[3] for doc in artworks if doc[2] == title] == [row["artist"] or "Unknown artist"]
    # Artworks come first, by artist: an artist's artworks are numbered in a row, so the artist's name is a run.
    artists = [doc[3] for doc in docs if doc[0] == "a"]
    assert artists == sorted(artists, key=search.fold) and docs[len(artists)][0] == "d"
    first = search.tokens(artists[0])[0]
    assert any(n < 0 for n in _js_payload(out / f"data/search/t-{search.shard_key(first)}.js")[first])
    for doc in artworks:
        assert (out / meta["artworks"] / doc[1] / "index.html").is_file()


def test_search_page_works_without_javascript_too(built_demo):
    _, _, out = built_demo
    html = (out / "search/index.html").read_text()
    assert "<noscript>" in html and 'href="../countries/index.html"' in html
    assert '<form id="search-form"' in html and " hidden" in html


def test_explore_pages_have_no_inline_script_or_style(built_demo):
    _, _, out = built_demo
    for page in ("map/index.html", "stats/index.html", "search/index.html"):
        html = (out / page).read_text()
        assert "Content-Security-Policy" in html
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), page
        assert not re.search(r"\sstyle=", html), page
        assert "<style" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in html


def test_artwork_pages_say_where_echoes_come_from(built_demo, demo_dir):
    _, _, out = built_demo
    pairs = [{"drawing": d, "artwork": a} for d, a in sorted({(Path(row["drawing"]).stem.rsplit("_", 2)[0],
                                                                 row["artwork"]) for row in _csv(demo_dir / "pairs.csv")})]
    art = Counter(row["artwork"] for row in pairs).most_common(1)[0][0]
    art_id = site_artworks(out)
    page_url = next(a["page"] for a in art_id if a["file"] == art)
    html = (out / page_url).read_text()
    summary = re.search(r'<p class="echo-summary">(.*?)</p>', html, re.S).group(1)
    n = Counter(row["artwork"] for row in pairs)[art]
    assert summary.startswith(f"{n} drawing")
    years = {row["drawing"][:4] for row in pairs if row["artwork"] == art}
    for y in years:
        assert y in summary


def test_search_tokens_fold_like_the_browser():
    assert search.tokens("Île-de-France") == ["ile-de-france", "ile", "de", "france"]
    assert search.shard_key("2009") == "20"


def _write_map(out, items, cache):
    """The map's files as a build writes them: the pipeline arranges and makes the sheets, the pages write."""
    from generator.pipeline.derive import map_stage

    arrangement, sheets = map_stage(items, {}, cache)
    return mapdata.write_map_data(out, items, arrangement, sheets)


@pytest.mark.parametrize("sample", [0, 100_000])
def test_map_page_says_when_its_layout_arranged_a_sample(sample):
    from generator.site.output import template_environment

    html = template_environment().get_template("map.html").render(
        root="../", site_title="T", page_path="map/index.html", csp="", alternates=[], hreflang=[], title="Map",
        method="UMAP", layout_sample=sample, n_drawings=1, n_artworks=2, map_facets=[], map_count=3, map_layouts=[],
        map_tiled=False)
    said = "too large to arrange every picture at once: 100000 pictures chosen at random" in html
    assert said == bool(sample)
