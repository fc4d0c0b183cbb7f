"""One factory for every backbone: pretrained networks and sitegen's own fine-tuned checkpoints.

Every model maps a batch of RGB pictures (uint8, N x H x W x 3) to L2-normalised
feature vectors taken by global average pooling of the last convolutional map,
so cosine similarity is a plain dot product.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from generator.errors import CheckpointError, ModelError
from generator.ml.weights import (BUILTIN_BACKBONES, PACKAGED_WEIGHTS, PREPROCESS_VERSION, ModelChoice,  # noqa: F401
                                  PackagedWeights, is_checkpoint_path, resolve_model, unknown_model)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

CHECKPOINT_FORMAT = "sitegen-checkpoint"
CHECKPOINT_VERSION = 1

#: Picture size (pixels, square) each built-in network was trained at on ImageNet.
#: Informative only: ``load_model`` uses the ``input_size`` its caller passes
#: (280 by default, the thesis's size), so existing caches keep their fingerprint.
NATIVE_INPUT_SIZE = {"efficientnet_lite0": 224, "efficientnet_lite2": 260, "resnext101_32x8d": 224}


class Embedder(nn.Module):
    """Backbone trunk + global average pooling + L2 normalisation, with ImageNet normalisation built in."""

    def __init__(self, trunk: nn.Module, dim: int):
        super().__init__()
        self.trunk = trunk
        self.dim = dim
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``images``: float tensor N x 3 x H x W in [0, 1]."""
        x = (images - self.mean) / self.std
        fmap = self.trunk(x)
        pooled = fmap.float().mean(dim=(2, 3))
        return F.normalize(pooled, dim=1)


@dataclass
class LoadedModel:
    """A ready network and what identifies it."""

    name: str            # backbone architecture name
    embedder: Embedder
    weights_source: str  # human-readable origin of the weights
    fingerprint: str     # changes whenever the weights or preprocessing change
    input_size: int
    checkpoint: dict | None = None  # training record, for fine-tuned models

    @property
    def dim(self) -> int:
        return self.embedder.dim


class _TorchvisionTrunk(nn.Module):
    def __init__(self, net: nn.Module):
        super().__init__()
        self.body = nn.Sequential(*list(net.children())[:-2])  # drop avgpool and fc

    def forward(self, x):
        return self.body(x)


class _TimmTrunk(nn.Module):
    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net.forward_features(x)


def build_architecture(name: str) -> Embedder:
    """The network for ``name`` with untrained weights (weights are loaded separately)."""
    if name == "resnext101_32x8d":
        import torchvision

        return Embedder(_TorchvisionTrunk(torchvision.models.resnext101_32x8d(weights=None)), 2048)
    try:
        import timm

        net = timm.create_model(name, pretrained=False, num_classes=0, global_pool="")
    except Exception as exc:  # timm raises RuntimeError for unknown names
        raise unknown_model(name, str(exc)) from None
    return Embedder(_TimmTrunk(net), int(net.num_features))


def _load_state_by_order(target: nn.Module, source: dict, origin: str) -> None:
    """Copy ``source`` onto ``target`` tensor by tensor, in order (the two use different names)."""
    tgt = target.state_dict()
    src_items = [(k, v) for k, v in source.items() if not k.startswith(("_fc.", "fc.", "classifier."))]
    if len(src_items) != len(tgt):
        raise ModelError(f"The weights in {origin} do not fit this network ({len(src_items)} tensors for "
                         f"{len(tgt)}). Check that the file belongs to this model.")
    new_state = {}
    for (sk, sv), (tk, tv) in zip(src_items, tgt.items()):
        if sv.shape != tv.shape:
            raise ModelError(f"The weights in {origin} do not fit this network ({sk} {tuple(sv.shape)} "
                             f"against {tk} {tuple(tv.shape)}).")
        new_state[tk] = sv
    target.load_state_dict(new_state, strict=True)


def _torch_load(path: Path, what: str) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ModelError(f"The {what} {path} does not exist.") from None
    except Exception as exc:
        raise CheckpointError(
            f"The {what} {path} cannot be read ({type(exc).__name__}: {exc}). It may be damaged or "
            "incomplete: copy it again, or train again with 'sitegen train'."
        ) from None


def _load_plain_weights(embedder: Embedder, name: str, path: Path) -> None:
    state = _torch_load(path, "weights file")
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError(f"The weights file {path} does not hold a state dict for {name}.")
    trunk = embedder.trunk.body if isinstance(embedder.trunk, _TorchvisionTrunk) else embedder.trunk.net
    if name == "resnext101_32x8d":
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
        try:
            trunk.load_state_dict({k: v for k, v in _renumber_torchvision(state).items()}, strict=True)
            return
        except RuntimeError as exc:
            raise ModelError(f"The weights file {path} does not fit resnext101_32x8d ({exc}).") from None
    _load_state_by_order(trunk, state, str(path))


def _renumber_torchvision(state: dict) -> dict:
    """Map torchvision ResNeXt names (conv1, layer1...) onto the Sequential body (0, 4...)."""
    order = ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"]
    out = {}
    for k, v in state.items():
        head, _, rest = k.partition(".")
        out[f"{order.index(head)}.{rest}"] = v
    return out


def load_checkpoint_dict(path: Path) -> dict:
    """Read and validate a sitegen checkpoint file."""
    data = _torch_load(path, "model file")
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"The model file {path} was not made by 'sitegen train'. Pass a model name "
            "(efficientnet_lite0, efficientnet_lite2, resnext101_32x8d) or a file written by 'sitegen train'.")
    for key in ("backbone", "state_dict", "input_size"):
        if key not in data:
            raise CheckpointError(f"The model file {path} is incomplete (no '{key}'). Train again with "
                                  "'sitegen train'.")
    return data


def load_model(spec: str = "efficientnet_lite0", weights: str | Path | None = None,
               input_size: int = 280) -> LoadedModel:
    """Load a backbone by name, or a fine-tuned checkpoint by path. Never falls back to random weights."""
    choice = resolve_model(spec, weights, input_size)
    if choice.is_checkpoint:
        data = load_checkpoint_dict(choice.path)
        embedder = build_architecture(data["backbone"])
        try:
            embedder.load_state_dict(data["state_dict"], strict=True)
        except RuntimeError as exc:
            raise CheckpointError(f"The model file {choice.path} does not match its own backbone ({exc}). "
                                  "Train again with 'sitegen train'.") from None
        embedder.eval()
        return LoadedModel(data["backbone"], embedder, choice.source, choice.fingerprint,
                           int(data["input_size"]), checkpoint=data)
    embedder = build_architecture(spec)
    _load_plain_weights(embedder, spec, choice.path)
    embedder.eval()
    return LoadedModel(spec, embedder, choice.source, choice.fingerprint, input_size)


def checkpoint_record(model: str) -> dict | None:
    """What a model file from 'sitegen train' says about itself (backbone, settings, metrics, history,
    split...) without its weights; None when the model setting names an architecture."""
    if not is_checkpoint_path(str(model)) or not Path(model).is_file():
        return None
    return {k: v for k, v in load_checkpoint_dict(Path(model)).items() if k != "state_dict"}
