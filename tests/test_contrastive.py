"""The default fine-tuning recipe and learning without pairs, run tiny on synthetic pictures."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from generator.ml.augment import DRAWING_LIKE, drawing_like, edge_map
from generator.cli.main import cli
from generator.ml.contrastive import info_nce, split_trunk
from generator.ml.evaluate import Split
from generator.ml.model import build_architecture, load_model
from generator.ml.recipes import fit, fit_without_pairs
from generator.ml.train import TrainSettings, evaluate_model, finetuned_model, save_checkpoint

from .test_train import SIZE, _make_collection

pytestmark = pytest.mark.slow

TINY = TrainSettings(epochs=6, lr=1e-3, batch_pairs=8, views=2, train_size=72, crop_size=SIZE, seed=0,
                     style_effects=("greyscale", "pencil"))


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    return _make_collection(tmp_path_factory.mktemp("tiny-contrastive"), n=16)


@pytest.fixture(scope="module")
def model():
    return load_model("efficientnet_lite0", input_size=SIZE)


def test_default_recipe_lowers_the_loss_and_raises_retrieval_on_its_pairs(collection, model):
    drawings, artworks = collection
    pairs = [(i, i) for i in range(16)]
    result = fit(model, drawings, artworks, Split(train=pairs), TINY)
    losses = [h["loss"] for h in result.history]
    assert len(losses) == 6 and all(np.isfinite(losses))
    assert np.mean(losses[-2:]) < 0.8 * np.mean(losses[:2]), losses
    before = evaluate_model(model, drawings, artworks, pairs, precision="fp32", device="cpu")
    after = evaluate_model(finetuned_model(model, result), drawings, artworks, pairs, precision="fp32",
                           device="cpu")
    assert after.MAP > before.MAP and after.MP <= before.MP, (before.as_dict(), after.as_dict())
    assert result.best_epoch == 6


@pytest.mark.parametrize("frozen", [0, 1, 4, 7])
def test_split_trunk_computes_the_same_embedding(model, frozen):
    net = copy.deepcopy(model.embedder).eval()
    early, late = split_trunk(net, frozen)
    x = torch.rand(2, 3, SIZE, SIZE)
    with torch.no_grad():
        whole = net(x)
        parts = torch.nn.functional.normalize(late(early(x)).mean(dim=(2, 3)), dim=1)
    assert torch.allclose(whole, parts, atol=1e-5)


def test_split_trunk_refuses_impossible_stage_counts():
    from generator.errors import ConfigError

    with pytest.raises(ConfigError, match="between 0 and 7"):
        split_trunk(build_architecture("efficientnet_lite0"), 8)


def test_info_nce_rewards_matching_rows_and_spares_other_true_matches():
    q = torch.nn.functional.normalize(torch.eye(4, 8), dim=1)
    none = torch.zeros(4, 4, dtype=torch.bool)
    aligned = info_nce(q, q, none, 0.05)
    shuffled = info_nce(q, q.roll(1, dims=0), none, 0.05)
    assert aligned < 0.01 < shuffled
    # Key 1 is also a true match of query 0: with the mask, it is not counted as a wrong answer.
    k = q.clone()
    k[1] = q[0]
    same = none.clone()
    same[0, 1] = same[1, 0] = True
    assert info_nce(q, k, same, 0.05) < info_nce(q, k, none, 0.05)


def test_drawing_like_versions_keep_the_shape_and_repeat_with_a_seed():
    rgb = (np.random.default_rng(0).random((48, 64, 3)) * 255).astype(np.uint8)
    for name, effect in DRAWING_LIKE.items():
        out = effect(rgb)
        assert out.shape == rgb.shape and out.dtype == np.uint8, name
    a = drawing_like(rgb, np.random.default_rng(3))
    b = drawing_like(rgb, np.random.default_rng(3))
    assert np.array_equal(a, b) and a.shape == rgb.shape
    lines = edge_map(rgb)
    assert set(np.unique(lines)) <= {0, 255} and (lines == 255).mean() > 0.3  # black lines on white paper


def test_learning_without_pairs(collection, model):
    """Each artwork learned from drawing-like versions of itself: the loss falls, the mix kept is the one that
    ranks the held-out artworks best, and the result says which artworks it learned from (never the held-out
    ones)."""
    _, artworks = collection
    result = fit_without_pairs(model, artworks, replace(TINY, epochs=4))
    losses = [h["loss"] for h in result.history]
    assert len(losses) == 4 and np.mean(losses[-2:]) < np.mean(losses[:2]), losses
    assert result.best_val["MAP"] == pytest.approx({t["mix"]: t["MAP"] for t in result.mix_curve}[result.mix])
    assert result.best_val["MAP"] >= result.mix_curve[0]["MAP"]
    assert len(result.artworks_learned) == len(artworks) - result.pretrained_val["n_queries"]


def test_train_without_pairs_then_build_uses_it(collection, tmp_path):
    """'sitegen train' with artworks only writes a model file that 'sitegen build --model' uses."""
    import json

    drawings, artworks = collection
    out = tmp_path / "replica.pt"
    res = res_train = CliRunner().invoke(cli, ["train", "--artworks", str(artworks[0].parent), "--out", str(out),
                                               "--epochs", "2", "--train-size", "72", "--crop-size", str(SIZE)])
    assert res.exit_code == 0, res.output
    assert "learning from the 16 artworks alone" in res.output and out.is_file()
    loaded = load_model(str(out))
    assert loaded.checkpoint["split"] == {"train": [], "val": [], "test": []}  # no pair was used
    site = tmp_path / "site"
    res = CliRunner().invoke(cli, ["build", "--drawings", str(drawings[0].parent), "--artworks",
                                   str(artworks[0].parent), "--model", str(out), "--out", str(site),
                                   "--cache", str(tmp_path / "cache"), "--publish-embeddings"])
    assert res.exit_code == 0, res.output
    card = json.loads((site / "data/model-card.json").read_text())
    assert card["fine_tuned"] is True
    # The site's vectors are the trained model's, not the pretrained network's.
    from generator.ml.embed import embed_paths

    published = np.load(site / "data" / "embeddings-artworks.npy").astype(np.float32)
    trained = embed_paths(loaded, artworks, precision="fp32", device="cpu", workers=1).vectors
    pretrained = embed_paths(load_model("efficientnet_lite0", input_size=SIZE), artworks, precision="fp32",
                             device="cpu", workers=1).vectors
    assert np.abs(published - trained).max() < 1e-4
    if loaded.checkpoint["mix"] == 0:  # the guard gave the pretrained weights back, and said so
        assert "keeps the pretrained weights" in res_train.output
        assert np.abs(published - pretrained).max() < 1e-4
    else:
        assert np.abs(published - pretrained).max() > 1e-3


def test_pairs_without_drawings_folder_is_a_clear_error(tmp_path):
    res = CliRunner().invoke(cli, ["train", "--artworks", str(tmp_path), "--pairs", str(tmp_path / "p.csv"),
                                   "--out", str(tmp_path / "m.pt")])
    assert res.exit_code != 0 and "--pairs needs --drawings" in res.output


def test_save_checkpoint_of_the_default_recipe(collection, model, tmp_path):
    drawings, artworks = collection
    split = Split(train=[(i, i) for i in range(12)], val=[(12, 12), (13, 13)], test=[(14, 14), (15, 15)])
    result = fit(model, drawings, artworks, split, replace(TINY, epochs=1))
    path = save_checkpoint(tmp_path / "m.pt", result, model.name, TINY, split)
    ck = load_model(str(path)).checkpoint
    assert ck["settings"]["recipe"] == "contrastive" and ck["split"]["val"][0] == ["drawing_12.png", "art_12.png"]
    assert ck["metrics"]["finetuned"]["test"] is not None
