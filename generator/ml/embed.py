"""Batched feature extraction, with picture decoding overlapped with the network.

Decoding runs in a small thread pool (Pillow releases the GIL while decoding,
and JPEG scans are decoded at 1/2, 1/4 or 1/8 scale) while the network works
on the previous batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from generator.errors import ImageError
from generator.inputs.images import DEFAULT_MAX_PIXELS, model_input
from generator.ml.device import choose_device, choose_precision
from generator.ml.model import LoadedModel


@dataclass
class EmbedResult:
    vectors: np.ndarray                 # len(ok) x dim, float32, L2-normalised
    ok: list[int]                       # indices into the input paths that were embedded
    failures: list[ImageError]          # pictures that could not be decoded


def prepare_model(model: LoadedModel, device: str, precision: str) -> torch.nn.Module:
    net = model.embedder.to(device).eval()
    if precision == "bf16" or device == "cpu":
        net = net.to(memory_format=torch.channels_last)
    return net


def _decode(path: Path, size: int, max_pixels: int):
    try:
        return model_input(path, size, max_pixels=max_pixels)
    except ImageError as exc:
        return exc


def _batches(seq: Sequence, size: int) -> Iterable[Sequence]:
    for start in range(0, len(seq), size):
        yield seq[start:start + size]


def embed_paths(model: LoadedModel, paths: Sequence[Path], *, batch_size: int = 16,
                precision: str = "auto", device: str | None = None, workers: int = 2,
                max_pixels: int = DEFAULT_MAX_PIXELS,
                progress: Callable[[int], None] | None = None) -> EmbedResult:
    """Embed every picture in ``paths``. Bad pictures are returned as failures, never silently dropped."""
    device = choose_device(device or "auto")
    precision = choose_precision(precision, device)
    net = prepare_model(model, device, precision)
    size = model.input_size
    out: list[np.ndarray] = []
    ok: list[int] = []
    failures: list[ImageError] = []
    indices = list(range(len(paths)))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        decoded = pool.map(lambda i: _decode(paths[i], size, max_pixels), indices)
        for chunk in _batches(indices, batch_size):
            arrays, kept = [], []
            for i in chunk:
                item = next(decoded)
                if isinstance(item, ImageError):
                    failures.append(item)
                else:
                    arrays.append(item)
                    kept.append(i)
            if arrays:
                out.append(embed_padded(net, arrays, batch_size, device, precision))
                ok.extend(kept)
            if progress:
                progress(len(chunk))
    vectors = np.concatenate(out) if out else np.zeros((0, model.dim), np.float32)
    return EmbedResult(vectors, ok, failures)


def embed_padded(net: torch.nn.Module, arrays: Sequence[np.ndarray], batch_size: int, device: str,
                 precision: str) -> np.ndarray:
    """Embed up to ``batch_size`` model inputs as one batch of exactly ``batch_size`` (padded with copies).

    Every batch has the same shape: the CPU's convolution code may take another path for another
    batch size, and a picture's vector must not depend on how many pictures happened to share its
    batch (byte-identical sites).
    """
    padded = list(arrays) + [arrays[-1]] * (batch_size - len(arrays))
    return embed_arrays(net, np.stack(padded), device, precision)[:len(arrays)]


@torch.inference_mode()
def embed_arrays(net: torch.nn.Module, batch: np.ndarray, device: str, precision: str) -> np.ndarray:
    """Embed a uint8 N x H x W x 3 batch with a prepared network."""
    x = torch.from_numpy(batch).to(device).permute(0, 3, 1, 2).float().div_(255.0)
    x = x.contiguous(memory_format=torch.channels_last)
    if precision == "bf16":
        with torch.autocast(device_type="cuda" if device.startswith("cuda") else "cpu", dtype=torch.bfloat16):
            y = net(x)
    else:
        y = net(x)
    y = torch.nn.functional.normalize(y.float(), dim=1)
    return y.cpu().numpy().astype(np.float32)
