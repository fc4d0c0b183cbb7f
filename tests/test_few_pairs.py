"""Learning from the few pairs an archive has: the joint recipe, the mixing guard, honest figures for models
that descend from other models, and embeddings that do not depend on the processor."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from generator.cli.main import cli
from generator.ml import device as device_module
from generator.ml.contrastive import mix_states
from generator.ml.evaluate import Split, kfold
from generator.ml.model import load_model
from generator.ml.recipes import fit
from generator.ml.train import TrainSettings, evaluate_model, finetuned_model

from .test_contrastive import model  # noqa: F401 - the same tiny network fixture
from .test_train import SIZE, _make_collection

TINY = TrainSettings(epochs=6, lr=1e-3, batch_pairs=8, views=2, train_size=72, crop_size=SIZE, seed=0,
                     style_effects=("greyscale", "pencil"), replica_pairs=4, replica_views=2, gallery_negatives=6,
                     min_batches=3)

AMX = frozenset({"avx512f", "avx512_bf16", "amx_bf16", "amx_tile"})
AVX512_BF16 = frozenset({"avx512f", "avx512_bf16"})
PLAIN = frozenset({"avx2", "fma"})


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    return _make_collection(tmp_path_factory.mktemp("few-pairs"), n=20)


# --------------------------------------------------------------------------- precision

@pytest.mark.parametrize("flags", [AMX, AVX512_BF16, PLAIN], ids=["amx", "avx512-bf16", "no-bf16"])
def test_published_embeddings_are_float32_on_every_processor(monkeypatch, flags):
    """'auto' embeds in float32 whatever the processor offers; only the neighbours' candidate pass (whose
    result is checked again in float32) uses bfloat16 where the processor has it."""
    monkeypatch.setattr(device_module, "cpu_flags", lambda: flags)
    assert device_module.choose_precision("auto", "cpu", workload="inference") == "fp32"
    assert device_module.choose_precision("auto", "cpu", workload="training") == "fp32"
    has_bf16 = "avx512_bf16" in flags
    assert device_module.choose_precision("auto", "cpu", workload="matmul") == ("bf16" if has_bf16 else "fp32")


def test_auto_embeddings_equal_float32_on_a_processor_with_bf16(monkeypatch, collection, model):
    """On a processor with bfloat16 (forced here when this one lacks it) 'auto' gives the float32 vectors
    bit for bit, so the site, its data and the find page's checks are the same on every machine."""
    from generator.ml.embed import embed_paths

    drawings, artworks = collection
    paths = drawings[:4] + artworks[:4]
    fp32 = embed_paths(model, paths, precision="fp32", device="cpu", workers=1).vectors
    monkeypatch.setattr(device_module, "cpu_flags", lambda: AMX)
    auto = embed_paths(model, paths, precision="auto", device="cpu", workers=1).vectors
    assert np.array_equal(auto, fp32)


# --------------------------------------------------------------------------- the guard

def test_the_guard_keeps_the_chosen_mix_unless_validation_shows_harm():
    from generator.ml.contrastive import choose_share

    shares = [0, 0.25, 0.5, 0.75, 1]
    # Validation prefers all of the training by a little: the share chosen by cross-validation is kept.
    assert shares[choose_share([30.0, 40.0, 45.0, 50.0, 52.0], shares, 0.75)] == 0.75
    # The mix ranks validation worse than the pretrained network: the largest share below it that does not.
    assert shares[choose_share([30.0, 35.0, 29.0, 20.0, 10.0], shares, 0.75)] == 0.25
    # Every mix is worse: the pretrained network.
    assert shares[choose_share([30.0, 29.0, 28.0, 27.0, 26.0], shares, 1.0)] == 0


def test_mixing_weights_is_a_straight_line_between_them():
    a = {"w": torch.zeros(3), "n": torch.tensor(2)}
    b = {"w": torch.tensor([4.0, 8.0, -4.0]), "n": torch.tensor(5)}
    assert torch.equal(mix_states(a, b, 0.0)["w"], a["w"]) and torch.equal(mix_states(a, b, 1.0)["w"], b["w"])
    assert mix_states(a, b, 0.25)["w"].tolist() == [1.0, 2.0, -1.0]
    assert int(mix_states(a, b, 0.5)["n"]) == 5  # counters are not mixed


