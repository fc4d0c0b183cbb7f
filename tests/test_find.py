"""The find page's files: the exported model (small, deterministic, checked, cached), the artworks' compact
index, the page's policy and the links to it."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from generator.ml.findindex import CompactIndex, compact_index, principal_axes, quantise_rows, top_overlap
from tests.helpers import site_artworks


def _clustered(n: int, dim: int, groups: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(groups, dim))
    x = centres[rng.integers(0, groups, n)] + 0.6 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_compact_index_keeps_the_ranking_and_says_how_well():
    artworks, drawings = _clustered(600, 96, 12, 0), _clustered(300, 96, 12, 1)
    index = compact_index(artworks, drawings, axes_tried=(8, 32), target=0.97)
    exact = drawings @ artworks.T
    measured = top_overlap(exact[::1], index.scores(drawings))
    assert index.overlap == pytest.approx(measured) and index.queries == 300
    assert index.overlap >= 0.97 or index.dims == 96  # the target, or every axis
    # The similarity shown is close to the cosine itself, not only in the same order.
    assert np.abs(index.scores(drawings) - exact).max() < 0.05


def test_fewer_axes_rank_worse_and_the_measure_shows_it():
    artworks, drawings = _clustered(500, 64, 40, 2), _clustered(200, 64, 40, 3)
    coarse = compact_index(artworks, drawings, axes_tried=(2,), target=1.01)  # forced to keep trying: all axes
    two = compact_index(artworks, drawings, axes_tried=(2,), target=0.0)
    assert two.dims == 2 and coarse.dims == 64
    assert two.overlap < coarse.overlap


def test_large_collections_are_grouped_and_a_query_reads_few_parts():
    artworks, drawings = _clustered(6000, 48, 30, 6), _clustered(400, 48, 30, 7)
    index = compact_index(artworks, drawings, axes_tried=(48,), target=0.9, grouped_from=5000)
    rows = np.sort(np.concatenate(index.part_rows()))
    assert np.array_equal(rows, np.arange(6000))  # every artwork in exactly one part
    assert index.centres is not None and len(index.centres) == len(index.parts)
    assert 1 <= index.probe < len(index.parts) and index.overlap >= 0.9
    # The figure is what the page will get: only the probed parts scored.
    proj = drawings[::1] @ index.axes.T
    ranks = np.argsort(np.argsort(-(proj @ index.centres.T), axis=1, kind="stable"), axis=1)
    part_of = np.empty(6000, int)
    for j, members in enumerate(index.parts):
        part_of[members] = j
    masked = np.where(ranks[:, part_of] < index.probe, index.scores(drawings), -np.inf)
    assert top_overlap(drawings @ artworks.T, masked) == pytest.approx(index.overlap)


def test_agreement_is_measured_the_same_a_block_of_queries_at_a_time(monkeypatch):
    """A million artworks are measured a block of queries at a time (no queries x artworks table): the
    index, its parts and its figures are those of the measure in one block."""
    from generator.ml import findindex

    artworks, drawings = _clustered(6000, 48, 30, 6), _clustered(400, 48, 30, 7)
    whole = compact_index(artworks, drawings, axes_tried=(16, 48), target=0.9, grouped_from=5000)
    monkeypatch.setattr(findindex, "MEASURE_CELLS", 6000 * 7)  # blocks of 7 queries
    monkeypatch.setattr(findindex, "MEASURE_WORK", 6000 * 300)  # and fewer of them, as for a large collection
    blocks = compact_index(artworks, drawings, axes_tried=(16, 48), target=0.9, grouped_from=5000)
    assert blocks.queries == 200 and whole.queries == 400
    fewer = compact_index(artworks, drawings[::2], axes_tried=(16, 48), target=0.9, grouped_from=5000)
    monkeypatch.setattr(findindex, "MEASURE_CELLS", 50_000_000)
    assert (blocks.dims, blocks.probe, blocks.overlap) == (fewer.dims, fewer.probe, fewer.overlap)
    assert all(np.array_equal(x, y) for x, y in zip(blocks.part_rows(), fewer.part_rows()))
    assert np.array_equal(blocks.codes, fewer.codes) and np.array_equal(blocks.centres, fewer.centres)
    exact = findindex.exact_top_sets(drawings, artworks)
    assert exact == findindex._top_sets(drawings @ artworks.T, 10)


def test_labels_follow_the_parts(tmp_path):
    """The page finds a result's labels by its place in the parts: part 0's artworks, then part 1's...;
    grouped, in files of GROUPED_LABEL_ROWS rows; in the site's order when every part is read."""
    from generator.site.findpage import GROUPED_LABEL_ROWS, LABEL_ROWS, write_index_files
    from generator.site.output import SiteOutput

    artworks, drawings = _clustered(6000, 48, 30, 6), _clustered(400, 48, 30, 7)
    rows = [[f"a{i}", f"Artwork {i}", "Nobody", "", f"artworks/a{i}/index.html", None] for i in range(6000)]
    for grouped_from, label_rows in ((5000, GROUPED_LABEL_ROWS), (10**9, LABEL_ROWS)):
        index = compact_index(artworks, drawings, axes_tried=(48,), target=0.9, grouped_from=grouped_from)
        site = tmp_path / str(grouped_from)
        _, entry = write_index_files(SiteOutput(site, title="", csp=""), index, rows)
        assert entry["label_rows"] == label_rows
        labels = [row[0] for path in sorted((site / "find").glob("labels-*.json"))
                  for row in json.loads(path.read_text())["rows"]]
        assert labels == [f"a{i}" for i in np.concatenate(index.part_rows())]
        assert len(list((site / "find").glob("labels-*.json"))) == -(-6000 // label_rows)
    assert labels == [f"a{i}" for i in range(6000)]  # not grouped: the site's order


def test_projection_and_chunk_bytes_follow_the_documented_layout():
    artworks = _clustered(50, 32, 5, 4)
    mean, axes = principal_axes(artworks)
    assert np.allclose(axes @ axes.T, np.eye(len(axes)), atol=1e-4)
    scales, codes = quantise_rows((artworks - mean) @ axes.T)
    index = CompactIndex(mean, axes, scales, codes, 1.0, 0)
    raw = index.chunk_bytes(np.arange(10, 20))
    assert len(raw) == 10 * 8 + 10 * 2 * index.dims
    assert np.array_equal(np.frombuffer(raw[:40], "<u4"), np.arange(10, 20))
    assert np.array_equal(np.frombuffer(raw[40:80], "<f4"), scales[10:20])
    assert np.array_equal(np.frombuffer(raw[80:], "<i2").reshape(10, -1), codes[10:20])
    proj = np.frombuffer(index.projection_bytes(), "<f4")
    assert np.array_equal(proj[:32], mean) and np.array_equal(proj[32:].reshape(-1, 32), axes)


def test_principal_axes_are_the_same_on_every_run():
    artworks = _clustered(80, 40, 6, 5)
    a1, a2 = principal_axes(artworks), principal_axes(artworks.copy())
    assert all(np.array_equal(x, y) for x, y in zip(a1, a2))


def test_quantised_weights_keep_the_vectors_and_shrink_the_file():
    import torch
    from generator.ml.export import export_onnx, onnx_vectors, quantise_weights
    from generator.ml.model import Embedder, LoadedModel

    torch.manual_seed(0)
    trunk = torch.nn.Sequential(torch.nn.Conv2d(3, 64, 3, padding=1), torch.nn.ReLU(),
                                torch.nn.Conv2d(64, 64, 3, padding=1, groups=64), torch.nn.ReLU(),
                                torch.nn.Conv2d(64, 128, 1))
    model = LoadedModel("tiny", Embedder(trunk, 128).eval(), "test", "0", 32)
    plain = export_onnx(model)
    small = quantise_weights(plain)
    assert quantise_weights(plain) == small  # the same bytes every time
    assert len(small) < 0.6 * len(plain)
    pixels = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    with torch.no_grad():
        reference = model.embedder(torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 255).numpy()
    assert np.abs(onnx_vectors(plain, pixels) - reference).max() < 1e-4
    cos = np.sum(onnx_vectors(small, pixels) * reference, axis=1)
    assert cos.min() > 0.99


def test_rounding_guided_by_calibration_pictures_keeps_vectors_closer(monkeypatch):
    """The large 1 x 1 convolutions are rounded with the pictures' activations in view (the errors compensated
    input by input): on other pictures the vectors stay closer to the network's than with each weight rounded
    on its own, at the same size, and the file is the same on every export."""
    import torch
    from generator.ml import export
    from generator.ml.model import Embedder, LoadedModel

    monkeypatch.setattr(export, "INT8_MIN_VALUES", 4096)  # the tiny network's 1 x 1 layers count as large
    torch.manual_seed(1)
    trunk = torch.nn.Sequential(torch.nn.Conv2d(3, 64, 3, padding=1), torch.nn.ReLU(),
                                torch.nn.Conv2d(64, 256, 1), torch.nn.ReLU(), torch.nn.Conv2d(256, 128, 1))
    model = LoadedModel("tiny", Embedder(trunk, 128).eval(), "test", "0", 24)
    plain = export.export_onnx(model)
    rng = np.random.default_rng(0)
    calibration = rng.integers(0, 256, (24, 24, 24, 3), dtype=np.uint8)
    others = rng.integers(0, 256, (16, 24, 24, 3), dtype=np.uint8)
    rounded = export.quantise_weights(plain)
    guided = export.quantise_weights(plain, calibration)
    assert export.quantise_weights(plain, calibration) == guided and len(guided) == len(rounded)
    reference = export.onnx_vectors(plain, others)
    gap = {name: 1 - np.sum(export.onnx_vectors(b, others) * reference, axis=1).mean()
           for name, b in (("rounded", rounded), ("guided", guided))}
    assert 0 < gap["guided"] < 0.7 * gap["rounded"], gap


# ---------------------------------------------------------------- the built demo site

@pytest.mark.slow
def test_the_site_carries_the_model_the_index_and_the_runtime(built_demo):
    settings, report, site = built_demo
    manifest = json.loads((site / "find/index.json").read_text())
    model = site / "find" / manifest["model"]["file"]
    assert model.stat().st_size == manifest["model"]["bytes"] <= 5_000_000
    assert manifest["model"]["top10_agreement"] >= 0.8 and manifest["model"]["checked_on"] > 0
    parts = manifest["artworks"]["parts"]
    assert sum(c["rows"] for c in parts) == manifest["artworks"]["count"] == report.artworks
    assert manifest["artworks"]["probe"] == len(parts) and manifest["artworks"]["centres"] is None
    dims = manifest["projection"]["dims"]
    for c in parts:
        assert (site / "find" / c["vectors"]).stat().st_size == c["bytes"] == c["rows"] * (8 + 2 * dims)
    labels = [row for path in sorted((site / "find").glob("labels-*.json"))
              for row in json.loads(path.read_text())["rows"]]
    assert [row[0] for row in labels] == [a["id"] for a in site_artworks(site)]
    assert (site / "find" / "projection.bin").stat().st_size == (dims + 1) * manifest["model"]["dim"] * 4
    runtime = site / "static/vendor/onnxruntime-web"
    assert {"LICENSE", "ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"} <= \
        {p.name for p in runtime.iterdir()}


def _csp(page: str) -> str:
    return re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1)


