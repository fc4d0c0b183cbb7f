"""The default fine-tuning recipe: in-batch contrastive learning over cached early stages.

Why not the thesis's triplets: with a few hundred pairs, the hardest-negative
triplet loss at margin 0.7 collapses the embedding (every picture moves to the
same place, the loss stalls near the margin) and its result swings with the seed
and the settings. What works reliably with small data, measured by
cross-validation inside the chair training pairs (``benchmarks/bench_train.py
--cv``) and on categories not tuned on:

- **Symmetric InfoNCE** (CLIP's loss) over a batch of pairs: every drawing must
  pick its artwork among all artworks of the batch and every artwork its
  drawing, with a temperature. Each step sees B x B comparisons instead of B
  triplets, and the loss has no margin to collapse onto.
- **Only the last stages learn**; the stem and early stages stay as ImageNet
  made them (they detect edges and textures, which hold for drawings too).
  Their output is computed once for a few random views of every training
  picture and kept in memory, so an epoch costs only the last stages: this is
  what makes the recipe fit in minutes on two CPU cores.
- **Frozen batch normalisation statistics** (the running averages of ImageNet;
  a batch of correlated pairs would overwrite them with noise).
- **A fixed number of epochs** chosen in advance, with the weights averaged
  over the second half of training, instead of early stopping on a small
  validation set, which picks noise.
- **A guard**: the fine-tuned weights are kept only when they rank the
  validation pairs (against the whole gallery) at least as well as the
  pretrained ones; otherwise the pretrained weights are given back, and the
  result says why.

The same trainer adapts a network without any confirmed pair: each artwork is
then paired with drawing-like versions of itself (pencil sketch, edge map,
watercolour and the other style effects, crops), as the thesis's "Mini-Replica"
did.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from generator.ml.augment import drawing_like, random_recomposition
from generator.ml.device import choose_device, choose_precision
from generator.errors import ConfigError, ImageError
from generator.inputs.images import model_input
from generator.ml.model import Embedder, LoadedModel
from generator.ml.train import (IndexPair, Progress, TrainResult, TrainSettings, _cpu_state, _emit, _metrics_for,
                               _PictureCache, _relative_names, _stages, _tail, at_most, train_transform)
from generator.ml.evaluate import Metrics, Split, map_gain

#: Pictures per forward pass when filling the cache of early-stage outputs.
_CACHE_BATCH = 32


# --------------------------------------------------------------------------- network split

def split_trunk(embedder: Embedder, frozen_stages: int) -> tuple[nn.Module, nn.Module]:
    """``(early, late)`` such that the embedder's trunk is ``late(early(x))``.

    ``frozen_stages`` counts the stem as stage 1 (EfficientNet: stem, then its
    seven blocks; ResNet family: stem, then layer1..4). The early part is what
    stays frozen and cached; the late part learns.
    """
    stages, tail = _stages(embedder), _tail(embedder)
    if not 0 <= frozen_stages < len(stages):
        raise ConfigError(f"frozen_stages must be between 0 and {len(stages) - 1} for this network "
                          f"(got {frozen_stages}).")
    early = nn.Sequential(_Normalise(embedder), *stages[:frozen_stages])
    return early, nn.Sequential(*stages[frozen_stages:], *tail)


class _Normalise(nn.Module):
    """The embedder's ImageNet normalisation, as the first step of the early part."""

    def __init__(self, embedder: Embedder):
        super().__init__()
        self.embedder_mean, self.embedder_std = embedder.mean, embedder.std

    def forward(self, x):
        return (x - self.embedder_mean) / self.embedder_std


def _head(late: nn.Module, early_out: torch.Tensor) -> torch.Tensor:
    """The embedding from early-stage outputs: late stages, average pooling, L2 normalisation."""
    return F.normalize(late(early_out.float()).float().mean(dim=(2, 3)), dim=1)


