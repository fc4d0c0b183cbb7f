"""Retrieval metrics on hand-computed cases, and leak-free deterministic splits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from generator.ml import evaluate
from generator.ml.evaluate import (Metrics, kfold, metrics_from_ranks, pair_components, retrieval_metrics,
                                retrieval_metrics_from_embeddings, split_pairs)


def test_single_relevant_at_rank_0():
    sim = np.array([[0.9, 0.5, 0.1, 0.0]])
    m = retrieval_metrics(sim, [{0}])
    assert (m.MP, m.MMP, m.MAP) == (0.0, 0.0, 1.0)
    assert m.recall == {1: 1.0}
    assert m.as_dict()["R@1"] == 100.0 and m.as_dict()["MAP"] == 100.0


def test_single_relevant_at_rank_3_has_ap_one_quarter():
    sim = np.array([[0.9, 0.8, 0.7, 0.6, 0.5]])
    m = retrieval_metrics(sim, [{3}], ks=(1, 5))
    assert m.MP == 3.0 and m.MMP == 3.0
    assert m.MAP == pytest.approx(0.25)
    assert m.recall == {1: 0.0, 5: 1.0}


def test_ties_count_against_the_model():
    # The relevant item 2 ties with items 0 and 1: it is ranked after both.
    sim = np.array([[0.5, 0.5, 0.5, 0.1]])
    m = retrieval_metrics(sim, [{2}])
    assert m.MP == 2.0 and m.MAP == pytest.approx(1 / 3)
    # A constant model gets the worst rank, never the best.
    m = retrieval_metrics(np.zeros((1, 10)), [{0}], ks=(1, 10))
    assert m.MP == 9.0 and m.recall == {1: 0.0, 10: 1.0}


def test_tied_relevant_items_keep_distinct_ranks():
    # Items 0 and 2 are relevant and tie with non-relevant item 1: ranks 1 and 2 (1 goes first).
    sim = np.array([[0.5, 0.5, 0.5, 0.9]])
    m = retrieval_metrics(sim, [{0, 2}])
    assert m.MP == pytest.approx(2.5)  # ranks 2 and 3: item 3 first, then non-relevant 1, then 0 and 2
    assert m.MMP == 2.0
    assert m.MAP == pytest.approx((1 / 3 + 2 / 4) / 2)


def test_several_relevant_artworks_per_drawing():
    # Drawing 0: relevant at ranks 0 and 2. Drawing 1: relevant at rank 1 only.
    sim = np.array([[0.9, 0.8, 0.7, 0.1],
                    [0.9, 0.8, 0.1, 0.0]])
    m = retrieval_metrics(sim, [{0, 2}, {1}], ks=(1, 2, 4))
    assert m.MP == pytest.approx((0 + 2 + 1) / 3)       # over pairs
    assert m.MMP == pytest.approx((0 + 1) / 2)           # over drawings, best rank
    ap0 = (1 / 1 + 2 / 3) / 2                            # full AP sum: P@1 * 1/2 + P@3 * 1/2
    ap1 = 1 / 2
    assert m.MAP == pytest.approx((ap0 + ap1) / 2)
    assert m.recall[1] == pytest.approx((0.5 + 0.0) / 2)
    assert m.recall[2] == pytest.approx((0.5 + 1.0) / 2)
    assert m.recall[4] == pytest.approx(1.0)
    assert m.n_queries == 2


def test_drawings_without_match_are_excluded_and_counted():
    sim = np.array([[0.9, 0.1], [0.1, 0.9], [0.5, 0.5]])
    m = retrieval_metrics(sim, [{0}, set(), set()])
    assert m.n_queries == 1 and m.n_without_match == 2
    assert m.MAP == 1.0 and m.MP == 0.0
    d = m.as_dict()
    assert d["n_without_match"] == 2 and d["n_queries"] == 1


def test_recall_at_k_beyond_gallery_is_omitted():
    sim = np.random.default_rng(0).random((3, 7))
    d = retrieval_metrics(sim, [{0}, {1}, {2}]).as_dict()
    assert [k for k in d if k.startswith("R@")] == ["R@1", "R@5"]


def test_out_of_range_relevant_is_an_error():
    with pytest.raises(ValueError, match="out of range"):
        retrieval_metrics(np.zeros((1, 3)), [{3}])


def test_no_queries_gives_nan_not_crash():
    m = retrieval_metrics(np.zeros((1, 3)), [set()])
    assert m.n_queries == 0 and m.n_without_match == 1 and math.isnan(m.MAP)


def test_blocked_counting_matches_argsort(monkeypatch):
    rng = np.random.default_rng(1)
    sim = rng.random((37, 53)).astype(np.float32)
    relevant = [set(rng.choice(53, size=rng.integers(0, 4), replace=False).tolist()) for _ in range(37)]
    monkeypatch.setattr(evaluate, "_BLOCK_CELLS", 100)  # force many small blocks
    m = retrieval_metrics(sim, relevant)
    ranks = []
    for q, rel in enumerate(relevant):
        if rel:
            order = np.argsort(-sim[q], kind="stable")
            ranks.append(np.sort(np.nonzero(np.isin(order, list(rel)))[0]))
    ref = metrics_from_ranks(ranks, 53, sum(1 for r in relevant if not r))
    assert m.as_dict() == pytest.approx(ref.as_dict())


def test_from_embeddings_equals_from_similarity():
    rng = np.random.default_rng(2)
    q = rng.normal(size=(5, 8)).astype(np.float32)
    g = rng.normal(size=(9, 8)).astype(np.float32)
    rel = [{0}, {1, 2}, set(), {8}, {3}]
    a = retrieval_metrics(q @ g.T, rel).as_dict()
    b = retrieval_metrics_from_embeddings(q, g, rel).as_dict()
    assert a == pytest.approx(b)


def test_metrics_is_a_dataclass_with_percentages():
    m = Metrics(1.0, 0.5, 0.25, {1: 0.5}, 2, 0, 10)
    assert m.as_dict() == {"MP": 1.0, "MMP": 0.5, "MAP": 25.0, "R@1": 50.0, "n_queries": 2,
                           "n_without_match": 0, "n_gallery": 10, "n_unreadable": 0}


# --------------------------------------------------------------------------- splits

def _pairs():
    # 30 components of mixed sizes: single pairs, a drawing with two artworks, an artwork with three drawings.
    pairs = [(f"d{i}", f"a{i}") for i in range(20)]
    pairs += [("d20", "a20"), ("d20", "a21")]
    pairs += [("d21", "a22"), ("d22", "a22"), ("d23", "a22")]
    pairs += [("d24", "a23"), ("d24", "a24"), ("d25", "a24")]  # chain: one component of 3 pairs
    pairs += [(f"d{i}", f"a{i}") for i in range(30, 38)]
    return pairs


def test_components_join_shared_drawings_and_artworks():
    comps = pair_components(_pairs())
    sizes = sorted(len(c) for c in comps)
    assert sizes == [1] * 28 + [2, 3, 3]
    chain = next(c for c in comps if ("d24", "a23") in c)
    assert set(chain) == {("d24", "a23"), ("d24", "a24"), ("d25", "a24")}


def _assert_no_leak(split):
    assert split.leaks() == []
    for side in (0, 1):
        parts = [{p[side] for p in part} for part in (split.train, split.val, split.test)]
        assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])


def test_split_has_no_leakage_and_meets_fractions():
    pairs = _pairs()
    split = split_pairs(pairs, (0.6, 0.25, 0.15), seed=0)
    _assert_no_leak(split)
    assert sorted(split.train + split.val + split.test) == sorted(pairs)
    n = len(pairs)
    assert abs(len(split.train) - 0.6 * n) <= 3
    assert abs(len(split.val) - 0.25 * n) <= 3
    assert abs(len(split.test) - 0.15 * n) <= 3


def test_split_is_deterministic_for_a_seed():
    pairs = _pairs()
    assert split_pairs(pairs, seed=3) == split_pairs(pairs, seed=3)
    assert split_pairs(pairs, seed=3) != split_pairs(pairs, seed=4)


def test_split_with_empty_test_part():
    split = split_pairs(_pairs(), (0.85, 0.15, 0.0))
    assert split.test == [] and split.val and split.train
    _assert_no_leak(split)


def test_kfold_covers_every_pair_once_as_test():
    pairs = _pairs()
    folds = kfold(pairs, k=5, seed=0)
    assert len(folds) == 5
    tests = [p for f in folds for p in f.test]
    assert sorted(tests) == sorted(pairs)
    for f in folds:
        _assert_no_leak(f)
        assert sorted(f.train + f.val + f.test) == sorted(pairs)
    # The rest is split as 'sitegen train' splits its pairs: about 15 % to check with, the others learned.
    for f in folds:
        assert f.val and abs(len(f.val) - 0.15 * (len(f.val) + len(f.train))) <= max(2, 0.05 * len(pairs))
    assert kfold(pairs, 5, seed=0) == folds


def test_kfold_needs_three_folds():
    with pytest.raises(ValueError):
        kfold(_pairs(), k=2)
