"""Decisions feed the build: confirmed pairs join the pairs with their source, rejected suggestions leave the
lists (the next one moves up) and the data download lists them; a changed decisions file rebuilds what it
affects; bad lines are in the build report."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from generator.settings import BuildSettings
from generator.pipeline.stages import build

from .helpers import neighbour_rows, related_entry, write_jpeg
from .sitecheck import broken_links

pytestmark = pytest.mark.slow


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    """(collection root, settings, neighbour rows) of a build without decisions."""
    root = tmp_path_factory.mktemp("decisions")
    for i in range(14):
        write_jpeg(root / "drawings" / f"2001_6-9_{i:04d}_FRA_R_C.jpg", (80, 60), seed=i)
    for i in range(10):
        write_jpeg(root / "artworks" / f"art_{i}.jpg", (80, 80), seed=100 + i)
    (root / "pairs.csv").write_text("drawing,artwork\n2001_6-9_0000_FRA_R_C.jpg,art_0.jpg\n")
    settings = BuildSettings(drawings=root / "drawings", artworks=root / "artworks", pairs=root / "pairs.csv",
                             out=root / "site", cache=root / "cache", top_k=4)
    build(settings)
    return root, settings, neighbour_rows(settings.out)


def _suggested(rows, drawing: str) -> list[str]:
    return [a for d, _, a, _ in sorted(rows, key=lambda r: r[1]) if d == drawing]


def test_decisions_change_pairs_suggestions_and_data(first):
    root, settings, before = first
    d1, d2 = "2001_6-9_0001_FRA", "2001_6-9_0002_FRA"
    confirm, reject = _suggested(before, d1)[1], _suggested(before, d2)[0]
    decisions = root / "decisions.csv"
    decisions.write_text("drawing,artwork,decision,note\n"
                         f"{d1},{confirm},confirmed,\n{d2},{reject},rejected,looks alike only\n"
                         "2001_6-9_0000_FRA,art_0,rejected,\n2001_6-9_0099_FRA,art_1,confirmed,\n")
    s = settings.replace(decisions=(decisions,))
    report = build(s)
    assert "Review decisions: 1 re-creation confirmed in a review, 1 suggestion rejected and no longer shown " \
           "(listed in data/rejected.csv)." in report.lines()
    lines = [str(p) for p in report.problems if p.kind == "decision"]
    assert any(ln.startswith(f"{decisions} line 5: no published drawing has the identifier '2001_6-9_0099_FRA'")
               for ln in lines), lines
    assert any(ln.startswith(f"{settings.pairs}: 2001_6-9_0000_FRA and art_0 are confirmed there but rejected")
               for ln in lines), lines

    assert _rows(s.out / "data/pairs.csv") == [
        {"drawing": "2001_6-9_0000_FRA", "artwork": "art_0", "source": "archive"},
        {"drawing": d1, "artwork": confirm, "source": "review"}]
    assert _rows(s.out / "data/rejected.csv") == [{"drawing": d2, "artwork": reject}]
    assert "looks alike only" not in (s.out / "data/rejected.csv").read_text(), "notes are never published"

    after = neighbour_rows(s.out)
    deeper = _deeper(s, d2)
    assert _suggested(after, d2) == [a for a in _suggested(deeper, d2) if a != reject][:4]
    assert reject not in _suggested(after, d2) and len(_suggested(after, d2)) == 4, "the next one moved up"
    assert [r for r in after if r[0] not in (d2,)] == [r for r in before if r[0] not in (d2,)]
    page = (s.out / "drawings" / d2 / "index.html").read_text()
    assert f"artworks/{reject}/index.html" not in page
    assert related_entry(s.out, d2)["artworks"] == _suggested(after, d2), "the list under the page moved up too"
    assert f'data-pair="{d1} {confirm}"' not in (s.out / "drawings" / d1 / "index.html").read_text(), \
        "a confirmed pair is not offered for review"
    assert f"drawings/{d1}/index.html" in (s.out / "artworks" / confirm / "index.html").read_text()

    data_page = (s.out / "data/index.html").read_text()
    assert "drawing,artwork,decision,note" in data_page and 'href="schemas/decisions.schema.json"' in data_page
    assert (s.out / "data/schemas/decisions.schema.json").is_file()
    assert broken_links(s.out) == []

    again = build(s)
    assert again.computed["neighbours"] == 0 and again.computed["pages"] == 0, "nothing changed"


def _deeper(settings: BuildSettings, drawing: str):
    """The drawing's neighbour rows of a build listing more artworks (to see which one moves up)."""
    wide = settings.replace(decisions=None, top_k=8, out=settings.out.parent / "site-wide")
    build(wide)
    return neighbour_rows(wide.out)


def test_a_changed_decisions_file_rebuilds_what_it_affects(first):
    root, settings, before = first
    d3 = "2001_6-9_0003_FRA"
    decisions = root / "changing.csv"
    s = settings.replace(decisions=(decisions,), out=root / "site-changing")
    decisions.write_text(f"drawing,artwork,decision\n{d3},{_suggested(before, d3)[0]},rejected\n")
    build(s)
    assert _suggested(neighbour_rows(s.out), d3)[:3] == _suggested(before, d3)[1:4]
    # Same path, new content: undoing the rejection brings the suggestion back.
    decisions.write_text(f"drawing,artwork,decision\n{d3},{_suggested(before, d3)[0]},confirmed\n")
    changed = build(s)
    assert changed.computed["pages"] > 0  # the lists without the rejection come back from the cache
    assert _suggested(neighbour_rows(s.out), d3) == _suggested(before, d3)
    assert {"drawing": d3, "artwork": _suggested(before, d3)[0], "source": "review"} in _rows(s.out / "data/pairs.csv")


def test_decisions_win_removes_the_archive_pair(first):
    root, settings, _ = first
    decisions = root / "win.csv"
    decisions.write_text("drawing,artwork,decision\n2001_6-9_0000_FRA,art_0,rejected\n")
    s = settings.replace(decisions=(decisions,), decisions_win=True, out=root / "site-win")
    report = build(s)
    assert _rows(s.out / "data/pairs.csv") == []
    assert _rows(s.out / "data/rejected.csv") == [{"drawing": "2001_6-9_0000_FRA", "artwork": "art_0"}]
    assert "art_0" not in _suggested(neighbour_rows(s.out), "2001_6-9_0000_FRA")
    assert any("the rejection is used (--decisions-win)" in p.reason for p in report.problems)


def test_the_same_decisions_give_a_byte_identical_site(first):
    root, settings, _ = first
    decisions = root / "same.csv"
    decisions.write_text("drawing,artwork,decision\n2001_6-9_0004_FRA,art_3,rejected\n"
                         "2001_6-9_0005_FRA,art_2,confirmed\n")
    one, two = (settings.replace(decisions=(decisions,), out=root / name) for name in ("site-one", "site-two"))
    build(one)
    build(two)
    files = sorted(p.relative_to(one.out) for p in one.out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two.out) for p in two.out.rglob("*") if p.is_file())
    assert [f for f in files if (one.out / f).read_bytes() != (two.out / f).read_bytes()] == []
