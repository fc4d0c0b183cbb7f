"""Decisions feed training: an artwork rejected for a drawing is always among that drawing's negatives, in
both recipes, and 'sitegen train --decisions' reads the files."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from click.testing import CliRunner

from generator.cli.main import cli
from generator.ml import contrastive, train
from generator.ml.contrastive import info_nce
from generator.ml.evaluate import Split
from generator.ml.model import load_model
from generator.ml.recipes import fit
from generator.ml.train import TrainSettings

from .test_train import SIZE, TINY, _make_collection

pytestmark = pytest.mark.slow

SPLIT = Split(train=[(i, i) for i in range(8)])
NEGATIVES = {3: {9}, 5: {2, 11}}   # artwork 2 is also drawing 2's own: a negative of drawing 5 only


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    return _make_collection(tmp_path_factory.mktemp("tiny-decisions"))


@pytest.fixture(scope="module")
def model():
    return load_model("efficientnet_lite0", input_size=SIZE)


def test_thesis_recipe_always_mines_the_rejected_artworks(collection, model, monkeypatch):
    seen = []
    real = train._train_epoch

    def spy(bench, net, optimizer, triplets, *args, **kwargs):
        seen.append(list(triplets))
        return real(bench, net, optimizer, triplets, *args, **kwargs)
    monkeypatch.setattr(train, "_train_epoch", spy)
    drawings, artworks = collection
    fit(model, drawings, artworks, SPLIT, replace(TINY, epochs=2, hard_negatives=1), negatives=NEGATIVES)
    assert len(seen) == 2
    for triplets in seen:
        negatives_of = {}
        for d, _, n in triplets:
            negatives_of.setdefault(d, set()).add(n)
        assert negatives_of[3] == {9} and negatives_of[5] == {2, 11}, "known negatives first, always"
        assert all(len(negatives_of[d]) == 1 for d in negatives_of if d not in NEGATIVES)


def test_default_recipe_puts_the_rejected_artworks_in_their_drawings_batches(collection, model, monkeypatch):
    batches = []
    real = contrastive.batch_keys

    def spy(batch, negatives):
        keys = real(batch, negatives)
        batches.append((list(batch), keys))
        return keys
    monkeypatch.setattr(contrastive, "batch_keys", spy)
    drawings, artworks = collection
    # One pass over the pairs an epoch (min_batches 0), so each drawing is in one batch an epoch.
    settings = TrainSettings(epochs=2, lr=1e-3, batch_pairs=4, views=1, train_size=72, crop_size=SIZE, seed=0,
                             style_effects=("greyscale",), min_batches=0)
    result = fit(model, drawings, artworks, SPLIT, settings, negatives=NEGATIVES)
    assert all(torch.isfinite(torch.tensor(e["loss"])) for e in result.history)
    with_3 = [keys for batch, keys in batches if 3 in {d for d, _ in batch}]
    with_5 = [keys for batch, keys in batches if 5 in {d for d, _ in batch}]
    assert len(with_3) == 2 and all(9 in keys for keys in with_3)
    assert len(with_5) == 2 and all({2, 11} <= set(keys) for keys in with_5)
    assert all(9 not in keys for batch, keys in batches if 3 not in {d for d, _ in batch})


def test_extra_negative_keys_raise_the_loss_when_they_look_like_the_drawing():
    q = torch.nn.functional.normalize(torch.eye(3, 8), dim=1)
    none = torch.zeros(3, 3, dtype=torch.bool)
    plain = info_nce(q, q, none, 0.1)
    assert info_nce(q, q, none, 0.1) == plain
    close = torch.cat([q, q[:1]])  # an extra key identical to drawing 0: a hard rejected artwork
    harder = info_nce(q, close, torch.zeros(3, 4, dtype=torch.bool), 0.1)
    assert harder > plain


def test_train_command_reads_decisions(collection, tmp_path):
    drawings, artworks = collection
    root = drawings[0].parent.parent
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("drawing,artwork\n" + "".join(f"drawing_{i:02d}.png,art_{i:02d}.png\n" for i in range(6)))
    decisions = tmp_path / "decisions.csv"
    decisions.write_text("drawing,artwork,decision,note\n"
                         "drawing_06,art_06,confirmed,\ndrawing_07,art_07,confirmed,\n"
                         "drawing_08,art_08,confirmed,\ndrawing_09,art_09,confirmed,\n"
                         "drawing_01,art_05,rejected,\ndrawing_01,art_01,rejected,\nnobody,art_02,confirmed,\n")
    res = CliRunner().invoke(cli, ["train", "--drawings", str(root / "drawings"), "--artworks",
                                   str(root / "artworks"), "--pairs", str(pairs), "--decisions", str(decisions),
                                   "--out", str(tmp_path / "m.pt"), "--epochs", "1", "--train-size", "72",
                                   "--crop-size", str(SIZE)])
    assert res.exit_code == 0, res.output
    assert "Decisions: 4 confirmed pairs added, 1 rejected suggestions used as known negatives." in res.output
    assert f"{decisions} line 8: no published drawing has the identifier 'nobody'" in res.output
    assert f"{pairs}: drawing_01 and art_01 are confirmed there but rejected in a decisions file" in res.output
    assert "10 pairs:" in res.output
