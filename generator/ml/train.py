"""Fine-tuning: the settings, the thesis's triplet recipe, measuring, and model files.

Two recipes share the settings (:class:`TrainSettings`) and the model files:

- **default** (:mod:`generator.ml.contrastive`): in-batch contrastive loss, early
  stages frozen and cached, AdamW 3e-4 with cosine decay, a fixed number of
  epochs, weights averaged over the last half. Chosen by cross-validation inside
  the chair training pairs (``benchmarks/bench_train.py --cv``).
- **thesis** (:func:`fit_triplet`, ``TrainSettings.preset("thesis")``): triplets
  (drawing, its artwork, a hard negative). For every training pair the
  ``hard_negatives`` most similar *non-matching* artworks under the current
  model are mined again at the start of every epoch, among all artworks of the
  gallery; triplet loss on cosine distance ``1 - cos`` with margin 0.7; Adam,
  4 triplets a step, learning rate 1e-6 decayed by a factor 0.1, the five style
  effects, 330 px pictures cropped to 280; early stopping on validation MAP (the
  pretrained weights count as epoch 0, so a run that never improves on them
  gives them back, and says so).

Where the default departs from the thesis, and why: with a few hundred pairs
the hardest-negative triplet loss at margin 0.7 collapses the embedding (the
loss stalls near the margin, positive and negative at the same distance) and
its outcome swings with the seed; 1e-6 barely moves the network in the time a
CPU allows; early stopping on a small validation set picks noise. The
in-batch loss compares every drawing of a batch with every artwork of it,
has no margin to collapse onto, and with frozen early stages runs in minutes
on two CPU cores. The thesis's two lessons are kept: few well-chosen pairs,
and style augmentation of the training drawings.

Pairs handed to :func:`fit` and :func:`evaluate_model` are **index pairs**
``(drawing_index, artwork_index)`` into the ``drawings`` and ``artworks`` path
lists; checkpoints record them by file name (relative to the folder the files
share), so a checkpoint says which pictures it was trained and measured on.

Checkpoints hold only plain types and tensors so that ``torch.load(...,
weights_only=True)`` (used by :func:`generator.ml.model.load_model`) can read them.
"""

from __future__ import annotations

import copy
import hashlib
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from generator import __version__
from generator.ml.augment import random_style
from generator.ml.device import choose_device, choose_precision
from generator.ml.embed import embed_paths
from generator.errors import CheckpointError, ConfigError, ImageError
from generator.ml.evaluate import Metrics, Split, retrieval_metrics_from_embeddings
from generator.ml.evaluate import learned_pairs as _learned_pairs
from generator.fsutil import write_atomic_with
from generator.settings import PRESETS, TrainSettings
from generator.inputs.images import load_rgb
from generator.ml.model import CHECKPOINT_FORMAT, CHECKPOINT_VERSION, PREPROCESS_VERSION, Embedder, LoadedModel

PARTIAL_FORMAT = "sitegen-training-state"
PARTIAL_VERSION = 1

#: Decoded training pictures kept in memory (each train_size^2 x 3 bytes: 330 px -> 0.33 MB).
_CACHE_ITEMS = 2000

# ImageNet-style luminance weights, as torchvision's rgb_to_grayscale.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)

IndexPair = tuple[int, int]
Progress = Callable[[dict], None]


# --------------------------------------------------------------------------- results

@dataclass
class TrainResult:
    """What :func:`fit` learned and measured."""

    state_dict: dict[str, torch.Tensor]       # best weights (of the Embedder), on the CPU
    history: list[dict]                       # one entry per epoch: epoch, loss, lr, val_MAP, val_R@1..., seconds
    best_epoch: int                           # 0 means no epoch beat the pretrained weights on validation
    pretrained_val: dict | None               # Metrics.as_dict() before training (None without val pairs)
    best_val: dict | None                     # the same for the kept weights
    pretrained_test: dict | None = None       # measured when the split has test pairs
    finetuned_test: dict | None = None
    stopped_early: bool = False
    seconds: float = 0.0                      # training time, including validation, this call only
    drawing_names: list[str] = field(default_factory=list)
    artwork_names: list[str] = field(default_factory=list)
    unusable: list[str] = field(default_factory=list)   # pictures left out (could not be decoded)
    settings: dict = field(default_factory=dict)
    input_size: int = 280                     # evaluation input size of the model trained
    rejected_val: dict | None = None          # validation figures of fine-tuned weights that were given up
    val_gain: dict | None = None              # map_gain of the trained over the pretrained weights, validation
    artworks_learned: list[int] = field(default_factory=list)  # artworks learned from drawing-like versions of them
    mix: float | None = None                  # share of the fine-tuned weights kept (0: pretrained, 1: fine-tuned)
    mix_curve: list[dict] = field(default_factory=list)  # the guard's tries: {"mix", "MAP", "R@1"} on validation


