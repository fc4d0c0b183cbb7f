"""A picture that could not be made is reported and never linked: the web copy of an item, a map thumbnail."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from generator.pipeline import stages as pipeline
from generator.settings import BuildSettings
from generator.errors import ImageError
from generator.site import mapdata

from tests import mapformat

from .helpers import write_jpeg
from .sitecheck import broken_links
from tests.helpers import site_drawings

BROKEN = "2001_6-9_0002_FRA_R_C.jpg"   # its web copy fails
BROKEN_ID = "2001_6-9_0002_FRA"


def _collection(root: Path) -> BuildSettings:
    for i in range(6):
        write_jpeg(root / "drawings" / f"2001_6-9_{i:04d}_FRA_R_C.jpg", (64, 64), seed=i)
        write_jpeg(root / "artworks" / f"a{i}.jpg", (64, 64), seed=50 + i)
    return BuildSettings(drawings=root / "drawings", artworks=root / "artworks", out=root / "site",
                         cache=root / "cache")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A build in which one drawing decodes for its vector but its web copy cannot be made."""
    root = tmp_path_factory.mktemp("missing")
    settings = _collection(root)
    real = pipeline.load_rgb

    def load_rgb(path, **kw):
        if Path(path).name == BROKEN:
            raise ImageError(path, "the picture could not be decoded", "Scan or copy it again.")
        return real(path, **kw)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "load_rgb", load_rgb)
        report = pipeline.build(settings)
    return settings, report


@pytest.mark.slow
def test_a_failed_web_copy_is_reported(built):
    _, report = built
    lines = [str(p) for p in report.problems if BROKEN in p.file]
    assert len(lines) == 1 and "published without a picture" in lines[0]
    assert report.drawings == 6  # the drawing itself is still published, with its neighbours


@pytest.mark.slow
def test_no_page_points_at_the_missing_picture(built):
    settings, _ = built
    site = settings.out
    assert broken_links(site) == []
    page = (site / "drawings" / BROKEN_ID / "index.html").read_text(encoding="utf-8")
    assert "No picture" in page and f"{BROKEN_ID}.webp" not in page
    # Lists of drawings carry links only; static/cards.js adds the thumbnails, except to items marked "no-pic".
    listed = 0
    for other in site.rglob("*.html"):
        html = other.read_text(encoding="utf-8")
        assert f"{BROKEN_ID}.thumb.webp" not in html, other
        for item in re.findall(r'<li([^>]*)><a href="[^"]*drawings/' + re.escape(BROKEN_ID) + '/index.html"', html):
            assert 'class="no-pic"' in item, other
            listed += 1
    assert listed > 0
    record = next(d for d in site_drawings(site)
                  if d["id"] == BROKEN_ID)
    assert record["image"] is None and record["thumbnail"] is None


@pytest.mark.slow
def test_the_map_shows_no_preview_for_the_missing_picture(built):
    settings, _ = built
    meta = _map_meta(settings.out)
    ids = _map_ids(settings.out)
    assert [ids[i] for i in meta["no_thumb"]] == [BROKEN_ID]


@pytest.mark.slow
def test_an_unreadable_map_thumbnail_is_reported_and_not_linked(built):
    """A thumbnail damaged in the cache: the map's atlas cannot draw it, says so, and does not link it."""
    settings, _ = built
    thumbs = sorted((settings.cache / "images").rglob("*-t.webp"))
    victim = thumbs[0]
    # A new file in its place (the first site keeps its own link to the good one).
    damaged = victim.with_suffix(".tmp")
    damaged.write_bytes(b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 40)
    os.replace(damaged, victim)
    again = settings.replace(out=settings.out.parent / "site-again")
    report = pipeline.build(again)
    lines = [str(p) for p in report.problems if p.file.startswith("thumbnail of the")]
    assert len(lines) == 1 and "the map shows a plain dot" in lines[0]
    # Only the damaged one: without the failure of the first build, the other web copy is made now.
    no_thumb = [_map_ids(again.out)[i] for i in _map_meta(again.out)["no_thumb"]]
    assert len(no_thumb) == 1 and no_thumb[0] in lines[0]


def test_an_atlas_sheet_with_a_hole_is_not_cached(tmp_path):
    good = write_jpeg(tmp_path / "good.jpg", (80, 80), seed=1)
    bad = tmp_path / "bad.webp"
    bad.write_bytes(b"not a picture")
    items = [mapdata.MapItem("d", "x", 0.1, 0.2, "X", thumb=good), mapdata.MapItem("a", "y", -0.5, 0.3, "Y", thumb=bad)]
    for _ in range(2):
        files = _write_map(tmp_path / "site", items, tmp_path / "cache")
        assert [it.id for it in files.unreadable] == ["y"] and files.atlas_computed == 2  # overview and detail
    # Kept only under a name no build looks for, so each build tries again.
    kept = sorted(p.name for p in (tmp_path / "cache" / "atlas").iterdir())
    assert len(kept) == 2 and all(name.endswith("-incomplete.webp") for name in kept)
    meta = _map_meta(tmp_path / "site")
    assert [_map_ids(tmp_path / "site")[i] for i in meta["no_thumb"]] == ["y"]


def _map_meta(site: Path) -> dict:
    text = (site / "data" / "map" / "meta.js").read_text(encoding="utf-8")
    return json.loads(re.fullmatch(r"window\.SITEGEN_MAP=(.*);\n", text, re.S).group(1))


def _map_ids(site: Path) -> list[str]:
    return mapformat.item_ids(site / "data" / "map")


def _write_map(out, items, cache):
    """The map's files as a build writes them: the pipeline arranges and makes the sheets, the pages write."""
    from generator.pipeline.derive import map_stage

    arrangement, sheets = map_stage(items, {}, cache)
    return mapdata.write_map_data(out, items, arrangement, sheets)


def test_pictures_handed_to_the_threads_in_parts_keep_each_failure_with_its_picture(tmp_path, monkeypatch):
    """The web copies are made a part at a time (not every job queued at once); a picture that cannot be read
    is still the one left out and reported, whatever part it falls in."""
    from generator.pipeline.cache import Cache
    from generator.pipeline.report import BuildReport
    from generator.pipeline.progress import no_progress

    monkeypatch.setattr(pipeline, "PICTURES_AT_ONCE", 2)
    items = []
    for i in range(7):
        path = write_jpeg(tmp_path / "in" / f"p{i}.jpg", (30, 40), seed=i)
        if i in (3, 6):
            path.write_bytes(b"not a picture")
        items.append((f"item-{i}", path, f"{i:064x}"))
    settings = BuildSettings(drawings=tmp_path / "in", artworks=tmp_path / "in", out=tmp_path / "site",
                             cache=tmp_path / "cache")
    report = BuildReport(out=settings.out)
    made = pipeline.make_derivatives(items, Cache(settings.cache), settings, no_progress, report)
    assert sorted(made) == [f"item-{i}" for i in (0, 1, 2, 4, 5)]
    assert all(thumb.is_file() and display.is_file() for thumb, display in made.values())
    assert sorted(p.file for p in report.problems if p.kind == "image") == ["in/p3.jpg", "in/p6.jpg"]