def info_nce(queries: torch.Tensor, keys: torch.Tensor, same: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE on L2-normalised rows: query ``i`` belongs with key ``i``.

    ``same[i, j]`` is True where key ``j`` is also a true match of query ``i``
    (a drawing with several artworks, an artwork drawn twice in one batch): such
    pairs are neither rewarded nor punished, so a true match is never pushed away.
    Keys after the first ``len(queries)`` are extra negatives (artworks a review rejected for a drawing
    of the batch): the drawings are compared with them too; they ask nothing back.
    """
    n = len(queries)
    logits = queries @ keys.T / temperature
    eye = torch.zeros(logits.shape, dtype=torch.bool, device=queries.device)
    eye[:, :n] = torch.eye(n, dtype=torch.bool, device=queries.device)
    logits = logits.masked_fill(same & ~eye, float("-inf"))
    target = torch.arange(n, device=queries.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits[:, :n].T, target))


# --------------------------------------------------------------------------- cached views

class _Views:
    """Early-stage outputs of ``n_views`` random training views of each picture, kept in bf16."""

    def __init__(self, early: nn.Module, device: str, autocast: dict):
        self.early, self.device, self.autocast = early, device, autocast
        self.store: dict[tuple[str, int, int], torch.Tensor] = {}

    @torch.inference_mode()
    def run(self, arrays: list[np.ndarray]) -> torch.Tensor:
        x = torch.from_numpy(np.stack(arrays)).to(self.device).contiguous(memory_format=torch.channels_last)
        with torch.autocast(**self.autocast):
            return self.early(x).to(torch.bfloat16).cpu()

    def fill(self, key: str, items: Sequence[int], make_view: Callable[[int, int], np.ndarray],
             n_views: int) -> None:
        jobs = [(i, v) for i in items for v in range(n_views)]
        for start in range(0, len(jobs), _CACHE_BATCH):
            chunk = jobs[start:start + _CACHE_BATCH]
            out = self.run([make_view(i, v) for i, v in chunk])
            for (i, v), t in zip(chunk, out):
                self.store[(key, i, v)] = t.clone()

    def batch(self, key: str, items: Sequence[int], views: Sequence[int]) -> torch.Tensor:
        return torch.stack([self.store[(key, i, v)] for i, v in zip(items, views)])


def _eval_input(path: Path, size: int, transform: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """The picture as the embedding stage sees it (after ``transform``), as float32 3 x size x size in [0, 1]."""
    rgb = model_input(path, size)
    if transform is not None:
        rgb = transform(rgb)
    return np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32) / 255.0


class _Gallery:
    """Early-stage outputs of the evaluation view (no augmentation) of every picture measured."""

    def __init__(self, views: _Views, size: int):
        self.views, self.size = views, size
        self.cache: dict[tuple[str, int], torch.Tensor] = {}
        self.failures: dict[str, str] = {}

    def add(self, key: str, paths: Sequence[Path], items: Sequence[int],
            transform: Callable[[np.ndarray], np.ndarray] | None = None) -> list[int]:
        """Cache ``items`` of ``paths`` (after ``transform``); returns those that could be decoded."""
        todo = [i for i in items if (key, i) not in self.cache and str(paths[i]) not in self.failures]
        for start in range(0, len(todo), _CACHE_BATCH):
            chunk, arrays = [], []
            for i in todo[start:start + _CACHE_BATCH]:
                try:
                    arrays.append(_eval_input(paths[i], self.size, transform))
                    chunk.append(i)
                except ImageError as exc:
                    self.failures[str(paths[i])] = str(exc)
            if arrays:
                for i, t in zip(chunk, self.views.run(arrays)):
                    self.cache[(key, i)] = t.clone()
        return [i for i in items if (key, i) in self.cache]

    @torch.inference_mode()
    def embed(self, late: nn.Module, key: str, items: Sequence[int]) -> np.ndarray:
        out = []
        for start in range(0, len(items), _CACHE_BATCH):
            x = torch.stack([self.cache[(key, i)] for i in items[start:start + _CACHE_BATCH]])
            with torch.autocast(**self.views.autocast):
                out.append(_head(late, x.to(self.views.device)).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 1), np.float32)


# --------------------------------------------------------------------------- training

def _measure(gallery: _Gallery, late: nn.Module, pairs: Sequence[IndexPair], q_key: str,
             art_items: Sequence[int]) -> Metrics | None:
    if not pairs:
        return None
    queries = sorted({d for d, _ in pairs if (q_key, d) in gallery.cache})
    qv = gallery.embed(late, q_key, queries)
    av = gallery.embed(late, "a", art_items)
    late.eval()
    return _metrics_for(pairs, dict(zip(queries, qv)), av, {a: r for r, a in enumerate(art_items)})


def _as_dict(metrics: Metrics | None) -> dict | None:
    return None if metrics is None else metrics.as_dict()


def _average_into(avg: dict[str, torch.Tensor] | None, late: nn.Module, count: int) -> dict[str, torch.Tensor]:
    """Running mean of the learning weights (batch-norm statistics are frozen, so plain averaging is safe)."""
    state = {k: v.detach().clone() for k, v in late.state_dict().items()}
    if avg is None:
        return state
    for k, v in state.items():
        if v.is_floating_point():
            avg[k] += (v - avg[k]) / count
    return avg


def mix_states(pretrained: dict[str, torch.Tensor], tuned: dict[str, torch.Tensor],
               share: float) -> dict[str, torch.Tensor]:
    """The weights ``(1 - share) * pretrained + share * tuned`` (WiSE-FT); integer buffers from ``tuned``.

    >>> a, b = {"w": torch.zeros(2)}, {"w": torch.ones(2)}
    >>> mix_states(a, b, 0.25)["w"].tolist()
    [0.25, 0.25]
    """
    if share in (0.0, 1.0):  # exactly one side, even where the other has overflowed
        return {k: (pretrained[k] if share == 0.0 and v.is_floating_point() else v).clone() for k, v in tuned.items()}
    return {k: (torch.lerp(pretrained[k].to(v.dtype), v, share) if v.is_floating_point() else v.clone())
            for k, v in tuned.items()}


def batch_keys(batch: Sequence[IndexPair], negatives: dict[int, set[int]]) -> list[int]:
    """The artworks a batch's drawings are compared with: the batch's own, then every known negative
    (rejected in a review) of its drawings that is not already there.

    >>> batch_keys([(0, 5), (1, 6)], {1: {9, 5}})
    [5, 6, 9]
    """
    keys = [a for _, a in batch]
    seen = set(keys)
    for d, _ in batch:
        for a in sorted(negatives.get(d, ())):
            if a not in seen:
                seen.add(a)
                keys.append(a)
    return keys


def steps_per_epoch(n_pairs: int, size: int, min_batches: int) -> int:
    """Whole passes over ``n_pairs`` in batches of at most ``size``, until there are ``min_batches`` steps.

    >>> steps_per_epoch(40, 32, 6), steps_per_epoch(170, 32, 6), steps_per_epoch(100, 32, 0)
    (6, 6, 4)
    """
    per_pass = max(1, math.ceil(n_pairs / size))
    return per_pass * max(1, math.ceil(min_batches / per_pass))


def epoch_batches(pairs: Sequence[IndexPair], size: int, min_batches: int,
                  gen: torch.Generator) -> list[list[IndexPair]]:
    """One epoch's batches: passes over ``pairs`` in fresh random order, each dealt into equal batches of at
    most ``size``, until there are at least ``min_batches`` (few pairs are passed over several times).

    >>> gen = torch.Generator().manual_seed(0)
    >>> [len(b) for b in epoch_batches([(i, i) for i in range(40)], 32, 6, gen)]
    [20, 20, 20, 20, 20, 20]
    >>> [len(b) for b in epoch_batches([(i, i) for i in range(100)], 32, 2, gen)]
    [25, 25, 25, 25]
    """
    per_pass = max(1, math.ceil(len(pairs) / size))
    batches: list[list[IndexPair]] = []
    while len(batches) < steps_per_epoch(len(pairs), size, min_batches):
        order = torch.randperm(len(pairs), generator=gen).tolist()
        shuffled = [pairs[i] for i in order]
        # Equal-sized batches: a last batch of two pairs would make the in-batch task trivial.
        batches += [shuffled[i::per_pass] for i in range(per_pass)]
    return batches


@dataclass
class _Task:
    """What one run learns from, beyond its pairs: drawing-like versions of gallery artworks (as extra pairs)
    and gallery artworks as extra wrong answers, never those of the validation or test pairs."""

    pairs: list[IndexPair]
    relevant: dict[int, set[int]]            # drawing -> its artworks, over the training pairs
    rejected: dict[int, set[int]]            # drawing -> artworks a review rejected
    replicas: list[int] = field(default_factory=list)      # artworks with cached drawing-like versions
    negative_pool: list[int] = field(default_factory=list)  # artworks that may serve as extra wrong answers


def _task(train_pairs: list[IndexPair], split: Split, art_items: Sequence[int], negatives: dict[int, set[int]],
          settings: TrainSettings, self_pairs: bool) -> _Task:
    relevant: dict[int, set[int]] = {}
    for d, a in train_pairs:
        relevant.setdefault(d, set()).add(a)
    held = {a for _, a in (*split.val, *split.test)}
    pool = [a for a in art_items if a not in held]
    if len(pool) > settings.replica_artworks:  # a seeded sample bounds the views cached for a large gallery
        pick = np.random.default_rng([settings.seed, 3]).choice(len(pool), settings.replica_artworks, replace=False)
        pool = [pool[i] for i in sorted(pick)]
    replicas = pool if settings.replica_pairs and not self_pairs else []
    return _Task(train_pairs, relevant, negatives, replicas, pool if settings.gallery_negatives else [])


def _sample(pool: Sequence[int], k: int, exclude: set[int], gen: torch.Generator) -> list[int]:
    """Up to ``k`` items of ``pool`` not in ``exclude``, a seeded random choice."""
    if k <= 0 or not pool:
        return []
    order = torch.randperm(len(pool), generator=gen).tolist()
    out = []
    for i in order:
        if pool[i] not in exclude:
            out.append(pool[i])
            if len(out) == k:
                break
    return out


@dataclass
class _Step:
    """One step's pictures: ``learn`` (the batch's drawings, drawing-like versions of gallery artworks, the
    pairs' artworks, rejected artworks) pass through the learning layers with gradients; ``fixed`` (the gallery
    artworks those versions come from, and gallery artworks as wrong answers) only forward, as a memory bank
    would hold them, which keeps a step as cheap as one without them."""

    learn: torch.Tensor
    fixed: torch.Tensor | None
    n_pairs: int
    n_replicas: int
    same: torch.Tensor                        # queries x keys: key j is a true match of query i

    def queries_and_keys(self, late: nn.Module, device: str, autocast: dict) -> tuple[torch.Tensor, torch.Tensor]:
        b, r = self.n_pairs, self.n_replicas
        with torch.autocast(**autocast):
            learned = _head(late, self.learn.to(device))
            if self.fixed is None:
                fixed = learned[:0]
            else:
                with torch.no_grad():
                    fixed = _head(late, self.fixed.to(device))
        keys = torch.cat([learned[b + r:2 * b + r], fixed[:r], learned[2 * b + r:], fixed[r:]])
        return learned[:b + r], keys


def _step(batch: list[IndexPair], task: _Task, views: _Views, settings: TrainSettings,
          gen: torch.Generator) -> _Step:
    """Queries (the batch's drawings, then drawing-like versions of gallery artworks), keys (their artworks,
    then rejected and gallery artworks as wrong answers) and which key is a true match of which query."""
    d_idx = [d for d, _ in batch]
    keys = batch_keys(batch, task.rejected)
    taken = set(keys) | {a for d in d_idx for a in task.relevant.get(d, ())}
    replicas = _sample(task.replicas, settings.replica_pairs, taken, gen)
    extra = _sample(task.negative_pool, settings.gallery_negatives, taken | set(replicas), gen)
    vq = torch.randint(settings.views, (len(batch),), generator=gen).tolist()
    va = torch.randint(settings.views, (len(keys),), generator=gen).tolist()
    vr = torch.randint(max(1, settings.replica_views), (len(replicas),), generator=gen).tolist()
    learn = [views.batch("q*", d_idx, vq)] + ([views.batch("r*", replicas, vr)] if replicas else []) \
        + [views.batch("a*", keys, va)]
    fixed = replicas + extra
    # The wrong answers are random training views too, like every other key: clean pictures among
    # augmented ones would let the network tell the right answer by how it was made, not by what it shows.
    vf = torch.randint(settings.views, (len(fixed),), generator=gen).tolist()
    key_arts = keys[:len(batch)] + replicas + keys[len(batch):] + extra
    rel = [task.relevant.get(d, {a}) for d, a in batch] + [{a} for a in replicas]
    same = torch.tensor([[k in r for k in key_arts] for r in rel], dtype=torch.bool)
    return _Step(torch.cat(learn), views.batch("a*", fixed, vf) if fixed else None, len(batch), len(replicas), same)


def _epoch(late: nn.Module, views: _Views, task: _Task, optimizer, scheduler,
           settings: TrainSettings, gen: torch.Generator, device: str, autocast: dict) -> list[float]:
    """One epoch in random batches, each picture in one of its cached views; the losses."""
    late.train()
    _freeze_batchnorm(late)
    losses = []
    for batch in epoch_batches(task.pairs, settings.batch_pairs, settings.min_batches, gen):
        step = _step(batch, task, views, settings, gen)
        queries, keys = step.queries_and_keys(late, device, autocast)
        loss = info_nce(queries, keys, step.same.to(queries.device), settings.temperature)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(float(loss.detach()))
    late.eval()
    return losses


def _optimizer(late: nn.Module, settings: TrainSettings, n_pairs: int):
    """AdamW over the learning layers; one warm-up epoch, then cosine decay to zero."""
    params = [p for p in late.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay)
    warmup = steps_per_epoch(n_pairs, settings.batch_pairs, settings.min_batches)
    total = settings.epochs * warmup
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    return optimizer, scheduler


@dataclass
class _Run:
    """The network split in a frozen, cached early part and a learning late part, and its caches."""

    settings: TrainSettings
    device: str
    autocast: dict
    net: nn.Module
    late: nn.Module
    views: _Views
    gallery: _Gallery
    pretrained_late: dict[str, torch.Tensor]

    @classmethod
    def start(cls, model: LoadedModel, settings: TrainSettings) -> "_Run":
        device = choose_device(settings.device)
        precision = choose_precision(settings.precision, device, workload="training")
        autocast = dict(device_type="cuda" if device.startswith("cuda") else "cpu", dtype=torch.bfloat16,
                        enabled=precision == "bf16")
        torch.manual_seed(settings.seed)
        net = copy.deepcopy(model.embedder).to(device).eval()
        early, late = split_trunk(net, settings.frozen_stages)
        for p in early.parameters():
            p.requires_grad_(False)
        views = _Views(early, device, autocast)
        pretrained = {k: v.detach().clone() for k, v in late.state_dict().items()}
        return cls(settings, device, autocast, net, late, views, _Gallery(views, model.input_size), pretrained)

    def train(self, task: _Task, progress: Progress | None, measure_val: Callable[[], Metrics | None]) -> list[dict]:
        """The epochs; leaves the late part holding the average of the weights over the last epochs."""
        settings = self.settings
        gen = torch.Generator().manual_seed(settings.seed)
        optimizer, scheduler = _optimizer(self.late, settings, len(task.pairs))
        average, n_avg = None, 0
        first_avg = settings.epochs - max(1, round(settings.epochs * settings.average_fraction)) + 1
        history: list[dict] = []
        for epoch in range(1, settings.epochs + 1):
            t0 = time.perf_counter()
            losses = _epoch(self.late, self.views, task, optimizer, scheduler, settings, gen,
                            self.device, self.autocast)
            if epoch >= first_avg:
                n_avg += 1
                average = _average_into(average, self.late, n_avg)
            entry = {"epoch": epoch, "loss": float(np.mean(losses)), "lr": optimizer.param_groups[0]["lr"],
                     "pairs": len(task.pairs), "steps": len(losses)}
            val = _as_dict(measure_val()) if settings.validate_every_epoch else None
            if val is not None:
                entry.update({f"val_{k}": v for k, v in val.items() if not k.startswith("n_")})
            entry["seconds"] = time.perf_counter() - t0
            history.append(entry)
            _emit(progress, event="epoch", **entry)
        self.late.load_state_dict(average)
        return history

    def choose_mix(self, measure_val: Callable[[], Metrics | None],
                   measure_test: Callable[[], Metrics | None] | None = None) -> tuple[float, Metrics | None, list[dict]]:
        """The guard: how much of the fine-tuned weights to keep, mixed with the pretrained ones (WiSE-FT).
        Every share 0, 1/mixes, ..., 1 is measured on the validation pairs (the curve the model page and the
        report show); the share kept is ``settings.mix``, or the largest share below it that ranks the
        validation drawings at least as well as the pretrained network (0, the pretrained network, at worst).
        Without validation pairs, ``settings.mix``. ``measure_test`` (a split with a test part) adds each
        share's test figures to the curve, for the record only: they never take part in the choice."""
        tuned = {k: v.detach().clone() for k, v in self.late.state_dict().items()}
        tries = [i / self.settings.mixes for i in range(self.settings.mixes + 1)]
        measured: list[Metrics] = []
        curve: list[dict] = []
        for share in tries:
            self.late.load_state_dict(mix_states(self.pretrained_late, tuned, share))
            metrics = measure_val()
            if metrics is None or not metrics.n_queries:
                self.late.load_state_dict(mix_states(self.pretrained_late, tuned, self.settings.mix))
                return self.settings.mix, metrics, []
            measured.append(metrics)
            curve.append({"mix": share, "MAP": 100.0 * metrics.MAP, "R@1": 100.0 * metrics.recall.get(1, 0.0)})
            test = measure_test() if measure_test else None
            if test is not None and test.n_queries:
                curve[-1].update({"test_MAP": 100.0 * test.MAP, "test_R@1": 100.0 * test.recall.get(1, 0.0)})
        pick = choose_share([m.MAP for m in measured], tries, self.settings.mix)
        self.late.load_state_dict(mix_states(self.pretrained_late, tuned, tries[pick]))
        return tries[pick], measured[pick], curve