def _relative_names(paths: Sequence[Path]) -> list[str]:
    """Names relative to the folder all ``paths`` share (plain file names for one flat folder)."""
    if not paths:
        return []
    strs = [os.path.abspath(p) for p in paths]
    base = os.path.commonpath(strs) if len(strs) > 1 else os.path.dirname(strs[0])
    if len(strs) > 1 and base in strs:  # all the same file
        base = os.path.dirname(base)
    return [Path(os.path.relpath(s, base)).as_posix() for s in strs]


def _state_fingerprint(state: dict[str, torch.Tensor]) -> str:
    h = hashlib.sha256()
    for k, v in state.items():
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def finetuned_model(base: LoadedModel, result: TrainResult) -> LoadedModel:
    """A :class:`LoadedModel` with the fine-tuned weights of ``result``, without writing a file."""
    embedder = copy.deepcopy(base.embedder).cpu()
    embedder.load_state_dict(result.state_dict, strict=True)
    embedder.eval()
    fp = hashlib.sha256(f"mem|{_state_fingerprint(result.state_dict)}|{PREPROCESS_VERSION}|"
                        f"{base.input_size}".encode()).hexdigest()[:16]
    return LoadedModel(base.name, embedder, "fine-tuned (in memory)", fp, base.input_size)


# --------------------------------------------------------------------------- mining

def hardest_negatives(queries: np.ndarray, gallery: np.ndarray, exclude: Sequence[set[int]], k: int,
                      allowed: np.ndarray | None = None) -> list[np.ndarray]:
    """For each query vector, the indices of the ``k`` most similar gallery vectors not in ``exclude[q]``.

    Most similar first; equal similarities in index order. ``allowed`` (boolean,
    one per gallery item) restricts the candidates. A query with fewer than ``k``
    candidates gets them all. Works in row blocks, so a large gallery never needs
    the full query x gallery matrix.
    """
    n_gallery = gallery.shape[0]
    gallery_t = np.ascontiguousarray(gallery.T, dtype=np.float32)
    blocked = None if allowed is None else ~np.asarray(allowed, bool)
    rows = max(1, (1 << 24) // max(1, n_gallery))
    out: list[np.ndarray] = []
    for start in range(0, len(exclude), rows):
        sims = np.asarray(queries[start:start + rows], dtype=np.float32) @ gallery_t
        if blocked is not None:
            sims[:, blocked] = -np.inf
        for i, row in enumerate(sims):
            ex = exclude[start + i]
            if ex:
                row[list(ex)] = -np.inf
            finite = np.flatnonzero(np.isfinite(row))
            if len(finite) > k:
                # Everything at least as similar as the k-th best, so ties at the boundary keep index order.
                kth = np.partition(row[finite], len(finite) - k)[len(finite) - k]
                finite = finite[row[finite] >= kth]
            order = finite[np.lexsort((finite, -row[finite]))][:k]
            out.append(order.astype(np.int64))
    return out


def with_known_negatives(mined: np.ndarray, known: set[int], k: int) -> np.ndarray:
    """A drawing's negatives: its known ones (artworks a review rejected) always, then the mined ones up to ``k``.

    >>> with_known_negatives(np.array([5, 2, 9]), {7}, 3).tolist()
    [7, 5, 2]
    >>> with_known_negatives(np.array([5, 2, 9]), {2}, 3).tolist()
    [2, 5, 9]
    """
    first = sorted(known)
    rest = [int(n) for n in mined if int(n) not in known]
    return np.array(first + rest[:max(0, k - len(first))], dtype=np.int64)


def triplet_loss(anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor,
                 margin: float) -> torch.Tensor:
    """Mean of max(0, d(a, p) - d(a, n) + margin) with d = 1 - cosine similarity."""
    anchor, positive, negative = (F.normalize(t.float(), dim=1) for t in (anchor, positive, negative))
    d_ap = 1.0 - (anchor * positive).sum(dim=1)
    d_an = 1.0 - (anchor * negative).sum(dim=1)
    return F.relu(d_ap - d_an + margin).mean()


# --------------------------------------------------------------------------- transforms

class _PictureCache:
    """Training pictures decoded once and squashed to ``size`` x ``size`` (FIFO-bounded)."""

    def __init__(self, size: int, limit: int = _CACHE_ITEMS):
        self.size = size
        self.limit = limit
        self.items: dict[Path, np.ndarray] = {}

    def get(self, path: Path) -> np.ndarray:
        arr = self.items.get(path)
        if arr is None:
            img = load_rgb(path, max_side=self.size)
            arr = np.asarray(img.resize((self.size, self.size), Image.Resampling.BILINEAR, reducing_gap=2.0),
                             dtype=np.uint8)
            if len(self.items) >= self.limit:
                self.items.pop(next(iter(self.items)))
            self.items[path] = arr
        return arr


def train_transform(rgb: np.ndarray, crop: int, rng: np.random.Generator, *, style_p: float = 0.0,
                    style_effects: tuple[str, ...] | None = None) -> np.ndarray:
    """One random training view of a squashed uint8 picture, as float32 3 x crop x crop in [0, 1].

    Optional style effect, random crop, horizontal flip (p 0.2), rotation within 5 degrees
    (corners filled with white paper, not black, as drawings are on paper), brightness /
    contrast / saturation factors in [0.9, 1.1], greyscale (p 0.4). Every random number is
    drawn whether or not it is used, so a seed always gives the same sequence.
    """
    styled = rng.random() < style_p
    if styled:
        rgb = random_style(rgb, rng, style_effects)
    h, w = rgb.shape[:2]
    y = int(rng.integers(0, h - crop + 1))
    x = int(rng.integers(0, w - crop + 1))
    flip = rng.random() < 0.2
    angle = float(rng.uniform(-5.0, 5.0))
    bright, contrast, sat = (float(v) for v in rng.uniform(0.9, 1.1, size=3))
    grey = rng.random() < 0.4
    img = Image.fromarray(np.ascontiguousarray(rgb[y:y + crop, x:x + crop]))
    if flip:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    img = img.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=(255, 255, 255))
    arr = np.asarray(img, dtype=np.float32) / 255.0
    arr = np.clip(arr * bright, 0, 1)
    lum = arr @ _LUMA
    arr = np.clip(contrast * arr + (1 - contrast) * float(lum.mean()), 0, 1)
    lum = arr @ _LUMA
    arr = np.clip(sat * arr + (1 - sat) * lum[..., None], 0, 1)
    if grey:
        arr = np.repeat((arr @ _LUMA)[..., None], 3, axis=2)
    return np.ascontiguousarray(arr.transpose(2, 0, 1), dtype=np.float32)


