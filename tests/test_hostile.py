"""Hostile and unusual files: each is skipped with a clear report line, or (when valid) works."""

from __future__ import annotations

import io
import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generator.inputs import images
from generator.settings import BuildSettings
from generator.errors import ImageError, InputError, UnsafePathError
from generator.inputs.images import load_rgb
from generator.pipeline.stages import BuildReport, build
from generator.inputs.problems import Problem

from .helpers import write_jpeg
from .sitecheck import broken_links
from tests.helpers import site_artworks, site_drawings

XSS_TITLE = "<script>alert(1)</script>"
XSS_TITLE2 = '"></a><img src=x onerror=alert(1)>'


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A tiny PNG that claims to be enormous (a decompression bomb)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = zlib.compress(b"\x00" * 1000)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def make_hostile(root: Path) -> dict[str, Path]:
    """Write one file per case; returns name -> path."""
    d = root / "drawings"
    d.mkdir(parents=True)
    files = {}
    files["ok"] = write_jpeg(d / "2009_14-17_0001_DEU_R_C.jpg", (120, 90), seed=1)
    files["zero"] = d / "2009_14-17_0002_DEU_R_C.jpg"
    files["zero"].write_bytes(b"")
    good = io.BytesIO()
    Image.fromarray(np.random.default_rng(2).integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(good, "JPEG")
    files["truncated"] = d / "2009_14-17_0003_DEU_R_C.jpg"
    files["truncated"].write_bytes(good.getvalue()[: len(good.getvalue()) // 2])
    files["corrupt"] = d / "2009_14-17_0004_DEU_R_C.jpg"
    # A JPEG signature then noise: seeded, since some noise makes the file unrecognisable rather than damaged.
    files["corrupt"].write_bytes(b"\xff\xd8\xff\xe0" + np.random.default_rng(4).bytes(2000))
    files["html"] = d / "2009_14-17_0005_DEU_R_C.jpg"
    files["html"].write_text("<html><body>not a picture</body></html>")
    files["bomb"] = d / "2009_14-17_0006_DEU_R_C.png"
    _png_header_only(files["bomb"], 30000, 30000)
    files["cmyk"] = write_jpeg(d / "2009_14-17_0007_FRA_R_C.jpg", (80, 60), seed=3, mode="CMYK")
    arr16 = (np.linspace(0, 65535, 64 * 48).reshape(48, 64)).astype(np.uint16)
    files["16bit"] = d / "2009_14-17_0008_FRA_R_C.png"
    Image.fromarray(arr16).save(files["16bit"])
    pal = Image.new("P", (50, 40), 0)
    pal.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    pal.paste(1, (10, 10, 30, 30))
    files["palette"] = d / "2009_14-17_0009_FRA_R_C.png"
    pal.save(files["palette"], transparency=0)
    files["grey"] = write_jpeg(d / "2009_14-17_0010_FRA_R_C.jpg", (70, 50), seed=4, mode="L")
    rot = Image.new("RGB", (100, 50), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    exif[0x010F] = "SecretCam"
    files["exif"] = d / "2009_14-17_0011_FRA_R_C.jpg"
    rot.save(files["exif"], exif=exif, comment=b"child: Jane Doe")
    frames = [Image.new("RGB", (40, 40), c) for c in ((0, 200, 0), (0, 0, 200))]
    files["gif"] = d / "2009_14-17_0012_FRA_R_C.gif"
    frames[0].save(files["gif"], save_all=True, append_images=frames[1:], duration=100, loop=0)
    files["spaces"] = write_jpeg(d / "my drawing école 横浜.jpg", (60, 60), seed=5)
    files["htmlname"] = write_jpeg(d / "<b>&amp;'x'.jpg", (60, 60), seed=6)
    files["dup1"] = write_jpeg(d / "2009_14-17_0013_FRA_R_C.jpg", (60, 60), seed=7)
    files["dup2"] = write_jpeg(d / "sub" / "2009_14-17_0013_FRA_R_C.png", (60, 60), seed=8, fmt="PNG")
    loop = d / "sub" / "loop"
    loop.symlink_to(d, target_is_directory=True)
    (d / "up").symlink_to("..", target_is_directory=True)  # leaves the drawings folder: to the artworks
    a = root / "artworks"
    files["art1"] = write_jpeg(a / "Jane_Painter" / "Jane_Painter_1.jpg", (90, 90), seed=10)
    files["art2"] = write_jpeg(a / "Jane_Painter" / "Jane_Painter_2.jpg", (90, 90), seed=11)
    files["art3"] = write_jpeg(a / "other.jpg", (90, 90), seed=12)
    (root / "artworks.csv").write_text(
        "\ufefffile;title;artist;year\n"
        f"Jane_Painter/Jane_Painter_1.jpg;{XSS_TITLE};Jane Painter;1901\n"
        f"Jane_Painter_2.jpg;\"{XSS_TITLE2.replace(chr(34), chr(34) * 2)}\";Jane Painter;1902\n"
        "../../etc/passwd;Escape;x;1\n/etc/hostname;Absolute;x;1\n", encoding="utf-8")
    (root / "pairs.csv").write_text("drawing,artwork\r\n2009_14-17_0001_DEU_R_C.jpg,other.jpg\r\n"
                                    "2009_14-17_9999_DEU_R_C.jpg,other.jpg\r\n", encoding="utf-8")
    return files


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    files = make_hostile(root)
    settings = BuildSettings(drawings=root / "drawings", artworks=root / "artworks",
                             artworks_csv=root / "artworks.csv", pairs=root / "pairs.csv",
                             out=root / "out" / "site", cache=root / "cache")
    report = build(settings)
    return root, files, settings, report


@pytest.mark.slow
@pytest.mark.parametrize("case, reason", [
    ("zero", "empty"), ("truncated", "damaged or truncated"), ("corrupt", "damaged"),
    ("html", "not a picture"), ("bomb", "above the limit"),
])
def test_bad_pictures_are_reported_and_skipped(hostile_build, case, reason):
    root, files, settings, report = hostile_build
    name = files[case].name
    lines = [str(p) for p in report.problems if name in p.file]
    assert lines and reason in lines[0], lines
    ids = {d["id"] for d in site_drawings(settings.out)}
    assert Path(name).stem.rsplit("_R_", 1)[0] not in ids


@pytest.mark.slow
@pytest.mark.parametrize("case", ["cmyk", "16bit", "palette", "grey", "exif", "gif"])
def test_unusual_but_valid_pictures_work(hostile_build, case):
    root, files, settings, report = hostile_build
    stem = files[case].stem.rsplit("_R_", 1)[0]
    img_path = settings.out / "images" / "drawings" / f"{stem}.webp"
    assert img_path.is_file()
    with Image.open(img_path) as im:
        assert im.mode == "RGB"
        assert not im.info.get("exif") and not im.info.get("xmp") and not im.info.get("icc_profile")
        if case == "exif":
            assert im.size[1] > im.size[0]  # shown upright: the stored 100 x 50 becomes 50 x 100
        if case == "gif":
            assert im.getpixel((20, 20))[1] > 150  # the first (green) frame


def test_decode_errors_name_the_fix(tmp_path, monkeypatch):
    p = write_jpeg(tmp_path / "x.jpg")
    real_open = open

    def deny(path, *a, **k):
        if str(path) == str(p):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *a, **k)

    monkeypatch.setattr(images, "open", deny, raising=False)
    with pytest.raises(ImageError) as err:
        load_rgb(p)
    assert "permission denied" in err.value.reason and "read permission" in err.value.fix


@pytest.mark.slow
def test_odd_names_get_safe_pages(hostile_build):
    root, files, settings, report = hostile_build
    drawings = site_drawings(settings.out)
    names = {d["file"] for d in drawings}
    assert "my drawing école 横浜.jpg" in names and "<b>&amp;'x'.jpg" in names
    for d in drawings:
        assert all(c.isascii() and (c.isalnum() or c in "-_") for c in d["id"])
    assert broken_links(settings.out) == []


@pytest.mark.slow
def test_same_id_twice_is_reported(hostile_build):
    _, _, _, report = hostile_build
    assert any("2009_14-17_0013_FRA_R_C" in p.file and "same drawing" in p.reason for p in report.problems)


@pytest.mark.slow
def test_symlink_loop_is_reported(hostile_build):
    _, _, _, report = hostile_build
    assert any("loop" in p.reason for p in report.problems)


@pytest.mark.slow
def test_a_link_out_of_the_drawings_folder_publishes_nothing_from_outside(hostile_build):
    root, _, settings, report = hostile_build
    files = [d["file"] for d in site_drawings(settings.out)]
    assert files and not any(f.startswith("up/") or "Jane_Painter" in f or f == "other.jpg" for f in files)
    line = next(p for p in report.problems if p.file == "up")
    assert "outside" in line.reason and "loop" not in line.reason and line.skipped


@pytest.mark.slow
def test_console_shows_the_skipped_pictures_before_the_notes(hostile_build):
    _, files, _, report = hostile_build
    lines = report.lines()
    skipped_at = lines.index(next(ln for ln in lines if ln.startswith("Skipped")))
    notes_at = lines.index(next(ln for ln in lines if ln.startswith("Notes")))
    for case in ("zero", "truncated", "html", "bomb"):
        at = next(i for i, ln in enumerate(lines) if files[case].name in ln)
        assert skipped_at < at < notes_at, (case, lines)


def test_report_lists_skipped_files_before_notes_with_counts():
    notes = [Problem(f"IMG_{i}.jpg", "the name does not follow the pattern", "Rename it.", kind="name",
                     skipped=False) for i in range(12)]
    link = Problem("up", "this folder is a link to a folder outside", "Copy.", kind="link")
    pictures = [Problem(f"2009_14-17_000{i}_DEU_R_C.jpg", "the file is empty", "Scan it again.", kind="image")
                for i in range(3)]
    skipped = pictures + [link]  # pictures to scan again come first, whatever the scan order
    lines = BuildReport(problems=notes[:6] + [link] + pictures + notes[6:], report_file=Path("r.txt")).lines()
    start = lines.index("16 files need attention:")
    assert lines[start + 1] == "Skipped (not published): 4 (pictures: 3, links: 1)"
    assert lines[start + 2:start + 6] == [f"  - {p}" for p in skipped]
    assert lines[start + 6] == "Notes (published all the same): 12 (file names: 12)"
    assert lines[start + 7:start + 17] == [f"  - {p}" for p in notes[:10]]
    assert lines[start + 17] == "  ... and 2 more in r.txt"


@pytest.mark.slow
def test_metadata_is_text_never_markup(hostile_build):
    _, _, settings, _ = hostile_build
    out = settings.out
    for page in out.rglob("*.html"):
        html = page.read_text()
        assert "<script>alert" not in html and "<img src=x" not in html, page
    arts = site_artworks(out)
    titles = {a["title"] for a in arts}
    assert XSS_TITLE in titles and XSS_TITLE2 in titles
    page = next(out / a["page"] for a in arts if a["title"] == XSS_TITLE)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.read_text()
    for js in out.rglob("*.js"):
        assert "</script" not in js.read_text().lower().replace("<\\/script", "")


@pytest.mark.slow
def test_csv_paths_cannot_escape(hostile_build):
    _, _, _, report = hostile_build
    text = "\n".join(map(str, report.problems))
    assert "'../../etc/passwd' points outside" in text and "'/etc/hostname' is an absolute path" in text
    assert text.count("Name files relative") == 2  # one piece of advice per line
    assert "2009_14-17_9999_DEU_R_C.jpg" in text  # pairs.csv naming a missing file


@pytest.mark.slow
def test_no_local_paths_or_external_hosts(hostile_build):
    root, _, settings, _ = hostile_build
    for f in settings.out.rglob("*"):
        if f.suffix in (".html", ".json", ".js", ".css", ".csv", ".txt", ".xml"):
            text = f.read_text(encoding="utf-8")
            assert str(root) not in text and os.path.expanduser("~") + "/" not in text, f
            if f.suffix == ".html":
                assert "Content-Security-Policy" in text
                for bad in ('src="http', "src='http", 'href="http://', "url(http", "@import"):
                    assert bad not in text, (f, bad)


def test_strict_stops(tmp_path):
    make_hostile(tmp_path)
    settings = BuildSettings(drawings=tmp_path / "drawings", artworks=tmp_path / "artworks",
                             out=tmp_path / "site", cache=tmp_path / "cache", strict=True)
    with pytest.raises(InputError, match="--strict is on"):
        build(settings)
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("out_rel", [".", "drawings", "drawings/site", ".."])
def test_output_over_inputs_is_refused(tmp_path, out_rel):
    d = tmp_path / "drawings"
    write_jpeg(d / "a.jpg")
    write_jpeg(tmp_path / "artworks" / "b.jpg")
    settings = BuildSettings(drawings=d, artworks=tmp_path / "artworks", out=tmp_path / out_rel,
                             cache=tmp_path / "cache-x")
    with pytest.raises(UnsafePathError):
        build(settings)
    assert (d / "a.jpg").is_file()
