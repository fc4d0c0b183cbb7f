"""Discoveries: the model's suggestions for drawings with no confirmed artwork, ranked by how likely they are
to be real re-creations.

Every drawing without a confirmed pair has its nearest artworks (the drawing page's suggestions). This
module gives each of those (drawing, artwork) candidates a score, so the most promising ones across the
whole collection can be reviewed first. Similarity alone is not comparable from one drawing to another:
some drawings (plain, faded, pencil-only) are close to every artwork, and some artworks are close to every
drawing ("hubs"). The scores (named in ``contracts.SCORES``) correct for that in different ways;
``benchmarks/bench_discoveries.py`` measures them by hiding half of the known pairs and counting how many
hidden pairs each score puts in its top 20 / 50 / 100.

Everything is computed from the neighbour lists the build already has (:class:`Neighbours`): no second
pass over the vectors.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from generator.contracts import PAGE_SCORE, SCORES, Candidates, Neighbours

def _mutual_ranks(nb: Neighbours, d_rows: np.ndarray, a_rows: np.ndarray) -> np.ndarray:
    """For each candidate, the drawing's 1-based place among the artwork's listed closest drawings, else 0."""
    of_art = nb.of_artwork_index
    if of_art.size == 0:
        return np.zeros(len(d_rows), np.int64)
    hits = of_art[a_rows] == d_rows[:, None]
    return np.where(hits.any(axis=1), hits.argmax(axis=1) + 1, 0).astype(np.int64)


def score_candidates(nb: Neighbours, eligible: np.ndarray, score: str = PAGE_SCORE) -> Candidates:
    """Every suggestion of the ``eligible`` drawings (row numbers), scored by ``score`` and sorted best first.

    Ties are broken by drawing row then suggestion rank, so the order is the same in every run.

    >>> idx = np.array([[0, 1], [1, 0]]); sim = np.array([[0.9, 0.5], [0.6, 0.55]])
    >>> of_a = np.array([[0, 1], [1, 0]]); of_s = np.array([[0.9, 0.55], [0.6, 0.5]])
    >>> nb = Neighbours(idx, sim, np.zeros((2, 0), int), np.zeros((2, 0)), of_a, of_s)
    >>> c = score_candidates(nb, np.array([0, 1]), "margin")
    >>> [(int(d), int(a)) for d, a in zip(c.drawing, c.artwork)]
    [(0, 0), (1, 1), (1, 0), (0, 1)]
    """
    if score not in SCORES:
        raise ValueError(f"unknown score {score!r}; choose from {', '.join(SCORES)}")
    eligible = np.asarray(eligible, dtype=np.int64)
    idx = np.asarray(nb.artworks_index)[eligible]
    sim = np.asarray(nb.artworks_similarity, dtype=np.float64)[eligible]
    k = idx.shape[1] if idx.ndim == 2 else 0
    d_rows = np.repeat(eligible, k)
    a_rows = idx.reshape(-1).astype(np.int64)
    s = sim.reshape(-1)
    rank = np.tile(np.arange(1, k + 1), len(eligible))
    mutual = _mutual_ranks(nb, d_rows, a_rows)
    values = _score_values(score, nb, sim, s, a_rows, mutual, k)
    # np.lexsort sorts by the last key first: score descending, then drawing row, then rank.
    order = np.lexsort((rank, d_rows, -np.round(values, 9)))
    return Candidates(d_rows, a_rows, rank, s, mutual, values).take(order)


def _score_values(score: str, nb: Neighbours, sim: np.ndarray, s: np.ndarray, a_rows: np.ndarray,
                  mutual: np.ndarray, k: int) -> np.ndarray:
    n_rows = sim.shape[0]
    if score == "similarity":
        return s
    if score == "margin":
        # The first suggestion: its lead over the second; the others: how far behind the first they are.
        best = np.repeat(sim[:, 0] if k else np.zeros(n_rows), k)
        second = np.repeat(sim[:, 1] if k > 1 else np.zeros(n_rows), k)
        return np.where(s >= best, s - second, s - best)
    if score == "mutual":
        listed = nb.of_artwork_index.shape[1] if nb.of_artwork_index.ndim == 2 else 0
        place = np.where(mutual > 0, mutual, listed + 1)
        return -place + 0.5 * s  # similarity only breaks ties between equal places (|0.5 s| < 0.5)
    # "adjusted": cross-domain similarity local scaling (CSLS, Conneau et al. 2018): a pair scores high when
    # the two are closer to each other than each is to its usual neighbours.
    drawing_level = np.repeat(sim.mean(axis=1) if k else np.zeros(n_rows), k)
    of_art = np.asarray(nb.of_artwork_similarity, dtype=np.float64)
    artwork_level = of_art.mean(axis=1)[a_rows] if of_art.size else np.zeros(len(s))
    return 2 * s - drawing_level - artwork_level


def eligible_drawings(drawing_ids: list[str], confirmed: Collection[str]) -> np.ndarray:
    """Rows of the drawings with no confirmed artwork: the ones whose suggestions are discoveries."""
    return np.array([i for i, d in enumerate(drawing_ids) if d not in confirmed], dtype=np.int64)
