"""The file-name grammar and the scanning of collections."""

import pytest

from generator.inputs.collection import load_collection, parse_drawing_name, slugify
from generator.errors import InputError

from .helpers import write_jpeg


@pytest.mark.parametrize("stem, expected", [
    ("2009_14-17_1234_DEU_R_C", (2009, "14-17", "1234", "DEU", None, "R", "C", "2009_14-17_1234_DEU")),
    ("2018_14-17_1653_SGP_a_R_C", (2018, "14-17", "1653", "SGP", "a", "R", "C", "2018_14-17_1653_SGP_a")),
    ("2010_MS_0981_FRA_R_C", (2010, "MS", "0981", "FRA", None, "R", "C", "2010_MS_0981_FRA")),
    ("1994_3-5_0001_LBA_V_A", (1994, "3-5", "0001", "LBA", None, "V", "A", "1994_3-5_0001_LBA")),
    ("2020_18-25_77_bra_r_c", (2020, "18-25", "77", "BRA", None, "R", "C", "2020_18-25_77_BRA")),
])
def test_imaj_names(stem, expected):
    n = parse_drawing_name(stem)
    assert (n.year, n.age_group, n.number, n.country, n.variant, n.side, n.quality, n.drawing_id) == expected


@pytest.mark.parametrize("stem", ["IMG_2231", "2009_99-99_12_DEU_R_C", "2009_14-17_1234_DEU_R", "scan 0042",
                                  "2009_14-17_1234_DEUT_R_C", "2009_14-17_1234_DEU_X_C", ""])
def test_nonconforming_names(stem):
    assert parse_drawing_name(stem) is None


def test_slugs_are_safe():
    for text in ["../../etc/passwd", "<script>", "a b c", "日本語の絵", "é"]:
        s = slugify(text)
        assert s and all(c.isalnum() and c.isascii() or c in "-_" for c in s)


def test_scan_keeps_recto_best_quality_and_reports(tmp_path):
    d = tmp_path / "drawings"
    a = tmp_path / "artworks"
    write_jpeg(d / "2009_14-17_1234_DEU_R_C.jpg", (100, 80))
    write_jpeg(d / "2009_14-17_1234_DEU_R_A.jpg", (200, 160))
    write_jpeg(d / "2009_14-17_1234_DEU_V_C.jpg", (100, 80))
    write_jpeg(d / "sub" / "IMG_2231.jpg", (50, 50))
    write_jpeg(d / "2001_6-9_0001_XYZ_R_C.jpg", (50, 50))
    (d / "notes.txt").write_text("hello")
    write_jpeg(a / "Claude_Monet" / "Claude_Monet_1.jpg", (60, 60))
    (a / "artworks.csv").write_text("")  # not an image: ignored
    coll = load_collection(d, a)
    ids = [x.id for x in coll.drawings]
    assert ids == ["2001_6-9_0001_XYZ", "2009_14-17_1234_DEU", "img_2231"]
    best = coll.drawings[1]
    assert best.quality == "A" and best.other_scans == ("2009_14-17_1234_DEU_R_C.jpg",)
    assert coll.verso_skipped == 1
    assert coll.nonconforming == ["sub/IMG_2231.jpg"]
    assert coll.artworks[0].artist == "Claude Monet"
    assert coll.artworks[0].title == "Claude Monet, no. 1"
    assert any("IMG_2231" in p.file for p in coll.problems)


def test_missing_folder_is_clear(tmp_path):
    with pytest.raises(InputError, match="The drawings folder .* does not exist"):
        load_collection(tmp_path / "nope", tmp_path)


def test_pairs_and_artworks_csv(tmp_path):
    d, a = tmp_path / "d", tmp_path / "a"
    write_jpeg(d / "2009_14-17_1234_DEU_R_C.jpg", (40, 40))
    write_jpeg(a / "x" / "one.jpg", (40, 40))
    write_jpeg(a / "two.jpg", (40, 40))
    acsv = tmp_path / "artworks.csv"
    acsv.write_text("\ufefffile;title;artist;year;museum\none.jpg;Le Déjeuner;Édouard Manet;1863;Orsay\n"
                    "../../etc/passwd;Bad;x;1;\nmissing.jpg;Gone;x;1;\n", encoding="utf-8")
    pcsv = tmp_path / "pairs.csv"
    pcsv.write_text("drawing,artwork\n2009_14-17_1234_DEU_R_C.jpg,x/one.jpg\n2009_14-17_1234_DEU_V_C.jpg,two.jpg\n"
                    "2009_14-17_1234_DEU,/etc/passwd\n")
    coll = load_collection(d, a, acsv, pcsv)
    one = next(x for x in coll.artworks if x.rel == "x/one.jpg")
    assert (one.title, one.artist, one.year, one.extra) == ("Le Déjeuner", "Édouard Manet", "1863",
                                                            (("museum", "Orsay"),))
    assert coll.pairs == [("2009_14-17_1234_DEU", one.id)]
    text = "\n".join(map(str, coll.problems))
    assert "points outside" in text and "missing.jpg" in text and "absolute path" in text
    assert "never published" in text  # the verso named in pairs.csv