# --------------------------------------------------------------------------- network helpers

def _set_train_mode(net: nn.Module) -> None:
    """Train mode, except BatchNorm. With 4 triplets (12 correlated pictures) per step the batch
    statistics are too noisy to normalise with, and updating the running averages from them would
    overwrite the ImageNet statistics the pretrained weights depend on; frozen statistics (eval
    mode) keep the network's feature scale stable while its affine parameters still learn."""
    net.train()
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()


def _stages(embedder: Embedder) -> list[nn.Module]:
    """The backbone's stages in input order (stem first), for freezing and for splitting the trunk.

    Running them one after the other gives the trunk's output, except for the
    final layers that :func:`_tail` returns (EfficientNet's head convolution).
    """
    trunk = embedder.trunk
    net = getattr(trunk, "net", None)
    if net is not None and hasattr(net, "blocks"):  # timm EfficientNet / MobileNet family
        stem = [m for m in (getattr(net, "conv_stem", None), getattr(net, "bn1", None)) if m is not None]
        return [nn.Sequential(*stem)] + list(net.blocks)
    body = getattr(trunk, "body", None)
    if body is not None:  # torchvision ResNet family: conv1, bn1, relu, maxpool, layer1..4
        children = list(body.children())
        return [nn.Sequential(*children[:4])] + children[4:]
    return list((net or trunk).children())


def _tail(embedder: Embedder) -> list[nn.Module]:
    """The layers after the last stage (none for the ResNet family)."""
    net = getattr(embedder.trunk, "net", None)
    if net is not None and hasattr(net, "blocks"):
        return [m for m in (getattr(net, "conv_head", None), getattr(net, "bn2", None)) if m is not None]
    return []


def _freeze(embedder: Embedder, n: int) -> None:
    for stage in _stages(embedder)[:n]:
        for p in stage.parameters():
            p.requires_grad_(False)


def _cpu_state(net: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous().clone() for k, v in net.state_dict().items()}


# --------------------------------------------------------------------------- evaluation