def choose_share(val_map: Sequence[float], shares: Sequence[float], preferred: float) -> int:
    """Which share to keep (an index into ``shares``, whose first is 0, the pretrained network): the largest
    share up to ``preferred`` that ranks the validation drawings at least as well as the pretrained network.

    The preferred share is a setting chosen by cross-validation, not the best validation figure: a handful
    of validation drawings cannot tell 50 % of the training from 100 %, and taking the best of the five
    figures picked noise (inside the chair training pairs that cost up to 13 points of R@1 on the drawings
    each fold never learned). Validation only guards against harm.

    >>> choose_share([40.0, 50.0, 55.0, 60.0, 58.0], [0, .25, .5, .75, 1], 0.75)
    3
    >>> choose_share([40.0, 45.0, 39.0, 30.0, 20.0], [0, .25, .5, .75, 1], 0.75)
    1
    >>> choose_share([40.0, 39.0, 38.0], [0, .5, 1], 1.0)
    0
    """
    allowed = [i for i, s in enumerate(shares) if s <= preferred + 1e-9]
    for i in sorted(allowed, key=lambda i: -shares[i]):
        if val_map[i] >= val_map[0]:
            return i
    return 0


def fit_contrastive(model: LoadedModel, drawings: Sequence[Path], artworks: Sequence[Path], split: Split,
                    settings: TrainSettings = TrainSettings(), *, progress: Progress | None = None,
                    self_pairs: bool = False, negatives: dict[int, set[int]] | None = None) -> TrainResult:
    """Fine-tune a copy of ``model`` with the default recipe (the caller's model is left unchanged).

    ``split`` holds index pairs ``(drawing_index, artwork_index)``. With
    ``self_pairs`` the "drawings" are the artworks themselves (``drawings`` is
    ``artworks``) and every training query is a drawing-like version of its
    artwork, made afresh for every cached view. ``negatives`` (drawing index -> artwork
    indices rejected in a review) join every batch that holds their drawing.
    """
    if not split.train:
        raise ConfigError("There are no training pairs: training needs drawing,artwork pairs (pairs.csv), "
                          "or artworks to learn from.")
    started = time.perf_counter()
    run = _Run.start(model, settings)
    gallery = run.gallery
    art_items = gallery.add("a", artworks, list(range(len(artworks))))
    val_pairs = list(dict.fromkeys(split.val))
    # Without drawings, a held-out artwork is looked for from a fixed drawing-like version of itself.
    q_key = "r" if self_pairs else "d"
    replica_rng = np.random.default_rng([settings.seed, 2])
    gallery.add(q_key, drawings, sorted({d for d, _ in (*val_pairs, *split.test)}),
                (lambda rgb: drawing_like(rgb, replica_rng)) if self_pairs else None)

    def measure_val() -> Metrics | None:
        return _measure(gallery, run.late, val_pairs, q_key, art_items)

    pretrained_val = measure_val()
    pretrained_test = _measure(gallery, run.late, split.test, q_key, art_items)
    _emit(progress, event="pretrained", val=_as_dict(pretrained_val), test=_as_dict(pretrained_test))

    task = _prepare(run, drawings, artworks, split, art_items, settings, self_pairs, negatives or {})
    _emit(progress, event="cached", pictures=len({k[:2] for k in run.views.store}), views=settings.views,
          seconds=time.perf_counter() - started)
    history = run.train(task, progress, measure_val)
    mix, tuned_val, curve = run.choose_mix(
        measure_val, (lambda: _measure(gallery, run.late, split.test, q_key, art_items)) if split.test else None)
    gain = map_gain(pretrained_val, tuned_val, settings.seed) if tuned_val and tuned_val.n_queries else None
    kept = mix > 0
    test = _measure(gallery, run.late, split.test, q_key, art_items)
    state = _cpu_state(run.net)
    run.net.cpu()
    return TrainResult(
        state_dict=state, history=history, best_epoch=settings.epochs if kept else 0,
        pretrained_val=_as_dict(pretrained_val), best_val=_as_dict(tuned_val if kept else pretrained_val),
        pretrained_test=_as_dict(pretrained_test), finetuned_test=_as_dict(test), stopped_early=False,
        seconds=time.perf_counter() - started, drawing_names=_relative_names(drawings),
        artwork_names=_relative_names(artworks), unusable=sorted(gallery.failures), settings=asdict(settings),
        input_size=model.input_size, rejected_val=None, val_gain=gain, mix=mix, mix_curve=curve,
        artworks_learned=sorted({a for a, _ in task.pairs} if self_pairs else task.replicas))