def test_csv_missing_column(tmp_path):
    d, a = tmp_path / "d", tmp_path / "a"
    write_jpeg(d / "x.jpg", (40, 40))
    write_jpeg(a / "y.jpg", (40, 40))
    p = tmp_path / "pairs.csv"
    p.write_text("drawing,painting\nx.jpg,y.jpg\n")
    with pytest.raises(InputError) as err:
        load_collection(d, a, None, p)
    assert str(err.value) == (f"{p} has no column 'artwork' (found: drawing, painting). The first line must name "
                              "the columns drawing, artwork.")


def test_two_files_with_one_page_id_are_reported(tmp_path):
    d, a = tmp_path / "d", tmp_path / "a"
    write_jpeg(d / "Drawing A.jpg", (40, 40))
    write_jpeg(d / "drawing-a.png", (40, 40))
    write_jpeg(a / "y.jpg", (40, 40))
    coll = load_collection(d, a)
    assert sorted(x.id for x in coll.drawings) == ["drawing-a", "drawing-a-2"]
    assert any("already has the page id 'drawing-a'" in p.reason for p in coll.problems)


def test_a_drawing_known_only_by_its_back_gets_no_page(tmp_path):
    d, a = tmp_path / "d", tmp_path / "a"
    write_jpeg(d / "2005_10-13_0077_KEN_V_C.jpg", (40, 40))
    write_jpeg(d / "2005_10-13_0078_KEN_verso.jpg", (40, 40))
    write_jpeg(a / "y.jpg", (40, 40))
    coll = load_collection(d, a)
    assert coll.drawings == [] and coll.verso_skipped == 2


def test_a_folder_link_leaving_the_drawings_folder_is_not_followed(tmp_path):
    d, a = tmp_path / "drawings", tmp_path / "artworks"
    write_jpeg(d / "2009_14-17_0001_DEU_R_C.jpg", (40, 40))
    for i in range(10):
        write_jpeg(a / "Jane_Painter" / f"Jane_Painter_{i}.jpg", (40, 40), seed=i)
    (d / "loop").symlink_to("..", target_is_directory=True)          # drawings/loop -> ..
    (d / "sub").mkdir()
    (d / "sub" / "art").symlink_to(a, target_is_directory=True)       # an absolute link out
    (d / "sub" / "again").symlink_to(d, target_is_directory=True)     # a link back inside: a loop
    coll = load_collection(d, a)
    assert [x.rel for x in coll.drawings] == ["2009_14-17_0001_DEU_R_C.jpg"]
    assert all(x.path.resolve().is_relative_to(d.resolve()) for x in coll.drawings)
    by_file = {p.file: p for p in coll.problems}
    for rel in ("loop", "sub/art"):
        assert "link to a folder outside" in by_file[rel].reason and by_file[rel].skipped
    assert "loop" not in by_file["loop"].reason  # it is not a loop: it leaves the folder
    assert any("a loop" in p.reason for p in coll.problems if p.file.startswith("sub/again"))


def test_a_file_link_leaving_the_folder_is_reported(tmp_path):
    d, a = tmp_path / "drawings", tmp_path / "artworks"
    outside = write_jpeg(tmp_path / "elsewhere" / "secret.jpg", (40, 40))
    write_jpeg(a / "y.jpg", (40, 40))
    d.mkdir()
    (d / "2009_14-17_0001_DEU_R_C.jpg").symlink_to(outside)
    coll = load_collection(d, a)
    assert coll.drawings == []
    assert [p.reason for p in coll.problems] == ["this link points outside the folder"]


def test_report_lines_say_what_is_left_out_and_what_is_only_a_note(tmp_path):
    d, a = tmp_path / "d", tmp_path / "a"
    write_jpeg(d / "IMG_0001.jpg", (40, 40))                      # published, unknown details: a note
    write_jpeg(d / "2009_14-17_0001_DEU_V_C.jpg", (40, 40))       # a back: never published, no line
    write_jpeg(d / "scan 3 verso.jpg", (40, 40))                  # looks like a back: left out
    write_jpeg(a / "y.jpg", (40, 40))
    coll = load_collection(d, a)
    assert {p.file: p.skipped for p in coll.problems} == {"IMG_0001.jpg": False, "scan 3 verso.jpg": True}
