"""The model factory: shapes, finiteness, and clear errors instead of silent random weights."""

import pytest
import torch

from generator.errors import CheckpointError, ModelError
from generator.model import BUILTIN_BACKBONES, build_architecture, load_model, resolve_model


@pytest.mark.parametrize("name", BUILTIN_BACKBONES)
def test_every_backbone_runs(name):
    net = build_architecture(name).eval()
    with torch.inference_mode():
        y = net(torch.rand(2, 3, 96, 96))
    assert y.shape == (2, net.dim) and torch.isfinite(y).all()
    assert torch.allclose(y.norm(dim=1), torch.ones(2), atol=1e-5)


def test_packaged_weights_are_real():
    m = load_model("efficientnet_lite0")
    fresh = build_architecture("efficientnet_lite0")
    loaded = dict(m.embedder.state_dict())
    w = "trunk.net.conv_stem.weight"
    assert not torch.equal(loaded[w], fresh.state_dict()[w])
    assert m.dim == 1280 and "ImageNet" in m.weights_source


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
