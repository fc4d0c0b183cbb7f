"""``sitegen evaluate --compare``: three models (the pretrained network and two tiny one-epoch trainings, with
and without style effects) side by side on demo drawings none of them learned from, among artworks none of them
learned either."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from click.testing import CliRunner

from generator.cli.main import cli
from tests.sitecheck import broken_links

TRAIN_PAIRS, TEST_PAIRS = 10, 12


def _demo_parts(demo_dir):
    """Two sets of the demo's known pairs whose artworks differ: TRAIN_PAIRS to learn, TEST_PAIRS to measure
    (each with an artwork of its own)."""
    import csv

    with open(demo_dir / "pairs.csv", newline="", encoding="utf-8") as fh:
        rows = sorted((r["drawing"], r["artwork"]) for r in csv.DictReader(fh))
    artworks = sorted({a for _, a in rows})
    learn = set(artworks[0::2])
    train = [r for r in rows if r[1] in learn][:TRAIN_PAIRS]
    first = {}  # one drawing per artwork, so that the gallery measured among has TEST_PAIRS artworks
    for drawing, artwork in rows:
        if artwork not in learn:
            first.setdefault(artwork, drawing)
    test = sorted((d, a) for a, d in first.items())[:TEST_PAIRS]
    return train, test


def _subset(demo_dir, dest, rows):
    """A collection of its own holding only ``rows``' drawings and artworks, and their pairs file."""
    lines = ["drawing,artwork"]
    for drawing, artwork in rows:
        for kind, name in (("drawings", drawing), ("artworks", artwork)):
            (dest / kind / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(demo_dir / kind / name, dest / kind / name)
        lines.append(f"{drawing},{artwork}")
    (dest / "pairs.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest


@pytest.fixture(scope="module")
def compared(demo_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    train_rows, test_rows = _demo_parts(demo_dir)
    assert len(train_rows) == TRAIN_PAIRS and len(test_rows) == TEST_PAIRS
    train = _subset(demo_dir, root / "train", train_rows)
    test = _subset(demo_dir, root / "test", test_rows)
    runner = CliRunner()
    models = []
    for name, style in (("plain.pt", "--no-style"), ("styled.pt", "--style")):
        r = runner.invoke(cli, ["train", "--drawings", str(train / "drawings"), "--artworks", str(train / "artworks"),
                                "--pairs", str(train / "pairs.csv"), "--out", str(root / name), "--epochs", "1",
                                "--train-size", "72", "--crop-size", "64", style])
        assert r.exit_code == 0, r.output
        models.append(str(root / name))
    page, figures = root / "report" / "comparison.html", root / "comparison.json"
    r = runner.invoke(cli, ["evaluate", "--drawings", str(test / "drawings"), "--artworks", str(test / "artworks"),
                            "--pairs", str(test / "pairs.csv"), "--folds", "3", "--json", str(figures),
                            "--html", str(page), "--compare", "pretrained", *models])
    assert r.exit_code == 0, r.output
    return page, json.loads(figures.read_text()), r.output


@pytest.mark.slow
def test_every_model_is_measured_on_the_same_drawings_in_the_same_groups(compared):
    page, figures, output = compared
    assert [m["label"] for m in figures["models"]] == ["pretrained", "plain.pt", "styled.pt"]
    assert figures["drawings"] == TEST_PAIRS and figures["pairs_left_out"] == 0 and figures["folds"] == 3
    for m in figures["models"]:
        folds = m["per_fold"]
        assert len(folds) == 3 and sum(f["n_queries"] for f in folds) == TEST_PAIRS
        assert m["metrics"]["MP"] == pytest.approx(sum(f["MP"] for f in folds) / 3)
    sizes = [[f["n_queries"] for f in m["per_fold"]] for m in figures["models"]]
    assert sizes[0] == sizes[1] == sizes[2]
    assert "Comparison page written to" in output and "±" in output


@pytest.mark.slow
def test_page_rows_agree_with_the_figures_and_link_only_files_that_exist(compared):
    page, figures, _ = compared
    html = page.read_text(encoding="utf-8")
    assert broken_links(page.parent) == []
    for m in figures["models"]:
        assert m["label"] in html
    # One expected artwork per drawing: in each group, the share of drawings whose artwork is marked among
    # the ten shown is R@10, and the mean of the positions shown (counted from 1) is MP + 1.
    sections = re.findall(r'<section class="cmp-drawing".*?</section>', html, re.S)
    assert len(sections) == TEST_PAIRS
    groups = [int(re.search(r"\(group (\d+)\)", s).group(1)) for s in sections]
    for n, m in enumerate(figures["models"]):
        rows = [re.findall(r"<tr><th scope=\"row\">.*?</tr>", s, re.S)[n] for s in sections]
        for g, fold in enumerate(m["per_fold"], start=1):
            mine = [row for row, group in zip(rows, groups) if group == g]
            positions = [int(re.search(r"position (\d+)", row).group(1)) for row in mine]
            marked = sum('class="expected"' in row for row in mine)
            assert len(mine) == fold["n_queries"] and marked == sum(p <= 10 for p in positions)
            assert 100 * marked / len(mine) == pytest.approx(fold["R@10"])
            assert sum(p - 1 for p in positions) / len(mine) == pytest.approx(fold["MP"])
    assert html.count("<svg") == 1 and "<title id=\"plot-title\">" in html and "<desc" in html


def test_comparing_needs_two_models_and_the_page_needs_compare(tmp_path):
    runner = CliRunner()
    base = ["evaluate", "--drawings", str(tmp_path), "--artworks", str(tmp_path), "--pairs", str(tmp_path / "p.csv")]
    r = runner.invoke(cli, base + ["--html", str(tmp_path / "x.html")])
    assert r.exit_code != 0 and "Name the models to compare after --compare" in r.output


@pytest.mark.slow
@pytest.mark.browser
def test_page_opens_from_the_disk_with_every_picture_and_no_serious_accessibility_problem(compared, browser):
    from axe_playwright_python import sync_playwright as axe
    page, _, _ = compared
    context = browser.new_context()
    pg = context.new_page()
    errors = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("requestfailed", lambda r: errors.append(r.url))
    pg.goto(page.as_uri())
    pg.wait_for_load_state("load")
    broken = pg.evaluate("Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).length")
    seen = list(errors)  # axe then reads the style sheet itself, which browsers refuse from the disk
    results = axe.Axe().run(pg)
    serious = [f"{v['id']}: {v['help']}" for v in results.response["violations"] if v["impact"] in ("serious",
                                                                                                   "critical")]
    context.close()
    assert broken == 0 and seen == [] and serious == []
