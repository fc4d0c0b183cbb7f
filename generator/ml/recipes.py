"""One entry point for fine-tuning, whatever the recipe: ``fit``.

The default recipe lives in :mod:`generator.ml.contrastive`, the thesis's in
:mod:`generator.ml.train` (which also holds the settings, results and model files).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from generator.ml.contrastive import fit_contrastive
from generator.errors import ConfigError
from generator.ml.evaluate import Split, split_pairs
from generator.ml.model import LoadedModel
from generator.ml.train import Progress, TrainResult, TrainSettings, fit_triplet

#: Share of the artworks kept apart to check a model trained without pairs.
SELF_PAIRS_VALIDATION = 0.15


def fit(model: LoadedModel, drawings: Sequence[Path], artworks: Sequence[Path], split: Split,
        settings: TrainSettings = TrainSettings(), *, resume_from: Path | None = None,
        partial_path: Path | None = None, progress: Progress | None = None,
        negatives: dict[int, set[int]] | None = None) -> TrainResult:
    """Fine-tune a copy of ``model`` on the index pairs of ``split`` with ``settings.recipe``.

    ``negatives``: drawing index -> artwork indices known not to match (rejected in a review), always
    used as that drawing's negatives."""
    if settings.recipe == "thesis":
        return fit_triplet(model, drawings, artworks, split, settings, resume_from=resume_from,
                           partial_path=partial_path, progress=progress, negatives=negatives)
    return fit_contrastive(model, drawings, artworks, split, settings, progress=progress, negatives=negatives)


def self_pairs_split(n_artworks: int, seed: int) -> Split:
    """Each artwork paired with itself; a seeded share kept apart for validation."""
    return split_pairs([(a, a) for a in range(n_artworks)], (1 - SELF_PAIRS_VALIDATION, SELF_PAIRS_VALIDATION, 0.0),
                       seed=seed)


def fit_without_pairs(model: LoadedModel, artworks: Sequence[Path], settings: TrainSettings = TrainSettings(), *,
                      progress: Progress | None = None) -> TrainResult:
    """Adapt ``model`` to drawings with no confirmed pair: every artwork is matched with drawing-like
    versions of itself (the thesis's "Mini-Replica"). Validation: held-out artworks, each looked for
    among all artworks from a drawing-like version of itself."""
    if settings.recipe == "thesis":
        raise ConfigError("Learning from the artworks alone uses the default recipe; leave out --recipe thesis.")
    if len(artworks) < 10:
        raise ConfigError(f"Learning without pairs needs at least 10 artworks ({len(artworks)} found).")
    return fit_contrastive(model, artworks, artworks, self_pairs_split(len(artworks), settings.seed), settings,
                           progress=progress, self_pairs=True)
