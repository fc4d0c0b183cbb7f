"""End-to-end builds of the demo collection and of the real pictures in ../shared/data."""

import filecmp
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch  # noqa: F401  loaded: the session's demo site is then built with every stage in the test process

from generator.pipeline.stages import build

from .conftest import demo_settings
from .helpers import neighbour_rows
from .sitecheck import broken_links
from tests.helpers import site_artworks, site_drawings, site_layout

pytestmark = pytest.mark.slow


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_demo_site_pages_exist(built_demo):
    settings, report, out = built_demo
    drawings = site_drawings(out)
    artworks = site_artworks(out)
    assert len(drawings) == report.drawings >= 300 and len(artworks) == report.artworks >= 60
    for d in drawings:
        assert (out / d["page"]).is_file() and (out / d["thumbnail"]).is_file() and (out / d["image"]).is_file()
    for a in artworks:
        assert (out / a["page"]).is_file()
    for page in ("index.html", "map/index.html", "data/index.html", "countries/index.html", "years/index.html",
                 "ages/index.html", "countries/unknown/index.html"):
        assert (out / page).is_file(), page


def test_every_internal_link_resolves(built_demo):
    _, _, out = built_demo
    assert broken_links(out) == []


def test_json_files_have_version_and_shape(built_demo):
    _, _, out = built_demo
    files = sorted((out / "data").rglob("*.json"))
    assert len(files) >= 10
    for f in files:
        if f.parent.name == "schemas" or f.name == "datapackage.json":
            continue
        data = json.loads(f.read_text())
        assert data["schema_version"] == 1, f
    ranks = {}
    for d, rank, a, sim in neighbour_rows(out):
        assert -1.0 <= sim <= 1.0
        ranks.setdefault(d, []).append(rank)
    assert all(r == list(range(1, 11)) for r in ranks.values())
    assert all(-1 <= x <= 1 and -1 <= y <= 1 for x, y in site_layout(out).values())


def test_no_back_scan_is_published(built_demo, demo_dir):
    _, _, out = built_demo
    versos = [p.name for p in (demo_dir / "drawings").rglob("*") if "_V_" in p.name]
    assert versos, "the demo should contain back scans"
    for f in out.rglob("*"):
        if f.is_file() and f.suffix in (".html", ".json", ".js", ".csv", ".xml", ".txt"):
            text = f.read_text(encoding="utf-8")
            for v in versos:
                assert Path(v).stem not in text, (f, v)
    # The published picture of each drawing is its front, never its back.
    import numpy as np
    from PIL import Image

    def small(path):
        with Image.open(path) as im:
            return np.asarray(im.convert("L").resize((32, 32)), dtype=np.float32)

    for v in versos:
        drawing_id = v.rsplit("_V_", 1)[0]
        fronts = sorted((demo_dir / "drawings").glob(drawing_id + "_R_*"))
        published = out / "images" / "drawings" / f"{drawing_id}.webp"
        assert fronts and published.is_file()
        back = small(demo_dir / "drawings" / v)
        shown = small(published)
        assert np.abs(shown - small(fronts[-1])).mean() < np.abs(shown - back).mean(), v


def test_known_recreations_rank_in_top_10(built_demo):
    _, _, out = built_demo
    pairs = json.loads((out / "data/pairs.json").read_text())["rows"]
    top = {}
    for d, rank, a, _ in neighbour_rows(out):
        top.setdefault(d, set()).add(a)
    hits = sum(a in top[d] for d, a, _source in pairs)
    rate = hits / len(pairs)
    print(f"demo: {hits}/{len(pairs)} known re-creations have their artwork in the top 10 ({rate:.1%})")
    assert len(pairs) >= 100 and rate >= 0.80


def test_second_build_recomputes_nothing_and_is_identical(built_demo, tmp_path):
    settings, _, out = built_demo
    before = _tree(out)
    again = build(settings)
    assert {"embeddings", "neighbours", "layout", "images"} <= set(again.computed)
    assert set(again.computed.values()) == {0}, again.computed
    assert _tree(out) == before


def test_fresh_build_is_byte_identical(built_demo, demo_dir, tmp_path):
    """A build with an empty cache gives the same bytes as the first one."""
    _, _, out = built_demo
    settings = demo_settings(demo_dir, tmp_path)
    build(settings)
    cmp = filecmp.dircmp(out, settings.out)
    assert _tree(settings.out) == _tree(out), cmp.report_full_closure()


def test_the_build_process_never_loads_the_network_and_gives_the_same_site(built_demo, demo_dir, tmp_path):
    """A fresh build, in a fresh process: the build's own process never loads the network library. The pictures'
    vectors, the searches, the map, the groups and the find page's model are made in forked processes, which take
    the libraries and their buffers away with them. The site is the same, byte for byte, as the session's demo site,
    built in this test process, which has the library loaded (so every stage ran in it)."""
    settings, _, out = built_demo
    work = tmp_path / "work"
    script = ("import json, sys\n"
              "from pathlib import Path\n"
              "from generator.pipeline.stages import build\n"
              "from tests.conftest import demo_settings\n"
              f"report = build(demo_settings(Path({str(demo_dir)!r}), Path({str(work)!r})))\n"
              "print(json.dumps({'torch': 'torch' in sys.modules, 'computed': report.computed}))\n")
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["torch"] is False
    computed = seen["computed"]
    assert computed["embeddings"] > 0 and computed["neighbours"] == computed["layout"] == computed["groups"] == 1
    assert computed["browser_model"] == 1
    assert _tree(work / "site") == _tree(out)


def test_real_pictures_build(shared_data, tmp_path):
    from generator.settings import BuildSettings

    settings = BuildSettings(drawings=shared_data / "children-drawings", artworks=shared_data / "artworks-pd/images",
                             artworks_csv=shared_data / "artworks-pd/artworks.csv", out=tmp_path / "site",
                             cache=tmp_path / "cache")
    report = build(settings)
    assert report.drawings == 7 and report.artworks == 176
    out = settings.out
    artworks = site_artworks(out)
    mona = next(a for a in artworks if a["file"] == "wmb_mona-lisa.jpg")
    assert mona["title"] == "Mona Lisa" and mona["artist"] == "Leonardo da Vinci"
    page = (out / mona["page"]).read_text()
    assert "Mona Lisa" in page and "Leonardo da Vinci" in page
    assert broken_links(out) == []
    assert "/work" not in (out / "data/drawings.csv").read_text()
    again = build(settings)
    assert again.computed["embeddings"] == 0