@pytest.mark.slow
@pytest.mark.parametrize("lr", [1e-3, 5.0], ids=["sound", "wrecking"])
def test_the_guard_never_ranks_validation_worse_than_pretrained(collection, model, lr):
    """Whatever training did, the mix kept ranks the validation pairs at least as well as the pretrained
    network; a learning rate that wrecks the network gets the pretrained weights back, and says so."""
    drawings, artworks = collection
    split = Split(train=[(i, i) for i in range(12)], val=[(i, i) for i in range(12, 18)])
    result = fit(model, drawings, artworks, split, replace(TINY, epochs=2, lr=lr, weight_decay=0.0))
    tries = {t["mix"]: t["MAP"] for t in result.mix_curve}
    assert sorted(tries) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert tries[0.0] == pytest.approx(result.pretrained_val["MAP"])
    assert result.best_val["MAP"] == pytest.approx(tries[result.mix])
    assert result.best_val["MAP"] >= result.pretrained_val["MAP"]
    # The kept weights rank the validation drawings as the guard measured them.
    kept = evaluate_model(finetuned_model(model, result), drawings, artworks, split.val, precision="fp32",
                          device="cpu")
    assert kept.MAP * 100 == pytest.approx(result.best_val["MAP"], abs=2.0)
    if lr == 5.0:  # the mix set by default ranks worse than pretrained: a smaller one, or none, is kept
        assert tries[TINY.mix] < tries[0.0] and result.mix < TINY.mix
    if result.mix == 0.0:  # the pretrained weights given back, exactly, and said
        assert result.best_epoch == 0
        for k, v in model.embedder.state_dict().items():
            assert torch.equal(result.state_dict[k], v), k


# --------------------------------------------------------------------------- the few-pairs recipe

@pytest.mark.slow
def test_few_pairs_recipe_lowers_the_loss_and_raises_retrieval_on_its_pairs(collection, model):
    """Eight pairs, twelve artworks without a pair: the run learns from drawing-like versions of the unpaired
    artworks and uses them as wrong answers, and its own pairs are found better afterwards."""
    drawings, artworks = collection
    pairs = [(i, i) for i in range(8)]
    result = fit(model, drawings, artworks, Split(train=pairs), TINY)
    losses = [h["loss"] for h in result.history]
    assert len(losses) == 6 and all(np.isfinite(losses))
    assert all(h["steps"] >= 3 for h in result.history)  # few pairs: several passes make an epoch
    assert np.mean(losses[-2:]) < 0.8 * np.mean(losses[:2]), losses
    assert set(result.artworks_learned) == set(range(8, 20)) | set(range(8))  # the gallery's artworks
    before = evaluate_model(model, drawings, artworks, pairs, precision="fp32", device="cpu")
    after = evaluate_model(finetuned_model(model, result), drawings, artworks, pairs, precision="fp32",
                           device="cpu")
    assert after.MAP > before.MAP and after.MP < before.MP, (before.as_dict(), after.as_dict())
    assert result.mix == TINY.mix  # no validation pairs: the share chosen by cross-validation


@pytest.mark.slow
def test_validation_and_test_artworks_are_never_learned(collection, model):
    drawings, artworks = collection
    split = Split(train=[(i, i) for i in range(10)], val=[(10, 10), (11, 11)], test=[(12, 12)])
    result = fit(model, drawings, artworks, split, replace(TINY, epochs=1))
    assert not {10, 11, 12} & set(result.artworks_learned)


# --------------------------------------------------------------------------- honest figures

def _tiny_cli_collection(root, n=9):
    drawings, artworks = _make_collection(root, n=n)
    (root / "pairs.csv").write_text("drawing,artwork\n" + "".join(
        f"{d.name},{a.name}\n" for d, a in zip(drawings, artworks)), encoding="utf-8")
    return ["--drawings", str(root / "drawings"), "--artworks", str(root / "artworks"),
            "--pairs", str(root / "pairs.csv")]


TINY_FLAGS = ["--epochs", "1", "--train-size", "72", "--crop-size", str(SIZE)]


@pytest.mark.slow
def test_a_model_started_from_another_leaves_out_every_pair_of_its_lineage(tmp_path):
    """A starts from the pretrained network; B starts from A. Measuring B leaves out the pairs A learned
    from too, and B's own checking pairs never include a pair A learned from."""
    args = _tiny_cli_collection(tmp_path)
    first, second = tmp_path / "a.pt", tmp_path / "b.pt"
    runner = CliRunner()
    res = runner.invoke(cli, ["train", *args, "--out", str(first), *TINY_FLAGS, "--test-share", "0.3"])
    assert res.exit_code == 0, res.output
    a = load_model(str(first)).checkpoint
    a_learned = {tuple(p) for part in ("train", "val") for p in a["split"][part]}
    assert a["split"]["test"] and a["learned_from"] == {"train": [], "val": []}

    res = runner.invoke(cli, ["train", *args, "--out", str(second), "--start-from", str(first), *TINY_FLAGS,
                              "--test-share", "0.3", "--seed", "1", "--replica-pairs", "4"])
    assert res.exit_code == 0, res.output
    b = load_model(str(second)).checkpoint
    lineage = {tuple(p) for part in ("train", "val") for p in b["learned_from"][part]}
    assert lineage == a_learned
    assert not a_learned & {tuple(p) for part in ("val", "test") for p in b["split"][part]}
    assert f"{len(a_learned)} of them learned already by the model started from" in res.output

    target = tmp_path / "b.json"
    res = runner.invoke(cli, ["evaluate", *args, "--model", str(second), "--json", str(target)])
    assert res.exit_code == 0, res.output
    data = json.loads(target.read_text())
    b_learned = {tuple(p) for part in ("train", "val") for p in b["split"][part]}
    assert data["pairs_left_out_learned_from"] == len(a_learned | b_learned)
    assert data["pairs_measured"] == 9 - len(a_learned | b_learned)
    assert "drawing-like versions" in res.output  # it learned from this gallery's artworks, and says so


