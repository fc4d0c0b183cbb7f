"""Fine-tuning on a tiny synthetic collection: loss, checkpoints, resume, corrupt files, mining."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from generator.ml.augment import STYLE_EFFECTS, apply_style
from generator.errors import CheckpointError, ConfigError
from generator.ml.evaluate import Split
from generator.ml.model import load_model
from generator.ml.recipes import fit
from generator.ml.train import (TrainSettings, evaluate_model, hardest_negatives, partial_path_for, save_checkpoint,
                             train_transform, triplet_loss)

pytestmark = pytest.mark.slow

SIZE = 64  # model input: tiny, so an epoch takes well under a second on 2 CPU cores
# The thesis recipe (triplets); the default recipe has its own tests in test_contrastive.py.
TINY = TrainSettings.preset("thesis", epochs=2, lr=1e-4, hard_negatives=2, train_size=72, crop_size=SIZE,
                            eval_batch_size=16, patience=3, seed=0)


def _make_collection(root: Path, n: int = 12, size: int = 96, seed: int = 0):
    """Artworks of random coloured shapes; each drawing a style-transformed crop of one artwork."""
    rng = np.random.default_rng(seed)
    (root / "artworks").mkdir(parents=True)
    (root / "drawings").mkdir()
    styles = list(STYLE_EFFECTS)
    drawings, artworks = [], []
    for i in range(n):
        img = Image.new("RGB", (size, size), tuple(int(c) for c in rng.integers(0, 256, 3)))
        draw = ImageDraw.Draw(img)
        for _ in range(4):
            x0, y0 = (int(v) for v in rng.integers(0, size - 20, 2))
            w, h = (int(v) for v in rng.integers(10, 50, 2))
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x0, y0, x0 + w, y0 + h], fill=colour)
        art = root / "artworks" / f"art_{i:02d}.png"
        img.save(art)
        c = int(rng.integers(0, 12))
        crop = np.ascontiguousarray(np.asarray(img)[c:size - 12 + c, c:size - 12 + c])
        drawing = root / "drawings" / f"drawing_{i:02d}.png"
        Image.fromarray(apply_style(styles[i % len(styles)], crop)).save(drawing)
        artworks.append(art)
        drawings.append(drawing)
    return drawings, artworks


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    return _make_collection(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def model():
    return load_model("efficientnet_lite0", input_size=SIZE)


# No validation part: the last epoch is kept, so the weights surely change.
SPLIT = Split(train=[(i, i) for i in range(8)], val=[], test=[(i, i) for i in range(8, 12)])
SPLIT_VAL = Split(train=[(i, i) for i in range(8)], val=[(8, 8), (9, 9)], test=[(10, 10), (11, 11)])


@pytest.fixture(scope="module")
def trained(collection, model):
    drawings, artworks = collection
    return fit(model, drawings, artworks, SPLIT, TINY)


def test_loss_is_finite_and_history_complete(trained):
    assert len(trained.history) == 2
    for entry in trained.history:
        assert np.isfinite(entry["loss"]) and entry["triplets"] == 16 and entry["seconds"] > 0
    assert trained.best_epoch == 2
    assert trained.pretrained_test is not None and trained.finetuned_test is not None


def test_fit_leaves_the_callers_model_unchanged(collection, model, trained):
    fresh = load_model("efficientnet_lite0", input_size=SIZE)
    for (k, a), b in zip(model.embedder.state_dict().items(), fresh.embedder.state_dict().values()):
        assert torch.equal(a, b), k
    changed = [k for k, v in trained.state_dict.items() if not torch.equal(v, model.embedder.state_dict()[k])]
    assert changed


def test_checkpoint_loads_back(tmp_path, model, trained):
    out = tmp_path / "chairs.pt"
    partial_path_for(out).write_bytes(b"left over")
    save_checkpoint(out, trained, model.name, TINY, SPLIT)
    assert not partial_path_for(out).exists()
    assert [p.name for p in tmp_path.iterdir()] == ["chairs.pt"]  # no temp file left behind
    loaded = load_model(str(out))
    assert loaded.name == "efficientnet_lite0" and loaded.input_size == SIZE
    assert loaded.fingerprint != model.fingerprint
    ck = loaded.checkpoint
    assert ck["split"]["train"][0] == ["drawing_00.png", "art_00.png"]
    assert ck["settings"]["margin"] == 0.7 and ck["history"][-1]["epoch"] == 2
    assert set(ck["metrics"]) == {"pretrained", "finetuned", "validation_gain"}
    assert ck["created_with"].startswith("sitegen ")
    x = torch.rand(2, 3, SIZE, SIZE)
    with torch.no_grad():
        y = loaded.embedder(x)
    assert y.shape == (2, 1280) and torch.allclose(y.norm(dim=1), torch.ones(2), atol=1e-4)


def test_early_stopping_keeps_the_best_weights(collection, model):
    drawings, artworks = collection
    result = fit(model, drawings, artworks, SPLIT_VAL, replace(TINY, epochs=3, patience=1))
    maps = [result.pretrained_val["MAP"]] + [h["val_MAP"] for h in result.history]
    assert result.best_val["MAP"] == max(maps)
    assert result.best_epoch == int(np.argmax(maps))
    assert len(result.history) <= 3


def test_interrupted_run_resumes_and_matches(tmp_path, collection, model, trained):
    drawings, artworks = collection
    partial = partial_path_for(tmp_path / "m.pt")

    class Stop(Exception):
        pass

    def stop_after_first_epoch(event):
        if event["event"] == "epoch":
            raise Stop

    with pytest.raises(Stop):
        fit(model, drawings, artworks, SPLIT, TINY, resume_from=partial, progress=stop_after_first_epoch)
    assert partial.is_file()
    events = []
    resumed = fit(model, drawings, artworks, SPLIT, TINY, resume_from=partial, progress=events.append)
    assert events[0] == {"event": "resumed", "epoch": 1}
    assert [h["epoch"] for h in resumed.history] == [1, 2]
    # Same seed, same data: the resumed run ends where the uninterrupted one did.
    for k, v in trained.state_dict.items():
        assert torch.allclose(v.float(), resumed.state_dict[k].float(), atol=1e-5), k
    save_checkpoint(tmp_path / "m.pt", resumed, model.name, TINY, SPLIT)
    assert not partial.exists()


def test_partial_from_other_settings_is_refused(tmp_path, collection, model):
    drawings, artworks = collection
    partial = tmp_path / "m.pt.partial"
    fit(model, drawings, artworks, SPLIT, replace(TINY, epochs=1), partial_path=partial)
    with pytest.raises(CheckpointError) as info:
        fit(model, drawings, artworks, SPLIT, replace(TINY, epochs=1, margin=0.5), resume_from=partial)
    msg = str(info.value)
    assert str(partial) in msg and "margin 0.7 there, 0.5 now" in msg
    assert f"Delete {partial} or pass --restart" in msg


@pytest.mark.parametrize("damage", ["truncated", "random"])
def test_corrupt_partial_is_reported(tmp_path, collection, model, damage):
    drawings, artworks = collection
    partial = tmp_path / "m.pt.partial"
    fit(model, drawings, artworks, SPLIT, replace(TINY, epochs=1), partial_path=partial)
    data = partial.read_bytes()
    partial.write_bytes(data[: len(data) // 2] if damage == "truncated"
                        else np.random.default_rng(0).bytes(4096))
    with pytest.raises(CheckpointError) as info:
        fit(model, drawings, artworks, SPLIT, replace(TINY, epochs=1), resume_from=partial)
    assert str(partial) in str(info.value) and "--restart" in str(info.value)


@pytest.mark.parametrize("damage", ["truncated", "random"])
def test_corrupt_checkpoint_is_reported(tmp_path, model, trained, damage):
    out = tmp_path / "m.pt"
    save_checkpoint(out, trained, model.name, TINY, SPLIT)
    data = out.read_bytes()
    out.write_bytes(data[: len(data) // 3] if damage == "truncated" else np.random.default_rng(1).bytes(8192))
    with pytest.raises(CheckpointError) as info:
        load_model(str(out))
    assert str(out) in str(info.value)


def test_hardest_negatives_on_given_embeddings():
    queries = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    angles = np.deg2rad([0, 10, 20, 90, 100, 30])
    gallery = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    # Query 0 matches artwork 0: hardest others are 1 (10 deg), 2 (20 deg), 5 (30 deg).
    # Query 1 matches artwork 3: hardest others are 4 (100 deg = 10 deg away), 5, 2.
    negs = hardest_negatives(queries, gallery, [{0}, {3}], k=3)
    assert negs[0].tolist() == [1, 2, 5]
    assert negs[1].tolist() == [4, 5, 2]
    allowed = np.array([True, False, True, True, True, True])
    assert hardest_negatives(queries, gallery, [{0}, {3}], k=2, allowed=allowed)[0].tolist() == [2, 5]
    assert hardest_negatives(queries[:1], gallery[:2], [{0}], k=5)[0].tolist() == [1]


def test_triplet_loss_on_cosine_distance():
    a = torch.tensor([[1.0, 0.0]])
    p = torch.tensor([[1.0, 0.0]])
    n = torch.tensor([[0.0, 1.0]])
    # d(a,p) = 0, d(a,n) = 1: loss = max(0, 0 - 1 + 0.7) = 0
    assert triplet_loss(a, p, n, 0.7).item() == 0.0
    # swapped: d(a,p) = 1, d(a,n) = 0: 1.7
    assert triplet_loss(a, n, p, 0.7).item() == pytest.approx(1.7)


def test_train_transform_is_seeded_and_in_range():
    rgb = (np.random.default_rng(0).random((72, 72, 3)) * 255).astype(np.uint8)
    a = train_transform(rgb, 64, np.random.default_rng(5), style_p=1.0)
    b = train_transform(rgb, 64, np.random.default_rng(5), style_p=1.0)
    assert a.shape == (3, 64, 64) and a.dtype == np.float32
    assert np.array_equal(a, b) and 0.0 <= a.min() and a.max() <= 1.0


def test_evaluate_model_with_whole_gallery(collection, model):
    drawings, artworks = collection
    m = evaluate_model(model, drawings, artworks, [(i, i) for i in range(12)], precision="fp32", device="cpu")
    assert m.n_queries == 12 and m.n_gallery == 12 and 0 < m.MAP <= 1


def test_unreadable_drawing_counts_as_left_out(tmp_path, collection, model):
    drawings, artworks = collection
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    m = evaluate_model(model, [*drawings, broken], artworks, [(i, i) for i in range(3)] + [(12, 0)],
                       precision="fp32", device="cpu")
    assert m.n_queries == 3 and m.n_unreadable == 1


def test_thesis_preset_is_the_thesis_recipe():
    t = TrainSettings.preset("thesis")
    assert (t.recipe, t.lr, t.margin, t.batch_size, t.train_size, t.crop_size) == ("thesis", 1e-6, 0.7, 4, 330, 280)
    assert t.lr * t.lr_gamma ** t.epochs == pytest.approx(1e-7)  # decayed by 0.1 over the run
    assert len(t.style_effects) == 5 and t.style_augmentation
    with pytest.raises(ConfigError, match="Unknown recipe 'fast'"):
        TrainSettings.preset("fast")


def test_invalid_settings_are_reported_together():
    with pytest.raises(ConfigError) as err:
        replace(TINY, margin=-1, crop_size=100)
    assert str(err.value).splitlines() == ["These training settings cannot work:",
                                           "  - margin must be a number of at least 0 (got -1.0)",
                                           f"  - crop_size (100) must not exceed train_size ({TINY.train_size})"]


def test_freeze_stages_freezes_stem_and_first_blocks():
    from generator.ml.model import build_architecture
    from generator.ml.train import _freeze, _stages

    net = build_architecture("efficientnet_lite0")
    stages = _stages(net)
    assert len(stages) == 8  # stem + 7 blocks
    _freeze(net, 2)
    assert not any(p.requires_grad for s in stages[:2] for p in s.parameters())
    assert all(p.requires_grad for s in stages[2:] for p in s.parameters())
