"""Honest evaluation: random leak-free splits, and measuring a fine-tuned model only on pairs it did not learn from."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli.main import cli
from generator.contracts import Embedded, Embeddings
from generator.errors import ConfigError
from generator.ml.evaluate import held_out_pairs, kfold, pair_components, split_pairs

from .helpers import write_jpeg


def _pairs() -> list[tuple[str, str]]:
    """37 pairs in 31 components; the group of ``a22`` (three drawings of one artwork) is the largest."""
    pairs = [(f"d{i}", f"a{i}") for i in range(20)]
    pairs += [("d20", "a20"), ("d20", "a21")]
    pairs += [("d21", "a22"), ("d22", "a22"), ("d23", "a22")]
    pairs += [("d24", "a23"), ("d24", "a24"), ("d25", "a24")]
    pairs += [(f"d{i}", f"a{i}") for i in range(30, 38)]
    return pairs


def _many_components(n: int = 300) -> list[tuple[str, str]]:
    rng = random.Random(7)
    pairs = []
    for c in range(n):
        pairs += [(f"D{c}", f"A{c}_{j}") for j in range(rng.choice([1, 1, 1, 2, 3, 5]))]
    return pairs


def _part_of(split, pair) -> str:
    return next(name for name, part in split.parts().items() if pair in part)


# --------------------------------------------------------------------------- splits

def test_split_deals_components_at_random_and_never_leaks():
    pairs = _pairs()
    landed = set()
    assignments = set()
    for seed in range(30):
        split = split_pairs(pairs, seed=seed)
        assert split.leaks() == []
        assert sorted(split.train + split.val + split.test) == sorted(pairs)
        landed.add(_part_of(split, ("d21", "a22")))
        assignments.add(tuple(sorted(split.test)))
    assert landed == {"train", "val", "test"}  # the largest group is not always put into training
    assert len(assignments) > 10


def test_a_large_component_can_be_a_test_component():
    # A drawing with five artworks among 55 single pairs: 60 pairs, so the test part (9 pairs) can hold it.
    pairs = [("many", f"m{j}") for j in range(5)] + [(f"d{i}", f"a{i}") for i in range(55)]
    parts = {_part_of(split_pairs(pairs, seed=seed), ("many", "m0")) for seed in range(40)}
    assert {"val", "test"} <= parts


def test_split_proportions_on_many_components():
    pairs = _many_components()
    n = len(pairs)
    for seed in range(5):
        split = split_pairs(pairs, seed=seed)
        assert split.leaks() == []
        for part, fraction in zip((split.train, split.val, split.test), (0.6, 0.25, 0.15)):
            assert abs(len(part) - fraction * n) <= max(1, 0.01 * n)


def test_split_keeps_zero_fraction_empty_and_is_deterministic():
    pairs = _many_components(60)
    for seed in range(5):
        split = split_pairs(pairs, (0.8, 0.2, 0.0), seed=seed)
        assert split.test == [] and split.val and split.train
        assert split_pairs(pairs, (0.8, 0.2, 0.0), seed=seed) == split


def test_a_component_too_big_to_share_goes_where_it_fits_best():
    # One component of 70 of the 100 pairs can only sit in training without wrecking the proportions.
    pairs = [("big", f"b{j}") for j in range(70)] + [(f"d{i}", f"a{i}") for i in range(30)]
    for seed in range(10):
        split = split_pairs(pairs, seed=seed)
        assert ("big", "b0") in split.train and split.val and split.test


def test_kfold_deals_components_at_random_into_even_folds():
    pairs = _many_components(100)
    folds = kfold(pairs, 5, seed=0)
    sizes = [len(f.test) for f in folds]
    assert sorted(p for f in folds for p in f.test) == sorted(pairs)
    assert max(sizes) - min(sizes) <= max(2, 0.02 * len(pairs))
    assert all(f.leaks() == [] and f.val for f in folds)
    assert [f.test for f in kfold(pairs, 5, seed=1)] != [f.test for f in folds]


def test_kfold_with_fewer_components_than_folds_is_a_clear_error():
    pairs = [("d1", "a1"), ("d2", "a1"), ("d3", "a3"), ("d4", "a4"), ("d5", "a5")]
    assert len(pair_components(pairs)) == 4
    with pytest.raises(ConfigError) as err:
        kfold(pairs, 5)
    assert str(err.value) == ("Cross-validation with 5 folds needs at least 5 separate groups of pairs, but these "
                              "pairs form only 4 (pairs that share a drawing or an artwork always stay together). "
                              "Use --folds between 3 and 4.")
    with pytest.raises(ConfigError, match="add more pairs, or measure without --folds"):
        kfold(pairs[:2], 3)
    assert all(f.test and f.val and f.train for f in kfold(pairs, 4))


def test_kfold_with_exactly_as_many_components_as_folds():
    pairs = [(f"d{i}", f"a{i}") for i in range(3)]
    for seed in range(5):
        folds = kfold(pairs, 3, seed=seed)
        assert all(len(f.test) == len(f.val) == len(f.train) == 1 for f in folds)


# --------------------------------------------------------------------------- pairs a model has not seen

DRAWINGS = ["2001/d0.jpg", "2001/d1.jpg", "2002/d2.jpg", "2002/d3.jpg", "2003/d4.jpg"]
ARTWORKS = ["Monet/m0.jpg", "Monet/m1.jpg", "Klee/k0.jpg", "Klee/k1.jpg", "Klee/k2.jpg"]


def test_held_out_pairs_leave_out_what_the_model_saw():
    pairs = [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (1, 4)]
    split = {"train": [["2001/d0.jpg", "Monet/m0.jpg"], ["2001/d1.jpg", "Monet/m1.jpg"]],
             "val": [["2002/d2.jpg", "Klee/k0.jpg"]],
             "test": [["2002/d3.jpg", "Klee/k1.jpg"], ["2003/d4.jpg", "Klee/k2.jpg"]]}
    kept, left_out = held_out_pairs(split, DRAWINGS, ARTWORKS, pairs)
    # (1, 4): a new pair, but its drawing was trained on, so it must not count.
    assert kept == [(3, 3), (4, 4)] and left_out == 4


def test_held_out_pairs_when_an_artwork_was_seen_with_another_drawing():
    split = {"train": [["2001/d0.jpg", "Klee/k2.jpg"]], "val": [], "test": []}
    assert held_out_pairs(split, DRAWINGS, ARTWORKS, [(4, 4), (3, 3)]) == ([(3, 3)], 1)


def test_held_out_pairs_match_names_from_other_folders():
    pairs = [(0, 0), (2, 2), (3, 3), (4, 4)]
    split = {"train": [["d0.jpg", "images/Monet/m0.jpg"],       # trained on 2001/ only; folder one level up
                       ["archive/2002/d2.jpg", "k0.jpg"]],      # trained from a folder above today's
             "val": [["elsewhere/d3.jpg", "Klee/k1.jpg"]]}       # last resort: the bare file name
    kept, left_out = held_out_pairs(split, DRAWINGS, ARTWORKS, pairs)
    assert kept == [(4, 4)] and left_out == 3


def test_held_out_pairs_leave_out_every_file_an_unclear_name_may_mean():
    drawings = ["x/same.jpg", "y/same.jpg", "z/other.jpg"]
    split = {"train": [["w/same.jpg", "Monet/m0.jpg"]]}
    kept, left_out = held_out_pairs(split, drawings, ARTWORKS, [(0, 1), (1, 2), (2, 3)])
    assert kept == [(2, 3)] and left_out == 2


def test_held_out_pairs_without_a_split_keep_everything():
    assert held_out_pairs(None, DRAWINGS, ARTWORKS, [(0, 0)]) == ([(0, 0)], 0)
    assert held_out_pairs({"train": [["nobody.jpg", "nothing.jpg"]]}, DRAWINGS, ARTWORKS, [(0, 0)]) == ([(0, 0)], 0)


# --------------------------------------------------------------------------- the command line

def _tiny(root: Path, n: int = 6) -> list[str]:
    for i in range(n):
        write_jpeg(root / "drawings" / "batch" / f"2001_6-9_{i:04d}_FRA_R_C.jpg", (64, 64), seed=i)
        write_jpeg(root / "artworks" / f"a{i}.jpg", (64, 64), seed=50 + i)
    (root / "pairs.csv").write_text("drawing,artwork\n" + "".join(
        f"batch/2001_6-9_{i:04d}_FRA_R_C.jpg,a{i}.jpg\n" for i in range(n)), encoding="utf-8")
    return ["--drawings", str(root / "drawings"), "--artworks", str(root / "artworks"),
            "--pairs", str(root / "pairs.csv")]


def test_evaluate_folds_with_too_few_groups_is_a_clean_message(tmp_path):
    args = _tiny(tmp_path, 4)
    res = CliRunner().invoke(cli, ["evaluate", *args, "--folds", "5"])
    assert res.exit_code == 1
    assert ("Error: Cross-validation with 5 folds needs at least 5 separate groups of pairs, but these pairs form "
            "only 4 (pairs that share a drawing or an artwork always stay together). Use --folds between 3 and 4."
            ) in res.output
    assert "Traceback" not in res.output and "nan" not in res.output


def _fake_checkpoint(path: Path, split: dict) -> Path:
    """A model file as 'sitegen train' writes it, with pretrained weights and the given split of names."""
    from generator.ml.evaluate import Split
    from generator.ml.model import load_model
    from generator.ml.train import TrainResult, TrainSettings, save_checkpoint

    base = load_model("efficientnet_lite0", input_size=64)
    result = TrainResult(state_dict=base.embedder.state_dict(), history=[], best_epoch=0, pretrained_val=None,
                         best_val=None, input_size=64)
    return save_checkpoint(path, result, base.name, TrainSettings(), Split(**split))


@pytest.mark.slow
def test_evaluate_a_trained_model_only_on_pairs_it_did_not_learn_from(tmp_path):
    args = _tiny(tmp_path)
    # Names as training wrote them: relative to the folder all drawings shared ("batch/").
    model = _fake_checkpoint(tmp_path / "model.pt", {
        "train": [[f"2001_6-9_{i:04d}_FRA_R_C.jpg", f"a{i}.jpg"] for i in range(3)],
        "val": [["2001_6-9_0003_FRA_R_C.jpg", "a3.jpg"]],
        "test": [[f"2001_6-9_{i:04d}_FRA_R_C.jpg", f"a{i}.jpg"] for i in (4, 5)]})
    target = tmp_path / "figures.json"
    res = CliRunner().invoke(cli, ["evaluate", *args, "--model", str(model), "--json", str(target)])
    assert res.exit_code == 0, res.output
    assert ("Measured on 2 of 6 pairs: 4 are left out because this model saw their drawing or artwork while it "
            "was trained or checked.") in res.output
    data = json.loads(target.read_text())
    assert data["pairs"] == 6 and data["pairs_measured"] == 2 and data["pairs_left_out_learned_from"] == 4
    assert data["gallery"] == 6 and data["metrics"]["n_queries"] == 2


@pytest.mark.slow
def test_evaluate_a_trained_model_with_nothing_left_is_an_error(tmp_path):
    args = _tiny(tmp_path, 3)
    model = _fake_checkpoint(tmp_path / "model.pt", {
        "train": [[f"batch/2001_6-9_{i:04d}_FRA_R_C.jpg", f"a{i}.jpg"] for i in range(2)],
        "val": [["batch/2001_6-9_0002_FRA_R_C.jpg", "a2.jpg"]], "test": []})
    res = CliRunner().invoke(cli, ["evaluate", *args, "--model", str(model)])
    assert res.exit_code == 1
    assert ("Error: This model saw the drawing or the artwork of every one of the 3 pairs while it was trained or "
            "checked, so no pair is left to measure it fairly.") in res.output


# --------------------------------------------------------------------------- the model page

def _site(pairs_unreadable: int = 0):
    from types import SimpleNamespace

    import numpy as np

    rng = np.random.default_rng(0)
    dv = rng.normal(size=(5, 8)).astype(np.float32)
    av = rng.normal(size=(5, 8)).astype(np.float32)
    dv /= np.linalg.norm(dv, axis=1, keepdims=True)
    av /= np.linalg.norm(av, axis=1, keepdims=True)
    return SimpleNamespace(
        drawings=[SimpleNamespace(id=f"d{i}", rel=name) for i, name in enumerate(DRAWINGS)],
        artworks=[SimpleNamespace(id=f"a{j}", rel=name) for j, name in enumerate(ARTWORKS)],
        pairs=[(f"d{i}", f"a{i}") for i in range(5)], pairs_unreadable=pairs_unreadable,
        embeddings=Embeddings(Embedded([f"d{i}" for i in range(len(dv))], dv),
                              Embedded([f"a{j}" for j in range(len(av))], av)))


def test_model_page_figures_leave_out_pairs_the_model_learned_from():
    from generator.pipeline.derive import confirmed_pair_figures

    checkpoint = {"split": {"train": [["d0.jpg", "m0.jpg"], ["d1.jpg", "m1.jpg"]], "val": [["d2.jpg", "k0.jpg"]],
                            "test": [["d3.jpg", "k1.jpg"]]}}
    figures = confirmed_pair_figures(_site(pairs_unreadable=1), checkpoint)
    assert (figures.total, figures.measured, figures.learned_from, figures.unreadable) == (6, 2, 3, 1)
    assert figures.metrics["n_queries"] == 2
    plain = confirmed_pair_figures(_site(), None)
    assert (plain.total, plain.measured, plain.learned_from) == (5, 5, 0) and plain.metrics["n_queries"] == 5


def test_model_page_says_which_pairs_were_measured():
    from generator.pipeline.derive import confirmed_pair_figures
    from generator.site.modelpage import metrics_table
    from generator.site.output import template_environment

    env = template_environment()
    checkpoint = {"split": {"train": [["d0.jpg", "m0.jpg"]], "val": [["d1.jpg", "m1.jpg"]]}}
    here = confirmed_pair_figures(_site(pairs_unreadable=1), checkpoint)
    html = env.get_template("model.html").render(
        root="", site_title="T", title="The model", page_path="model/index.html", csp="", model_name="m",
        model_source="s", backbone="b", here=here, here_table=metrics_table({"This model": here.metrics}),
        training=None)
    text = " ".join(html.split())
    assert "Measured on 3 of the 6 confirmed pairs of this collection" in text
    assert "2 pairs are left out because the model saw their drawing or artwork while it was trained" in text
    assert "1 pair is left out because the picture of the drawing or of the artwork could not be read." in text


@pytest.mark.slow
def test_built_model_page_measures_only_unseen_and_readable_pairs(tmp_path):
    args = _tiny(tmp_path)
    broken = tmp_path / "drawings" / "batch" / "2001_6-9_0099_FRA_R_C.jpg"
    broken.write_bytes(b"not a picture")
    with (tmp_path / "pairs.csv").open("a", encoding="utf-8") as f:
        f.write("batch/2001_6-9_0099_FRA_R_C.jpg,a5.jpg\n")
    model = _fake_checkpoint(tmp_path / "model.pt", {
        "train": [[f"batch/2001_6-9_{i:04d}_FRA_R_C.jpg", f"a{i}.jpg"] for i in range(2)],
        "val": [["batch/2001_6-9_0002_FRA_R_C.jpg", "a2.jpg"]], "test": []})
    res = CliRunner().invoke(cli, ["build", *args, "--model", str(model), "--out", str(tmp_path / "site"),
                                   "--cache", str(tmp_path / "cache")])
    assert res.exit_code == 0, res.output
    text = " ".join((tmp_path / "site" / "model" / "index.html").read_text().split())
    assert "Measured on 3 of the 7 confirmed pairs of this collection" in text
    assert "3 pairs are left out because the model saw their drawing or artwork" in text
    assert "1 pair is left out because the picture of the drawing or of the artwork could not be read." in text
