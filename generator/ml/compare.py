"""Several models side by side on the same held-out drawings (the thesis's chapters 5 and 6).

Every model is measured on the same pairs: those that none of the model files learned from or was checked
on (a model file from ``sitegen train`` keeps its split). With ``folds``, these pairs are dealt into K
groups by connected components (:func:`generator.ml.evaluate.kfold`, the same groups for every model), each
group is measured on its own and the figures are given as mean and standard deviation over the groups.
For each measured drawing the comparison keeps, per model, the position of its expected artwork (even far
down the list) and the model's ten best artworks.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from generator.contracts import TOP, Comparison, ModelResult
from generator.errors import InputError
from generator.ml.evaluate import held_out_pairs, kfold, learned_pairs, relevant_ranks, retrieval_metrics

def _relative(paths: Sequence[Path], folder: Path) -> list[str]:
    return [Path(os.path.relpath(p, folder)).as_posix() for p in paths]


def common_held_out(models, drawings_dir: Path, artworks_dir: Path, d_paths, a_paths, pairs) -> list[tuple]:
    """The pairs none of the ``models`` (LoadedModel) trained or was checked on."""
    kept = list(pairs)
    d_names, a_names = _relative(d_paths, drawings_dir), _relative(a_paths, artworks_dir)
    for m in models:
        if m.checkpoint and m.checkpoint.get("split"):
            kept, _ = held_out_pairs(learned_pairs(m.checkpoint), d_names, a_names, kept)
    return kept


def _mean_sd(rows: list[dict]) -> tuple[dict, dict]:
    keys = [k for k in rows[0] if not k.startswith("n_")]
    mean = {k: statistics.fmean(r[k] for r in rows) for k in keys}
    sd = {k: statistics.pstdev([r[k] for r in rows]) for k in keys}
    return mean, sd


def _groups(pairs: list[tuple], folds: int | None, seed: int) -> list[list[tuple]]:
    if not folds:
        return [pairs]
    return [split.test for split in kfold(pairs, folds, seed=seed)]


def measure_model(model, label: str, d_paths, a_paths, groups: list[list[tuple]], *, device: str | None = None,
                  batch_size: int = 16) -> ModelResult:
    """One model on every group of pairs: metrics per group, positions and top artworks per drawing."""
    from generator.ml.device import choose_device
    from generator.ml.train import _embed

    device = choose_device(device or "auto")
    drawings = sorted({d for g in groups for d, _ in g})
    dv, dok, _ = _embed(model, d_paths, drawings, precision="auto", device=device, batch_size=batch_size)
    av, aok, _ = _embed(model, a_paths, list(range(len(a_paths))), precision="auto", device=device,
                        batch_size=batch_size)
    row_of_drawing = {d: r for r, d in enumerate(dok)}
    row_of_artwork = {a: r for r, a in enumerate(aok)}
    sim = dv @ av.T if len(dv) else np.zeros((0, len(aok)), np.float32)
    per_fold, position, top = [], {}, {}
    for g in groups:
        rel: dict[int, set[int]] = {}
        for d, a in g:
            if d in row_of_drawing:
                rel.setdefault(d, set())
                if a in row_of_artwork:
                    rel[d].add(row_of_artwork[a])
        ds = sorted(rel)
        block = sim[[row_of_drawing[d] for d in ds]]
        per_fold.append(retrieval_metrics(block, [rel[d] for d in ds]).as_dict())
        for d, ranks, row in zip(ds, relevant_ranks(block, [rel[d] for d in ds]), block):
            if len(ranks):
                position[d] = int(ranks.min())
            order = np.lexsort((np.arange(len(row)), -row))[:TOP]
            top[d] = [aok[int(r)] for r in order]
    mean, sd = _mean_sd(per_fold)
    return ModelResult(label, model.weights_source, per_fold, mean, sd, position, top)


def compare_models(models: Sequence, labels: Sequence[str], drawings_dir: Path, artworks_dir: Path, d_paths,
                   a_paths, pairs, *, folds: int | None = None, seed: int = 0, device: str | None = None,
                   progress=lambda label: None) -> Comparison:
    """Measure every model (LoadedModel) on the same held-out pairs; see the module's docstring."""
    measured = common_held_out(models, drawings_dir, artworks_dir, d_paths, a_paths, pairs)
    if not measured:
        raise InputError(f"Every one of the {len(pairs)} pairs was used to train or check at least one of these "
                         "models, so none is left to compare them fairly. Compare them on other pairs (another "
                         "pairs file), or train them again keeping a test part.")
    groups = _groups(measured, folds, seed)
    results = []
    for model, label in zip(models, labels):
        progress(label)
        results.append(measure_model(model, label, d_paths, a_paths, groups, device=device))
    expected: dict[int, list[int]] = {}
    group: dict[int, int] = {}
    for n, g in enumerate(groups, start=1):
        for d, a in g:
            expected.setdefault(d, []).append(a)
            group[d] = n
    return Comparison(results, sorted(expected), {d: sorted(set(a)) for d, a in expected.items()}, group,
                      len(groups), len(pairs), len(pairs) - len(measured), len(a_paths))