def _prepare(run: _Run, drawings, artworks, split: Split, art_items: Sequence[int], settings: TrainSettings,
             self_pairs: bool, negatives: dict[int, set[int]]) -> _Task:
    """The readable training pairs, what else the run learns from, and the cached views of all of it."""
    pictures = _PictureCache(settings.train_size)
    train_pairs = at_most(_readable(list(dict.fromkeys(split.train)), drawings, artworks, run.gallery, pictures),
                          settings)
    if not train_pairs:
        raise ConfigError("None of the training pictures could be read; see the list of unreadable files.")
    train_d = {d for d, _ in train_pairs}
    negatives = {d: {a for a in arts if _readable([(d, a)], drawings, artworks, run.gallery, pictures)}
                 for d, arts in negatives.items() if d in train_d}
    task = _task(train_pairs, split, art_items, negatives, settings, self_pairs)
    _fill_training_views(run.views, drawings, artworks, task, settings, self_pairs, pictures)
    return task


def _readable(pairs: list[IndexPair], drawings, artworks, gallery: _Gallery,
              pictures: _PictureCache) -> list[IndexPair]:
    """Training pairs whose two pictures decode; each picture is decoded once, into the training cache
    (unreadable ones are reported in ``gallery.failures``)."""
    def ok(path: Path) -> bool:
        if str(path) in gallery.failures:
            return False
        try:
            pictures.get(path)
            return True
        except ImageError as exc:
            gallery.failures[str(path)] = str(exc)
            return False

    return [(d, a) for d, a in pairs if ok(drawings[d]) & ok(artworks[a])]