@pytest.mark.slow
def test_evaluate_folds_measures_at_the_size_training_uses(tmp_path):
    """'evaluate --folds' trains in every split: its pretrained figures are taken at the size it trains at,
    which is the size 'sitegen train' writes its models for."""
    args = _tiny_cli_collection(tmp_path)
    target = tmp_path / "folds.json"
    res = CliRunner().invoke(cli, ["evaluate", *args, "--folds", "3", "--json", str(target), *TINY_FLAGS])
    assert res.exit_code == 0, res.output
    assert json.loads(target.read_text())["input_size"] == SIZE
    res = CliRunner().invoke(cli, ["train", *args, "--out", str(tmp_path / "m.pt"), *TINY_FLAGS])
    assert res.exit_code == 0, res.output
    assert load_model(str(tmp_path / "m.pt")).input_size == SIZE
    # And with no size given, both use the default training size.
    res = CliRunner().invoke(cli, ["evaluate", *args, "--folds", "3", "--json", str(target), "--epochs", "1",
                                   "--train-size", "288"])
    assert res.exit_code == 0, res.output
    assert json.loads(target.read_text())["input_size"] == TrainSettings().crop_size


@pytest.mark.slow
def test_train_with_folds_stores_the_cross_validated_figures(tmp_path):
    args = _tiny_cli_collection(tmp_path)
    out = tmp_path / "m.pt"
    res = CliRunner().invoke(cli, ["train", *args, "--out", str(out), "--folds", "3", *TINY_FLAGS])
    assert res.exit_code == 0, res.output
    assert "Cross-validation, 3 splits of 9 pairs" in res.output
    cv = load_model(str(out)).checkpoint["cross_validation"]
    assert cv["folds"] == 3 and len(cv["per_fold"]["finetuned"]) == 3 and cv["input_size"] == SIZE
    per_fold = [m["R@1"] for m in cv["per_fold"]["finetuned"]]
    assert cv["finetuned"]["R@1"] == pytest.approx(np.mean(per_fold))
    assert sum(m["n_queries"] for m in cv["per_fold"]["finetuned"]) == 9  # every pair measured once


def test_default_split_learns_from_85_percent_of_the_pairs():
    from generator.cli.model_commands import _split_for

    pairs = [(i, i) for i in range(100)]
    split, fresh, again = _split_for(pairs, set(), TrainSettings())
    assert (len(split.train), len(split.val), len(split.test)) == (85, 15, 0) and fresh == pairs and again == []
    split, _, _ = _split_for(pairs, set(), TrainSettings(test_share=0.2))
    assert (len(split.train), len(split.val), len(split.test)) == (65, 15, 20)
    assert all(len(f.train) + len(f.val) == 80 for f in kfold(pairs, 5))


def test_model_page_shows_the_cross_validated_figures():
    from generator.site.modelpage import _cross_validation
    from generator.site.output import template_environment

    cv = {"folds": 5, "pairs": 131, "pretrained": {"R@1": 21.0, "MAP": 30.5}, "finetuned": {"R@1": 48.25, "MAP": 60.0},
          "finetuned_std": {"R@1": 4.5, "MAP": 3.0}}
    training = {"settings": [], "table": {"columns": [], "rows": []}, "loss_svg": "", "map_svg": "",
                "split": {"train": 111, "val": 20}, "best_epoch": 12, "recipe": "contrastive",
                "without_pairs": False, "gain": None, "tests": [], "mix": 0.5, "cv": _cross_validation(cv),
                "replicas": False, "gallery_negatives": False}
    html = template_environment().get_template("model.html").render(
        root="", site_title="T", title="The model", page_path="model/index.html", csp="", model_name="m",
        model_source="s", backbone="b", here=None, here_table=None, training=training)
    text = " ".join(html.split())
    assert "the pairs were dealt into 5 groups" in text and "(131 pairs in all)" in text
    assert "<td>48.2 %</td>" in text or "<td>48.3 %</td>" in text
    assert "<td>4.5 %</td>" in text and "<td>21.0 %</td>" in text
    assert "a mix of 50 % trained and 50 % original weights" in text
    assert _cross_validation(None) is None