def _embed(model: LoadedModel, paths: Sequence[Path], indices: Sequence[int], *, precision: str, device: str,
           batch_size: int) -> tuple[np.ndarray, list[int], list[ImageError]]:
    """Embed ``paths[i]`` for ``i`` in ``indices``; returns vectors, the indices embedded and failures."""
    res = embed_paths(model, [paths[i] for i in indices], batch_size=batch_size, precision=precision,
                      device=device)
    return res.vectors, [indices[j] for j in res.ok], res.failures


def _metrics_for(pairs: Sequence[IndexPair], drawing_vecs: dict[int, np.ndarray], artwork_vecs: np.ndarray,
                 artwork_rows: dict[int, int]) -> Metrics:
    relevant: dict[int, set[int]] = {}
    for d, a in pairs:
        rel = relevant.setdefault(d, set())
        if a in artwork_rows:
            rel.add(artwork_rows[a])
    drawings = [d for d in relevant if d in drawing_vecs]
    queries = np.stack([drawing_vecs[d] for d in drawings]) if drawings else \
        np.zeros((0, artwork_vecs.shape[1]), np.float32)
    metrics = retrieval_metrics_from_embeddings(queries, artwork_vecs, [relevant[d] for d in drawings])
    metrics.n_unreadable = len(relevant) - len(drawings)  # drawings whose picture could not be decoded
    return metrics


def evaluate_model(model: LoadedModel, drawings: Sequence[Path], artworks: Sequence[Path],
                   pairs: Sequence[IndexPair], *, precision: str = "auto", device: str | None = None,
                   batch_size: int = 16) -> Metrics:
    """Retrieval metrics of ``model``: every drawing named in ``pairs`` searched against all ``artworks``.

    Pictures that cannot be decoded are left out: a drawing that cannot be read is
    counted in ``n_unreadable``, a drawing whose artworks all failed in ``n_without_match``.
    """
    device = choose_device(device or "auto")
    drawing_idx = sorted({d for d, _ in pairs})
    dv, dok, _ = _embed(model, drawings, drawing_idx, precision=precision, device=device, batch_size=batch_size)
    av, aok, _ = _embed(model, artworks, list(range(len(artworks))), precision=precision, device=device,
                        batch_size=batch_size)
    return _metrics_for(pairs, dict(zip(dok, dv)), av, {a: r for r, a in enumerate(aok)})


# --------------------------------------------------------------------------- resume files

def partial_path_for(checkpoint: str | Path) -> Path:
    """Where the unfinished-training file of ``checkpoint`` lives: ``<checkpoint>.partial``."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.name + ".partial")


def _torch_save_atomic(obj, path: Path) -> None:
    write_atomic_with(path, lambda fh: torch.save(obj, fh))


def _restart_hint(path: Path) -> str:
    return f"Delete {path} or pass --restart to start the training again."


def _load_partial(path: Path, expected: dict) -> dict:
    """Read an unfinished-training file and check it belongs to this run."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"The unfinished training file {path} cannot be read ({type(exc).__name__}); it is "
                              f"damaged or incomplete. {_restart_hint(path)}") from None
    required = ("format", "version", "epoch", "model", "optimizer", "scheduler", "history", "rng", "identity")
    if not isinstance(data, dict) or data.get("format") != PARTIAL_FORMAT or any(k not in data for k in required):
        raise CheckpointError(f"The file {path} is not an unfinished sitegen training. {_restart_hint(path)}")
    if data["version"] != PARTIAL_VERSION:
        raise CheckpointError(f"The unfinished training file {path} was written by another sitegen version "
                              f"(format {data['version']}). {_restart_hint(path)}")
    found = data["identity"]
    diffs = []
    for key in sorted(set(found) | set(expected)):
        if found.get(key) != expected.get(key):
            if key == "settings" and isinstance(found.get(key), dict):
                for name in sorted(set(found[key]) | set(expected[key])):
                    if found[key].get(name) != expected[key].get(name):
                        diffs.append(f"{name} {found[key].get(name)!r} there, {expected[key].get(name)!r} now")
            else:
                diffs.append(f"a different {key}")
    if diffs:
        raise CheckpointError(f"The unfinished training file {path} belongs to another training run ("
                              + "; ".join(diffs) + f"). {_restart_hint(path)}")
    return data


# --------------------------------------------------------------------------- fit

def _settings_for_identity(settings: TrainSettings) -> dict:
    # The device changes how fast, not what is learned; a run may resume on another machine.
    return {k: v for k, v in asdict(settings).items() if k not in ("device", "eval_batch_size")}