@pytest.mark.slow
def test_only_the_find_page_may_run_webassembly_and_nothing_may_be_sent(built_demo):
    _, _, site = built_demo
    find = _csp((site / "find/index.html").read_text())
    home = _csp((site / "index.html").read_text())
    assert "script-src 'self' 'wasm-unsafe-eval';" in find and "connect-src 'self';" in find
    assert "wasm" not in home and "'unsafe-eval'" not in find.replace("'wasm-unsafe-eval'", "")
    # Elsewhere scripts and requests fall under default-src 'self'; this page names them, adding WebAssembly only.
    assert home.startswith("default-src 'self';") and "script-src" not in home and "connect-src" not in home
    assert find == home.replace("default-src 'self';", "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "
                                                       "connect-src 'self';")
    page = (site / "find/index.html").read_text()
    assert "<script>" not in page and "never leaves your computer" in page
    assert 'accept="image/*"' in page and 'capture="environment"' in page


@pytest.mark.slow
def test_home_page_and_header_link_to_the_find_page(built_demo):
    _, _, site = built_demo
    assert 'href="find/index.html"' in (site / "index.html").read_text()
    collection = next((site / "countries").glob("*/index.html")).read_text()
    assert 'href="../../find/index.html">Find an artwork</a>' in collection
    # Drawing pages get the header's links from the shared data their script loads.
    assert '["Find an artwork","find/index.html"]' in (site / "data/related/meta.js").read_text()


