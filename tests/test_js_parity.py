"""Every rule written both in Python and in the browser's core (static/core/*.js) gives the same answers.

Python writes a table with the real functions of the build (the drawing ids, hashing, folding, the search
index's words and shards, the map's point codes, the files' names, the addresses); Node runs the core's
functions on the same inputs, and the two must agree. The core files are plain scripts: they are run in one
``vm`` context, in the order the build joins them, and their functions called by name. Node alone is needed
(no npm package).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from generator.inputs.collection import slugify
from generator.site import mapdata, related, scripts, search, urls

from . import mapformat
from generator.site.labels import spelt_age_group, spelt_label, spelt_title

ROOT = Path(__file__).resolve().parents[1]
CORE = [ROOT / "static" / "core" / name for name in scripts.CORE]

RUNNER = r"""
const fs = require("fs"), vm = require("vm");
const job = JSON.parse(fs.readFileSync(0, "utf8"));
const context = vm.createContext({ TextEncoder, atob });
for (const file of job.files) { vm.runInContext(fs.readFileSync(file, "utf8"), context, { filename: file }); }
const value = (name) => vm.runInContext(name, context);
const results = job.calls.map(([name, args]) => value(name)(...args));
const plain = (k, v) => (ArrayBuffer.isView(v) ? Array.from(v) : v);
process.stdout.write(JSON.stringify({ results: results, values: job.values.map(value) }, plain));
"""


def node_core(calls: list[tuple[str, list]], values: tuple[str, ...] = ()) -> tuple[list, list]:
    """Run the core's functions on ``calls`` ([name, args]); also return the core's ``values`` (names)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node is not installed (the browser core's parity needs it)")
    job = {"files": [str(f) for f in CORE], "calls": [[n, a] for n, a in calls], "values": list(values)}
    done = subprocess.run([node, "-e", RUNNER], input=json.dumps(job), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    return got["results"], got["values"]


# Ids as the build makes them (slugify of the file name's stem): ASCII, lower case.
STEMS = ["2009_14-17_1234_DEU_a", "1994_MS_002974_USA", "2009_6-9_77_fra", "2001_10-13_5_GBR_x",
         "2009_6-9_77_FRA_x_y", "2009_6-9_77_DE", "2009_6-9_77_DEUX", "20091_6-9_77_DEU", "209_6-9_77_DEU",
         "2009__77_DEU", "scan 12", "Drawing école n°3", "横浜 1999", "1999_6-9_é12_ITA", "", "_", "2009_a_b_c1d",
         "Vincent_van_Gogh_12", "2010_Ms_0001_chn_back"]
IDS = [slugify(s) for s in STEMS] + ["2009_14-17_1234_DEU_a", "1994_MS_002974_usa"]
COUNTRIES = {"DEU": "Germany", "USA": "United States", "FRA": "France", "GBR": "United Kingdom"}

TEXTS = ["Île-de-France École", "Van Gogh's Starry-Night", "2009_14-17_1234_DEU", "ÆSOP ﬁsh ½ cup x²",
         "  --leading and trailing--  ", "Ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ", "横浜 の 絵", "Straße İstanbul ΟΔΟΣ",
         "naïve café, crème brûlée!", "Ångström Øre Łódź", "tab\tnew\nline", "a_b-c__d", "- - -", "",
         "Dvořák's 𠀀漢字 piece", "١٢٣ arabic digits", "KÖNIG—Ärger…"]


def test_drawing_ids_are_spelt_and_parsed_the_same():
    calls = [("spellDrawing", [i, COUNTRIES]) for i in IDS]
    got, _ = node_core(calls)
    for item_id, js in zip(IDS, got):
        label, age = spelt_label(item_id, COUNTRIES), spelt_age_group(item_id)
        assert (label is None) == (js is None) == (age is None), item_id
        if js is not None:
            assert (js["label"], js["age"]) == (label, age), item_id
    assert sum(g is not None for g in got) >= 5 and sum(g is None for g in got) >= 5   # both kinds tried


def test_artwork_titles_are_spelt_the_same():
    """A title the data files leave out (0 in their place) is the one the artworks' reader gave."""
    from generator.inputs.collection import _title_from_stem

    cases = [(slugify(stem), folder.replace("_", " ")) for stem, folder in [
        ("Vincent_van_Gogh_12", "Vincent_van_Gogh"), ("Albrecht_Durer_007", "Albrecht_Durer"), ("Rembrandt_1", "Rembrandt"),
        ("Sketch_12b", "Sketch"), ("Frida_Kahlo", "Frida_Kahlo"), ("Hokusai_3", "")]]
    got, _ = node_core([("spellTitle", list(c)) for c in cases])
    assert got == [spelt_title(*c) for c in cases]
    assert got[0] == _title_from_stem("Vincent_van_Gogh_12", "Vincent_van_Gogh") == "Vincent van Gogh, no. 12"
    assert got[1] == "Albrecht Durer, no. 007" and got[3:] == [None, None, None]


def test_text_is_folded_the_same():
    got, _ = node_core([("fold", [t]) for t in TEXTS])
    assert got == [search.fold(t) for t in TEXTS]


def test_query_words_are_the_index_tokens():
    """The index holds each word and the parts of hyphenated ones; a query keeps hyphenated words whole."""
    got, _ = node_core([("queryWords", [t]) for t in TEXTS])
    for text, words in zip(TEXTS, got):
        expanded = []
        for w in words:
            expanded.append(w)
            if "-" in w:
                expanded.extend(p for p in w.split("-") if p)
        assert expanded == search.tokens(text), text


def test_words_go_to_the_same_shard():
    words = sorted({tok for t in TEXTS for tok in search.tokens(t)} | {"a", "a-b", "x", "é", "横浜"})
    got, _ = node_core([("shardKey", [w]) for w in words])
    assert got == [search.shard_key(w) for w in words]


def test_items_hash_to_the_same_chunk():
    ids = IDS + ["", "é", "横浜", "x" * 300, "1994_MS_002974_USA"]
    sizes = [1, 2, 7, 512, 2 ** 32]
    got, _ = node_core([("chunkOf", [i, c]) for i in ids for c in sizes] + [("fnv1a", [i]) for i in ids])
    want = [related.chunk_of(i, c) for i in ids for c in sizes] + [related.chunk_of(i, 2 ** 32) for i in ids]
    assert got == want
    assert len(set(want[-len(ids):])) == len(set(ids))   # the full hashes differ from one another


@pytest.mark.parametrize("n, wide", [(1, [False]), (300, [False, True, False]), (16384, [True] * 2), (5, [])])
def test_map_points_decode_as_encoded(n, wide):
    rng = np.random.default_rng(n)
    qx, qy = rng.integers(0, 65536, n), rng.integers(0, 65536, n)
    columns = [rng.integers(0, 65536 if w else 256, n) for w in wide]
    text = mapdata.encode_chunk(qx, qy, columns, wide)
    got, _ = node_core([("decodePoints", [text, n, wide])])
    assert got[0]["x"] == qx.tolist() and got[0]["y"] == qy.tolist()
    assert got[0]["columns"] == [c.tolist() for c in columns]
    back = mapformat.decode_chunk(text, n, wide)   # and Python reads back what it wrote
    assert back[0].tolist() == got[0]["x"] and [c.tolist() for c in back[2]] == got[0]["columns"]


def test_search_postings_are_read_back_as_written():
    rng = np.random.default_rng(7)
    vocabulary = ["monet", "mona", "14-17", "deu", "starry-night", "école"]
    docs = [{"text": " ".join(rng.choice(vocabulary, 3))} for _ in range(400)]
    docs += [{"text": "rodin"}] * 7 + [{"text": "rodin deu"}, {"text": "deu"}, {"text": "rodin"}]   # runs
    shards, _ = search.build_index(docs)
    assert shards["ro"]["rodin"] == [400, -7, 2] and any(n < 0 for n in shards["mo"]["monet"])
    lists = [(tok, gaps) for table in shards.values() for tok, gaps in sorted(table.items())]
    assert not any(tok.startswith(search.NUMBERS_KEY) for tok, _ in lists)   # no number held by one document
    got, _ = node_core([("undoGaps", [gaps]) for _, gaps in lists])
    for (tok, _), numbers in zip(lists, got):
        assert numbers == [n for n, d in enumerate(docs) if tok in search.tokens(d["text"])], tok


def test_numbers_of_one_document_are_read_back_as_written():
    """Catalogue numbers and drawing numbers, one document each, are listed apart in their shard by their count of
    digits (zeros in front kept); numbers that several documents hold, or too long for the browser to read
    exactly, stay words."""
    rng = np.random.default_rng(11)
    numbers = sorted({int(n) for n in rng.integers(0, 2_000_000, 300)})
    docs = [{"text": f"Artist 8, no. {n} {n % 1000:06d}"} for n in rng.permutation(numbers)]
    docs += [{"text": "12 007 0"}, {"text": "12 1234567890123456 140001 00"}, {"text": "١٢٣ 99"}]
    shards, _ = search.build_index(docs)
    want = {tok: [n for n, d in enumerate(docs) if tok in search.tokens(d["text"])]
            for d in docs for tok in search.tokens(d["text"])}
    alone = [(key, digits, pairs) for key, table in shards.items() for digits, pairs in table.items()
             if digits.startswith(search.NUMBERS_KEY)]
    assert {"#3", "#2", "#6"} <= {digits for _, digits, _ in alone}
    assert "12" in shards["12"] and "1234567890123456" in shards["12"]
    got, _ = node_core([("undoNumbers", [pairs, int(digits[1:])]) for _, digits, pairs in alone])
    seen = {}
    for (key, digits, _), pairs in zip(alone, got):
        for tok, n in pairs:
            assert search.shard_key(tok) == key and len(tok) == int(digits[1:]) and tok not in shards[key]
            seen[tok] = [n]
    listed = {tok: gaps for table in shards.values() for tok, gaps in table.items()
              if not tok.startswith(search.NUMBERS_KEY)}
    got, _ = node_core([("undoGaps", [gaps]) for gaps in listed.values()])
    seen.update(zip(listed, got))
    assert seen == want and "140001" in seen and "007" in seen and "00" in seen and "99" in seen


def test_rows_of_artworks_are_read_back_as_written():
    entries = [["a", f"artist_8_{n}", f"Artist 8, no. {n}", "Artist 8", ""] for n in (12, 3, "04", "x1")]
    entries += [["a", "artist_8_5", "Sunflowers", "Artist 8", ""], ["d", "2009_14-17_1234_DEU"],
                ["d", "2009_14-17_1235_DEU"], ["d", "Drawing 7", "File 7.jpg", "drawings/7/index.html"],
                ["d", "2009_6-9_7_FRA"],
                ["a", "rodin_1", "Rodin, no. 1", "Rodin", ""], ["a", "rodin_2", "Rodin, no. 2", "Rodin", "1880"],
                ["a", "monet_1", "Monet, no. 1", "Monet", ""], ["a", "monet_2", "Monet, no. 2", "Monet", ""]]
    chunk = search.doc_chunk(entries)
    # rows of two or more; a title the browser would not spell ("x1", "Sunflowers"), a date or a drawing
    # with a label of its own ends a row
    assert [doc[0] for doc in chunk["docs"]] == ["A", "a", "a", "D", "d", "d", "a", "a", "A"]
    assert chunk["docs"][0][2:] == [12, 3, "04"]
    got, _ = node_core([("expandDocs", [chunk["docs"]])])
    assert got[0] == search.expand_docs(chunk["docs"])
    back = [["a", chunk["artists"][doc[3]][1] + doc[1], spelt_title(chunk["artists"][doc[3]][1] + doc[1],
                                                              chunk["artists"][doc[3]][0]) if doc[2] == 0 else doc[2],
             chunk["artists"][doc[3]][0], str(doc[4])] if doc[0] == "a" else doc for doc in got[0]]
    assert back == entries


def test_chunk_files_are_named_the_same(tmp_path, monkeypatch):
    """The names the search index is written under (one document a chunk here, to reach four digits)."""
    monkeypatch.setattr(search, "DOC_CHUNK", 1)
    written = search.write_index(tmp_path, [{"kind": "a", "id": f"a{i}", "label": "x", "detail": "", "text": "x",
                                             "url": "artworks/a/index.html"} for i in range(1001)])
    docs = sorted(Path(f).name for f in written if Path(f).name.startswith("docs-"))
    got, _ = node_core([("chunkFile", ["docs-", c]) for c in range(1001)])
    assert sorted(got) == docs and "docs-1000.js" in docs and "docs-007.js" in docs


def test_addresses_are_the_same():
    ids = [i for i in IDS if i]
    calls = ([("pageUrl", [urls.PAGE_FOLDERS["d"], i]) for i in ids] + [("pageUrl", [urls.PAGE_FOLDERS["a"], i]) for i in ids]
             + [("thumbUrl", [urls.PICTURE_FOLDERS["d"], i]) for i in ids]
             + [("thumbOfPage", ["../../" + urls.drawing_url(i)]) for i in ids]
             + [("thumbOfPage", [urls.artwork_url(i)]) for i in ids]
             + [("thumbOfPage", [u]) for u in ("index.html", "countries/deu/index.html", "drawings/index.html")])
    got, values = node_core(calls, ("PAGE_FOLDERS", "PICTURE_FOLDERS"))
    want = ([urls.drawing_url(i) for i in ids] + [urls.artwork_url(i) for i in ids]
            + [urls.thumb_url("drawings", i) for i in ids]
            + ["../../" + urls.thumb_url("drawings", i) for i in ids] + [urls.thumb_url("artworks", i) for i in ids]
            + [None, None, None])
    assert got == want
    assert values == [urls.PAGE_FOLDERS, urls.PICTURE_FOLDERS]


def test_the_address_fragment_is_read_as_written():
    """Not a Python rule: the view the map and the discoveries keep in the address (core/address.js)."""
    from urllib.parse import quote
    view = {"layout": "year", "x": "0.1250", "country": "Côte d'Ivoire & Co=1", "artist": "横浜"}
    written = "#" + "&".join(f"{k}={quote(v, safe='')}" for k, v in view.items())
    got, _ = node_core([("parseHash", [written]), ("parseHash", ["#a=1&bad&=v&b=&c=x=y"]), ("parseHash", [""])])
    assert got == [view, {"a": "1", "b": "", "c": "x=y"}, {}]