def _identity(model: LoadedModel, settings: TrainSettings, train: Sequence[IndexPair], val: Sequence[IndexPair],
              drawing_names: list[str], artwork_names: list[str], negatives: Sequence[IndexPair] = ()) -> dict:
    h = hashlib.sha256()
    for part in (train, val, *([negatives] if negatives else [])):
        h.update(repr(sorted((drawing_names[d], artwork_names[a]) for d, a in part)).encode())
        h.update(b"|")
    return {"backbone": model.name, "start_model": model.fingerprint, "pairs": h.hexdigest()[:16],
            "settings": _settings_for_identity(settings)}


def _emit(progress: Progress | None, **event) -> None:
    if progress is not None:
        progress(event)


@dataclass
class _Bench:
    """The network being trained, wrapped as a model, and the pictures it is measured on."""

    work: LoadedModel
    drawings: list[Path]
    artworks: list[Path]
    embed_kw: dict

    def embed_artworks(self) -> tuple[np.ndarray, dict[int, int], list[ImageError]]:
        """Vectors of the gallery, artwork index -> row, and the artworks that could not be read."""
        vecs, ok, failures = _embed(self.work, self.artworks, list(range(len(self.artworks))), **self.embed_kw)
        return vecs, {a: r for r, a in enumerate(ok)}, failures

    def measure(self, pairs: Sequence[IndexPair], art) -> dict | None:
        if not pairs:
            return None
        dv, dok, _ = _embed(self.work, self.drawings, sorted({d for d, _ in pairs}), **self.embed_kw)
        return _metrics_for(pairs, dict(zip(dok, dv)), art[0], art[1]).as_dict()


@dataclass
class _RunState:
    """Everything about a triplet run that an unfinished-training file must bring back."""

    history: list[dict]
    start_epoch: int
    best_epoch: int
    bad_epochs: int
    stopped: bool
    best_state: dict
    best_val: dict | None
    pretrained_val: dict | None
    pretrained_test: dict | None
    unusable: list[str]

    def record(self, epoch: int, val: dict | None, net: nn.Module, patience: int) -> None:
        """Keep the weights when the validation MAP improved; stop after ``patience`` epochs without."""
        if val is None or self.best_val is None or val["MAP"] > self.best_val["MAP"]:
            self.best_val, self.best_epoch, self.best_state, self.bad_epochs = val, epoch, _cpu_state(net), 0
        else:
            self.bad_epochs += 1
            self.stopped = self.bad_epochs >= patience


def _check_pair_indices(split: Split, n_drawings: int, n_artworks: int) -> None:
    for part, pairs in split.parts().items():
        for d, a in pairs:
            if not (0 <= d < n_drawings and 0 <= a < n_artworks):
                raise ConfigError(f"The {part} pair ({d}, {a}) points outside the {n_drawings} drawings / "
                                  f"{n_artworks} artworks given.")


def at_most(train_pairs: list[IndexPair], settings: TrainSettings) -> list[IndexPair]:
    """At most ``max_train_pairs`` of the training pairs, a seeded choice (all of them without the setting)."""
    if settings.max_train_pairs and len(train_pairs) > settings.max_train_pairs:
        pick = np.random.default_rng([settings.seed, 1]).choice(len(train_pairs), settings.max_train_pairs,
                                                                 replace=False)
        return [train_pairs[i] for i in sorted(pick)]
    return train_pairs


def _train_and_val_pairs(split: Split, settings: TrainSettings) -> tuple[list[IndexPair], list[IndexPair]]:
    """The training pairs (at most ``max_train_pairs``, a seeded choice) and the validation pairs, deduplicated."""
    return at_most(list(dict.fromkeys(split.train)), settings), list(dict.fromkeys(split.val))


def _start_state(bench: _Bench, net: nn.Module, val_pairs, test_pairs, progress: Progress | None):
    """A fresh run: the pretrained figures are the ones to beat. Returns the state and the gallery vectors."""
    art = bench.embed_artworks()
    pretrained_val = bench.measure(val_pairs, art)
    pretrained_test = bench.measure(test_pairs, art)
    _emit(progress, event="pretrained", val=pretrained_val, test=pretrained_test)
    return _RunState(history=[], start_epoch=0, best_epoch=0, bad_epochs=0, stopped=False,
                     best_state=_cpu_state(net), best_val=pretrained_val, pretrained_val=pretrained_val,
                     pretrained_test=pretrained_test, unusable=[str(f.path) for f in art[2]]), art


