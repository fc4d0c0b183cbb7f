"""The discoveries' scores: which suggestions of unconfirmed drawings come first."""

from __future__ import annotations

import numpy as np
import pytest

from generator.contracts import Neighbours
from generator.ml.discover import SCORES, eligible_drawings, score_candidates
from generator.ml.neighbours import top_k


def _neighbours(D: np.ndarray, A: np.ndarray, k: int = 3, m: int = 3) -> Neighbours:
    empty = np.zeros((len(D), 0), np.int64)
    return Neighbours(*top_k(D, A, k), empty, empty.astype(float), *top_k(A, D, m))


def _unit(rows) -> np.ndarray:
    v = np.asarray(rows, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_adjusted_score_discounts_an_artwork_close_to_every_drawing():
    # Artwork 0 is a "hub": fairly close to all drawings. Drawing 2 truly matches artwork 1, less closely
    # than drawings 0 and 1 resemble the hub, but far more than anything else resembles artwork 1.
    A = _unit([[1, 1, 1, 0], [0, 0, 0, 1], [0, 1, -1, 0]])
    D = _unit([[1, 0.9, 0.9, 0.5], [0.9, 1, 0.9, 0.4], [0.3, 0.3, 0.3, 1], [1, 1, 1, 0.3], [0.2, 0.3, 0.3, 0.2]])
    nb = _neighbours(D, A)
    plain = score_candidates(nb, np.arange(5), "similarity")
    adjusted = score_candidates(nb, np.arange(5), "adjusted")
    assert (int(plain.drawing[0]), int(plain.artwork[0])) != (2, 1)
    assert (int(adjusted.drawing[0]), int(adjusted.artwork[0])) == (2, 1)


@pytest.mark.parametrize("score", list(SCORES))
def test_every_score_ranks_every_suggestion_of_the_eligible_drawings_once_in_a_fixed_order(score):
    rng = np.random.default_rng(0)
    D, A = _unit(rng.normal(size=(20, 8))), _unit(rng.normal(size=(9, 8)))
    nb = _neighbours(D, A, k=4, m=5)
    eligible = eligible_drawings([f"d{i}" for i in range(20)], {"d0", "d5"})
    c = score_candidates(nb, eligible, score)
    assert len(c) == 18 * 4
    assert set(c.drawing.tolist()) == set(range(20)) - {0, 5}
    assert len({(int(d), int(a)) for d, a in zip(c.drawing, c.artwork)}) == len(c)
    assert np.all(np.diff(np.round(c.score, 9)) <= 0)
    again = score_candidates(nb, eligible, score)
    assert np.array_equal(c.drawing, again.drawing) and np.array_equal(c.artwork, again.artwork)


def test_mutual_rank_is_the_drawings_place_among_the_artworks_closest_drawings():
    A = _unit([[1, 0], [0, 1]])
    D = _unit([[1, 0.1], [1, 0.3], [0.2, 1]])
    nb = _neighbours(D, A, k=2, m=2)
    c = score_candidates(nb, np.arange(3), "similarity")
    places = {(int(d), int(a)): int(m) for d, a, m in zip(c.drawing, c.artwork, c.mutual_rank)}
    assert places[0, 0] == 1 and places[1, 0] == 2 and places[2, 0] == 0  # drawing 2 not among artwork 0's two
    assert places[2, 1] == 1


def test_an_unknown_score_is_refused():
    A = _unit([[1, 0]])
    with pytest.raises(ValueError, match="unknown score"):
        score_candidates(_neighbours(A, A, 1, 1), np.arange(1), "best")


def test_no_unconfirmed_drawing_gives_no_candidate():
    A = _unit([[1, 0], [0, 1]])
    c = score_candidates(_neighbours(A, A, 2, 2), eligible_drawings(["d0", "d1"], {"d0", "d1"}))
    assert len(c) == 0 and c.score.shape == (0,)
