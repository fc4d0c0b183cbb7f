"""The one CSV reader: UTF-8 with or without BOM, Windows-1252 read and reported, anything else refused."""

from __future__ import annotations

import pytest

from generator.errors import InputError
from generator.inputs.collection import load_collection
from generator.inputs.countries import load_countries
from generator.inputs.csvfile import read_csv

from .helpers import write_jpeg

CURLY = "The \u201cStarry\u201d Night \u2013 Arles, caf\u00e9"


def test_utf8_with_and_without_bom_read_the_same(tmp_path):
    text = f"file;title\nx.jpg;{CURLY}\n"
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (tmp_path / "plain.csv").write_bytes(text.encode("utf-8"))
    notes = []
    bom = read_csv(tmp_path / "bom.csv", ("file",), notes)
    assert bom == read_csv(tmp_path / "plain.csv", ("file",), notes) == [(2, {"file": "x.jpg", "title": CURLY})]
    assert notes == []


def test_windows_1252_is_read_with_its_quotes_and_reported(tmp_path):
    p = tmp_path / "artworks.csv"
    p.write_bytes(f"file;title\r\nx.jpg;{CURLY}\r\n".encode("cp1252"))
    notes = []
    rows = read_csv(p, ("file",), notes)
    assert rows[0][1]["title"] == CURLY
    assert not any(0x80 <= ord(c) < 0xA0 for c in rows[0][1]["title"])  # no control characters
    assert len(notes) == 1 and notes[0].file == str(p) and not notes[0].skipped
    assert "Windows-1252" in notes[0].reason and "CSV UTF-8" in notes[0].fix


def test_windows_1252_artworks_csv_in_a_collection(tmp_path):
    d, a = tmp_path / "d", tmp_path / "a"
    write_jpeg(d / "2009_14-17_0001_DEU_R_C.jpg", (40, 40))
    write_jpeg(a / "x.jpg", (40, 40))
    acsv, pcsv = tmp_path / "artworks.csv", tmp_path / "pairs.csv"
    acsv.write_bytes(f"file;title;artist\nx.jpg;{CURLY};Ren\u00e9\n".encode("cp1252"))
    pcsv.write_bytes("\ufeffdrawing,artwork\n2009_14-17_0001_DEU_R_C.jpg,x.jpg\n".encode("utf-8"))
    coll = load_collection(d, a, acsv, pcsv)
    assert (coll.artworks[0].title, coll.artworks[0].artist) == (CURLY, "Ren\u00e9")
    assert coll.pairs == [("2009_14-17_0001_DEU", "x")]
    assert [p.file for p in coll.problems if p.kind == "encoding"] == [str(acsv)]


def test_windows_1252_countries_file_is_reported(tmp_path):
    p = tmp_path / "countries.csv"
    p.write_bytes("code,name\nCIV,C\xf4te d\u2019Ivoire\n".encode("cp1252"))
    notes = []
    assert load_countries(p, notes).name("CIV") == "C\xf4te d\u2019Ivoire"
    assert [n.kind for n in notes] == ["encoding"]


@pytest.mark.parametrize("raw, words", [
    (b"code,name\nXEN,\x81\x8d\n", "line 2: the file is not UTF-8 text"),  # bytes Windows-1252 does not use
    ("code,name\nXEN,Xenia\n".encode("utf-16"), "not a text CSV file"),
])
def test_other_encodings_stop_with_the_fix(tmp_path, raw, words):
    p = tmp_path / "odd.csv"
    p.write_bytes(raw)
    with pytest.raises(InputError) as err:
        read_csv(p, ("code",), [])
    assert str(p) in str(err.value) and words in str(err.value) and "CSV UTF-8" in str(err.value)


def test_broken_quotes_name_the_line(tmp_path):
    p = tmp_path / "pairs.csv"
    p.write_text('drawing,artwork\na.jpg,b.jpg\n"c.jpg,d.jpg\ne.jpg,f.jpg\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"pairs\.csv line 3: .*quotes"):
        read_csv(p, ("drawing", "artwork"), [])


def test_train_and_evaluate_show_the_note_about_their_pairs_file(tmp_path, capsys):
    from generator.cli.model_commands import _index_pairs

    d, a = tmp_path / "d", tmp_path / "a"
    write_jpeg(d / "caf\u00e9_1.jpg", (40, 40))
    write_jpeg(a / "x.jpg", (40, 40))
    pcsv = tmp_path / "pairs.csv"
    pcsv.write_bytes("drawing,artwork\ncaf\u00e9_1.jpg,x.jpg\n".encode("cp1252"))
    _, _, index_pairs, _ = _index_pairs(d, a, pcsv)
    assert index_pairs == [(0, 0)]  # the accented name was read right
    err = capsys.readouterr().err
    assert str(pcsv) in err and "Windows-1252" in err