def _resume_state(data: dict, bench: _Bench, net: nn.Module, optimizer, scheduler, rng, gen,
                  progress: Progress | None):
    """Bring back an unfinished run from its file. Returns the state and the gallery vectors."""
    net.load_state_dict(data["model"])
    optimizer.load_state_dict(data["optimizer"])
    scheduler.load_state_dict(data["scheduler"])
    rng.bit_generator.state = data["rng"]["numpy"]
    gen.set_state(data["rng"]["torch"])
    state = _RunState(history=list(data["history"]), start_epoch=int(data["epoch"]),
                      best_epoch=int(data["best_epoch"]), bad_epochs=int(data["bad_epochs"]),
                      stopped=bool(data["stopped"]), best_state=data["best_state"], best_val=data["best_val"],
                      pretrained_val=data["pretrained_val"], pretrained_test=data["pretrained_test"],
                      unusable=list(data["unusable"]))
    art = bench.embed_artworks()
    _emit(progress, event="resumed", epoch=state.start_epoch)
    return state, art


def _negative_rules(split: Split, train_pairs: Sequence[IndexPair], settings: TrainSettings, n_artworks: int):
    """Every drawing's relevant artworks over all known pairs (never mined as negatives), and which
    artworks may be negatives (None: all)."""
    relevant_of: dict[int, set[int]] = {}
    for d, a in (*split.train, *split.val, *split.test):
        relevant_of.setdefault(d, set()).add(a)
    allowed = None
    if not settings.negatives_from_all_artworks:
        allowed = np.zeros(n_artworks, bool)
        allowed[[a for _, a in train_pairs]] = True
    return relevant_of, allowed


def _mine_triplets(bench: _Bench, train_pairs, art, relevant_of, allowed, settings: TrainSettings, gen,
                   state: _RunState, negatives: dict[int, set[int]] | None = None) -> list[tuple[int, int, int]]:
    """(drawing, artwork, hard negative) triplets mined with the current weights, in a seeded random order.

    A drawing's known negatives (artworks a review rejected) are always among its negatives."""
    dv, dok, dfail = _embed(bench.work, bench.drawings, sorted({d for d, _ in train_pairs}), **bench.embed_kw)
    state.unusable = sorted(set(state.unusable) | {str(f.path) for f in dfail})
    drow = {d: r for r, d in enumerate(dok)}
    art_vecs, art_rows = art[0], art[1]
    usable = [(d, a) for d, a in train_pairs if d in drow and a in art_rows]
    row_to_art = np.array(sorted(art_rows, key=art_rows.get), dtype=np.int64)
    mined = hardest_negatives(
        dv[[drow[d] for d, _ in usable]] if usable else np.zeros((0, art_vecs.shape[1]), np.float32),
        art_vecs, [{art_rows[x] for x in relevant_of[d] if x in art_rows} for d, _ in usable],
        settings.hard_negatives, None if allowed is None else allowed[row_to_art])
    negatives = negatives or {}
    triplets = []
    for (d, a), negs in zip(usable, mined):
        rows = with_known_negatives(negs, {art_rows[n] for n in negatives.get(d, ()) if n in art_rows},
                                    settings.hard_negatives)
        triplets += [(d, a, int(row_to_art[n])) for n in rows]
    order = torch.randperm(len(triplets), generator=gen).tolist()
    return [triplets[i] for i in order]


def _train_epoch(bench: _Bench, net: nn.Module, optimizer, triplets, cache: _PictureCache,
                 settings: TrainSettings, rng, epoch: int, progress: Progress | None) -> list[float]:
    """One pass over the triplets; returns the loss of each step."""
    device, precision = bench.embed_kw["device"], bench.embed_kw["precision"]
    style_p = settings.style_probability if settings.style_augmentation else 0.0
    autocast_device = "cuda" if device.startswith("cuda") else "cpu"
    _set_train_mode(net)
    losses = []
    steps = math.ceil(len(triplets) / settings.batch_size)
    for step in range(steps):
        batch = triplets[step * settings.batch_size:(step + 1) * settings.batch_size]
        views = [train_transform(cache.get(bench.drawings[d]), settings.crop_size, rng, style_p=style_p,
                                 style_effects=tuple(settings.style_effects))
                 for d, _, _ in batch]
        views += [train_transform(cache.get(bench.artworks[a]), settings.crop_size, rng) for _, a, _ in batch]
        views += [train_transform(cache.get(bench.artworks[n]), settings.crop_size, rng) for _, _, n in batch]
        x = torch.from_numpy(np.stack(views)).to(device).contiguous(memory_format=torch.channels_last)
        with torch.autocast(device_type=autocast_device, dtype=torch.bfloat16, enabled=precision == "bf16"):
            emb = net(x)
        anc, pos, neg = emb.float().split(len(batch))
        loss = triplet_loss(anc, pos, neg, settings.margin)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        _emit(progress, event="step", epoch=epoch, step=step + 1, steps=steps, loss=losses[-1])
    return losses