def _fill_training_views(views: _Views, drawings, artworks, task: _Task, settings: TrainSettings,
                         self_pairs: bool, cache: _PictureCache) -> None:
    rng = np.random.default_rng(settings.seed)
    style_p = settings.style_probability if settings.style_augmentation else 0.0
    art_style_p = settings.artwork_style_probability if settings.style_augmentation else 0.0
    effects = tuple(settings.style_effects)

    def recomposed(rgb: np.ndarray) -> np.ndarray:
        return random_recomposition(rgb, rng) if rng.random() < settings.recompose_probability else rgb

    def artwork_view(a: int, v: int) -> np.ndarray:
        return train_transform(cache.get(artworks[a]), settings.crop_size, rng, style_p=art_style_p,
                               style_effects=effects)

    def drawing_view(d: int, v: int) -> np.ndarray:
        return train_transform(recomposed(cache.get(drawings[d])), settings.crop_size, rng, style_p=style_p,
                               style_effects=effects)

    def replica_view(a: int, v: int) -> np.ndarray:
        return train_transform(recomposed(drawing_like(cache.get(artworks[a]), rng)), settings.crop_size, rng)

    rejected = {a for arts in task.rejected.values() for a in arts}
    views.fill("a*", sorted({a for _, a in task.pairs} | rejected | set(task.replicas) | set(task.negative_pool)),
               artwork_view, settings.views)
    views.fill("q*", sorted({d for d, _ in task.pairs}), replica_view if self_pairs else drawing_view, settings.views)
    # Replicas come from the gallery's artworks, which all decoded for the gallery already.
    views.fill("r*", task.replicas, replica_view, settings.replica_views)


def _freeze_batchnorm(net: nn.Module) -> None:
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()