@pytest.mark.slow
def test_a_second_build_reuses_the_exported_model(built_demo):
    from generator.pipeline.stages import build

    settings, first, site = built_demo
    before = (site / "find/model.onnx").read_bytes()
    again = build(settings)
    assert again.computed["browser_model"] == 0
    assert (site / "find/model.onnx").read_bytes() == before


@pytest.mark.slow
def test_without_the_find_page_nothing_of_it_is_published(built_demo, tmp_path):
    from generator.pipeline.stages import build

    settings, _, _ = built_demo
    quiet = settings.replace(out=tmp_path / "site", find_page=False)
    build(quiet)
    assert not (quiet.out / "find").exists() and not (quiet.out / "static/vendor").exists()
    assert "find/index.html" not in (quiet.out / "index.html").read_text()
    assert "find/index.html" not in (quiet.out / "data/related/meta.js").read_text(), "nor in the header's links"


def test_a_missing_package_is_named_with_the_way_out(monkeypatch, tmp_path):
    import sys

    from generator.pipeline.cache import Cache
    from generator.settings import BuildSettings
    from generator.pipeline.findmodel import browser_model
    from generator.errors import ModelError

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if it were not installed
    with pytest.raises(ModelError, match=r"pip install onnxruntime .*--no-find-page"):
        browser_model(BuildSettings(), Cache(tmp_path), [], np.zeros((0, 4), np.float32),
                      np.zeros((1, 4), np.float32), {})