def _save_partial(path: Path, state: _RunState, identity: dict, epoch: int, net, optimizer, scheduler, rng,
                  gen) -> None:
    _torch_save_atomic({
        "format": PARTIAL_FORMAT, "version": PARTIAL_VERSION, "identity": identity, "epoch": epoch,
        "model": _cpu_state(net), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
        "rng": {"numpy": rng.bit_generator.state, "torch": gen.get_state()},
        "history": state.history, "best_epoch": state.best_epoch, "bad_epochs": state.bad_epochs,
        "stopped": state.stopped, "best_state": state.best_state, "best_val": state.best_val,
        "pretrained_val": state.pretrained_val, "pretrained_test": state.pretrained_test,
        "unusable": state.unusable,
    }, path)


def fit_triplet(model: LoadedModel, drawings: Sequence[Path], artworks: Sequence[Path], split: Split,
        settings: TrainSettings = TrainSettings(), *, resume_from: Path | None = None,
        partial_path: Path | None = None, progress: Progress | None = None,
        negatives: dict[int, set[int]] | None = None) -> TrainResult:
    """Fine-tune a copy of ``model.embedder`` with the thesis recipe (the caller's model is left unchanged).

    ``negatives`` maps a drawing index to artwork indices known not to match it (rejected in a
    review): they are among that drawing's negatives at every epoch.

    ``split`` holds index pairs ``(drawing_index, artwork_index)`` into ``drawings``
    and ``artworks``; its train part is learned, its val part drives early stopping
    and its test part (optional) is measured before and after. The gallery for
    mining and measuring is every artwork in ``artworks``.

    After every epoch the whole training state is written to ``partial_path``
    (default: ``resume_from``; nothing when both are None). When ``resume_from``
    exists it must come from the same run (settings, split, starting model) and
    training continues after its last epoch; otherwise :class:`CheckpointError`.

    ``progress`` receives dicts: ``{"event": "pretrained", ...metrics}``,
    ``{"event": "step", "epoch", "step", "steps", "loss"}`` and
    ``{"event": "epoch", **history_entry}`` (after the partial file is written).
    """
    if not split.train:
        raise ConfigError("There are no training pairs: training needs drawing,artwork pairs (pairs.csv).")
    started = time.perf_counter()
    device = choose_device(settings.device)
    precision = choose_precision(settings.precision, device, workload="training")
    drawings = [Path(p) for p in drawings]
    artworks = [Path(p) for p in artworks]
    drawing_names = _relative_names(drawings)
    artwork_names = _relative_names(artworks)
    partial_path = Path(partial_path) if partial_path else (Path(resume_from) if resume_from else None)
    _check_pair_indices(split, len(drawings), len(artworks))
    train_pairs, val_pairs = _train_and_val_pairs(split, settings)
    identity = _identity(model, settings, train_pairs, val_pairs, drawing_names, artwork_names,
                         sorted((d, a) for d, arts in (negatives or {}).items() for a in arts))

    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    gen = torch.Generator().manual_seed(settings.seed)
    net: Embedder = copy.deepcopy(model.embedder).to(device)
    _freeze(net, settings.freeze_stages)
    params = [p for p in net.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=settings.lr, weight_decay=settings.weight_decay)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=settings.lr_gamma)
    bench = _Bench(LoadedModel(model.name, net, model.weights_source, model.fingerprint, model.input_size),
                   drawings, artworks, dict(precision=precision, device=device, batch_size=settings.eval_batch_size))
    relevant_of, allowed = _negative_rules(split, train_pairs, settings, len(artworks))
    if resume_from is not None and Path(resume_from).exists():
        state, art = _resume_state(_load_partial(Path(resume_from), identity), bench, net, optimizer, scheduler,
                                   rng, gen, progress)
    else:
        state, art = _start_state(bench, net, val_pairs, split.test, progress)

    cache = _PictureCache(settings.train_size)
    for epoch in range(state.start_epoch + 1, settings.epochs + 1):
        if state.stopped:
            break
        t0 = time.perf_counter()
        # Online mining with the current weights, in eval mode and without gradients.
        triplets = _mine_triplets(bench, train_pairs, art, relevant_of, allowed, settings, gen, state, negatives)
        losses = _train_epoch(bench, net, optimizer, triplets, cache, settings, rng, epoch, progress)
        lr_used = optimizer.param_groups[0]["lr"]
        scheduler.step()
        net.eval()

        art = bench.embed_artworks()  # also the next epoch's mining gallery: the weights do not change in between
        val = bench.measure(val_pairs, art)
        entry = {"epoch": epoch, "loss": float(np.mean(losses)) if losses else float("nan"), "lr": lr_used,
                 "triplets": len(triplets)}
        if val is not None:
            entry.update({f"val_{k}": v for k, v in val.items() if not k.startswith("n_")})
        entry["seconds"] = time.perf_counter() - t0
        state.history.append(entry)
        state.record(epoch, val, net, settings.patience)
        if partial_path is not None:
            _save_partial(partial_path, state, identity, epoch, net, optimizer, scheduler, rng, gen)
        _emit(progress, event="epoch", **entry)

    finetuned_test = None
    if split.test:
        net.load_state_dict(state.best_state)
        finetuned_test = bench.measure(split.test, bench.embed_artworks())
    net.cpu()
    return TrainResult(
        state_dict=state.best_state, history=state.history, best_epoch=state.best_epoch,
        pretrained_val=state.pretrained_val, best_val=state.best_val, pretrained_test=state.pretrained_test,
        finetuned_test=finetuned_test, stopped_early=state.stopped, seconds=time.perf_counter() - started,
        drawing_names=drawing_names, artwork_names=artwork_names, unusable=state.unusable,
        settings=asdict(settings), input_size=model.input_size)


# --------------------------------------------------------------------------- checkpoints

def _named_pairs(pairs: Sequence, result: TrainResult) -> list[list[str]]:
    out = []
    for d, a in pairs:
        if isinstance(d, (int, np.integer)) and isinstance(a, (int, np.integer)):
            out.append([result.drawing_names[d], result.artwork_names[a]])
        else:
            out.append([str(d), str(a)])
    return out


def learned_index_pairs(checkpoint: dict | None, d_paths: Sequence[Path], a_paths: Sequence[Path],
                        index_pairs: Sequence[IndexPair], drawings_dir: Path, artworks_dir: Path) -> set[IndexPair]:
    """The ``index_pairs`` whose drawing or artwork a model file's network learned from or was checked on."""
    from generator.ml.evaluate import held_out_pairs, learned_pairs

    learned = learned_pairs(checkpoint)
    if not (learned["train"] or learned["val"]):
        return set()
    kept, _ = held_out_pairs(learned, [Path(os.path.relpath(p, drawings_dir)).as_posix() for p in d_paths],
                             [Path(os.path.relpath(p, artworks_dir)).as_posix() for p in a_paths], index_pairs)
    return set(index_pairs) - set(kept)


def save_checkpoint(path: str | Path, result: TrainResult, model_name: str, settings: TrainSettings,
                    split: Split, *, input_size: int | None = None, without_pairs: bool = False,
                    parent: dict | None = None, cross_validation: dict | None = None) -> Path:
    """Write the fine-tuned model atomically; it loads back with ``load_model(str(path))``.

    ``split`` may hold index pairs (mapped to file names through ``result``) or
    name pairs. ``parent``: the model file this one started from; every pair it (or its own parent) learned
    from is recorded in ``learned_from``, so that measuring this model leaves them out too.
    ``cross_validation``: the figures of ``sitegen train --folds``. The unfinished-training file
    ``<path>.partial`` is removed once the checkpoint is in place.
    """
    path = Path(path)
    artworks_learned = sorted({*((parent or {}).get("artworks_learned") or ()),
                               *(result.artwork_names[a] for a in result.artworks_learned)})
    data = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "backbone": model_name,
        "state_dict": {k: v.detach().cpu().contiguous() for k, v in result.state_dict.items()},
        "input_size": int(input_size or result.input_size),
        "settings": asdict(settings),
        "split": {part: _named_pairs(pairs, result) for part, pairs in split.parts().items()},
        "metrics": {"pretrained": {"val": result.pretrained_val, "test": result.pretrained_test},
                    "finetuned": {"val": result.best_val, "test": result.finetuned_test},
                    "validation_gain": result.val_gain},
        "history": result.history,
        "best_epoch": result.best_epoch,
        "without_pairs": without_pairs,
        "learned_from": _learned_pairs(parent),
        "artworks_learned": artworks_learned,
        "cross_validation": cross_validation,
        "mix": result.mix,
        "mix_curve": result.mix_curve,
        "created_with": f"sitegen {__version__}",
    }
    _torch_save_atomic(data, path)
    partial = partial_path_for(path)
    if partial.exists():
        partial.unlink()
    return path


__all__ = [
    "TrainSettings", "TrainResult", "PRESETS", "fit_triplet", "evaluate_model", "save_checkpoint", "partial_path_for",
    "learned_index_pairs",
    "hardest_negatives", "with_known_negatives", "triplet_loss", "train_transform", "finetuned_model",
]
