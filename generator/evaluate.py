"""Retrieval metrics (MP, MMP, MAP, R@k) and leak-free splits of the drawing-artwork pairs.

Metrics follow the thesis, with the correction described in DESIGN.md: AP is the
full sum over every rank, not the sum truncated at |A_d|.

Ranks are 0-based, and **ties count against the model**: an artwork is ranked
after every gallery item whose similarity is strictly higher *and* after every
non-relevant item with exactly the same similarity. A model that maps
everything to one vector therefore scores the worst possible ranks, never the
best. Relevant artworks tied with each other keep their gallery order.

Splits never put a drawing or an artwork in two parts: pairs are grouped into
connected components of the bipartite drawing-artwork graph (a drawing that
re-creates two artworks ties them together, and so does an artwork re-created
by several drawings) and whole components are assigned to a part.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

DEFAULT_KS = (1, 5, 10, 20, 50, 100, 200, 400)

#: Boolean comparisons per block when counting ranks (about 16 MB of temporary memory).
_BLOCK_CELLS = 1 << 24


# --------------------------------------------------------------------------- metrics

@dataclass
class Metrics:
    """Retrieval quality of drawing -> artwork search.

    MP and MMP are ranks (0 is perfect); MAP and recall are fractions in [0, 1]
    here and percentages in :meth:`as_dict`.
    """

    MP: float                 # mean rank over every (drawing, relevant artwork) pair
    MMP: float                # mean over drawings of the best rank among its relevant artworks
    MAP: float                # mean average precision (full sum), fraction
    recall: dict[int, float]  # k -> mean fraction of a drawing's relevant artworks in its top k
    n_queries: int            # drawings measured (those with at least one relevant artwork)
    n_without_match: int      # drawings left out: no relevant artwork in the gallery
    n_gallery: int = 0        # gallery size

    def as_dict(self) -> dict[str, float | int]:
        """``{"MP", "MMP", "MAP", "R@1", ...}`` with MAP and R@k in percent, plus the counts."""
        out: dict[str, float | int] = {"MP": float(self.MP), "MMP": float(self.MMP), "MAP": 100.0 * float(self.MAP)}
        for k, v in sorted(self.recall.items()):
            out[f"R@{k}"] = 100.0 * float(v)
        out["n_queries"] = self.n_queries
        out["n_without_match"] = self.n_without_match
        out["n_gallery"] = self.n_gallery
        return out


def _pessimistic_ranks(sims_row: np.ndarray, rel: np.ndarray, count_ge: np.ndarray) -> np.ndarray:
    """Ranks of the relevant items ``rel`` of one query, given for each how many gallery items score >= it.

    Non-relevant items tied with a relevant one go first; relevant items tied with
    each other keep their index order.
    """
    s = sims_row[rel]
    order = np.lexsort((rel, -s))           # score descending, then index
    ranks = np.empty(len(rel), dtype=np.int64)
    s_sorted = s[order]
    for pos, j in enumerate(order):
        n_rel_ge = int(np.count_nonzero(s_sorted >= s_sorted[pos]))
        ranks[j] = int(count_ge[j]) - n_rel_ge + pos
    return ranks


def _ranks_from_block(block: np.ndarray, rel_block: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Pessimistic 0-based ranks of the relevant items for each row of a similarity block."""
    q_of = np.concatenate([np.full(len(r), i, dtype=np.int64) for i, r in enumerate(rel_block)]) \
        if rel_block else np.zeros(0, np.int64)
    a_of = np.concatenate(rel_block) if rel_block else np.zeros(0, np.int64)
    out: list[np.ndarray] = []
    if len(a_of) == 0:
        return [np.zeros(0, np.int64) for _ in rel_block]
    s = block[q_of, a_of]
    if np.isnan(s).any():
        raise ValueError("the similarity of a relevant artwork is NaN; check the embeddings")
    # One row per (query, relevant) pair; chunked so the boolean temporary stays small.
    count_ge = np.empty(len(a_of), dtype=np.int64)
    step = max(1, _BLOCK_CELLS // max(1, block.shape[1]))
    for start in range(0, len(a_of), step):
        sl = slice(start, start + step)
        count_ge[sl] = np.count_nonzero(block[q_of[sl]] >= s[sl, None], axis=1)
    start = 0
    for i, r in enumerate(rel_block):
        n = len(r)
        out.append(_pessimistic_ranks(block[i], r, count_ge[start:start + n]))
        start += n
    return out


def metrics_from_ranks(ranks: Sequence[np.ndarray], n_gallery: int, n_without_match: int = 0,
                       ks: Sequence[int] = DEFAULT_KS) -> Metrics:
    """Aggregate per-drawing rank arrays (one array of distinct 0-based ranks per drawing) into :class:`Metrics`."""
    ks = tuple(k for k in ks if k <= n_gallery)
    if not ranks:
        nan = float("nan")
        return Metrics(nan, nan, nan, {k: nan for k in ks}, 0, n_without_match, n_gallery)
    all_ranks = np.concatenate(ranks)
    mp = float(all_ranks.mean())
    mmp = float(np.mean([r.min() for r in ranks]))
    aps = []
    recall = {k: 0.0 for k in ks}
    for r in ranks:
        r = np.sort(r)
        m = len(r)
        # AP = sum_k P@k (R@k - R@(k-1)): recall only moves at a relevant rank r_i, by 1/m,
        # where precision is i / (r_i + 1) (i relevant items among the first r_i + 1).
        aps.append(float(np.sum(np.arange(1, m + 1) / (r + 1.0)) / m))
        for k in ks:
            recall[k] += np.count_nonzero(r < k) / m
    n = len(ranks)
    return Metrics(mp, mmp, float(np.mean(aps)), {k: float(v / n) for k, v in recall.items()}, n,
                   n_without_match, n_gallery)


def _clean_relevant(relevant: Sequence[set[int]], n_gallery: int) -> tuple[list[int], list[np.ndarray], int]:
    kept, rel_arrays, missing = [], [], 0
    for q, rel in enumerate(relevant):
        r = np.array(sorted(int(a) for a in rel), dtype=np.int64)
        if len(r) and (r.min() < 0 or r.max() >= n_gallery):
            raise ValueError(f"relevant artwork index out of range for query {q}: {r.tolist()} "
                             f"(gallery of {n_gallery})")
        if len(r) == 0:
            missing += 1
            continue
        kept.append(q)
        rel_arrays.append(r)
    return kept, rel_arrays, missing


def retrieval_metrics(similarity: np.ndarray, relevant: Sequence[set[int]],
                      ks: Sequence[int] = DEFAULT_KS) -> Metrics:
    """Metrics of a ``n_queries x n_gallery`` similarity matrix (higher = more alike).

    ``relevant[q]`` holds the gallery indices of the artworks drawing ``q`` re-creates.
    Drawings with an empty set are left out of every metric and counted in
    ``n_without_match``. Ranks are found by counting (no per-row argsort), in row
    blocks, so memory stays flat for a 10,000 x 250,000 matrix (which may be a
    ``np.memmap``).
    """
    similarity = np.asarray(similarity) if not isinstance(similarity, np.memmap) else similarity
    if similarity.ndim != 2 or similarity.shape[0] != len(relevant):
        raise ValueError(f"similarity has shape {similarity.shape} but there are {len(relevant)} queries")
    n_gallery = similarity.shape[1]
    kept, rel_arrays, missing = _clean_relevant(relevant, n_gallery)
    rows = max(1, _BLOCK_CELLS // max(1, n_gallery))
    ranks: list[np.ndarray] = []
    for start in range(0, len(kept), rows):
        idx = kept[start:start + rows]
        block = np.asarray(similarity[idx])
        ranks.extend(_ranks_from_block(block, rel_arrays[start:start + rows]))
    return metrics_from_ranks(ranks, n_gallery, missing, ks)


def retrieval_metrics_from_embeddings(queries: np.ndarray, gallery: np.ndarray, relevant: Sequence[set[int]],
                                      ks: Sequence[int] = DEFAULT_KS) -> Metrics:
    """Like :func:`retrieval_metrics` for L2-normalised embeddings, never holding the full similarity matrix."""
    if queries.shape[0] != len(relevant):
        raise ValueError(f"{queries.shape[0]} query vectors but {len(relevant)} relevance sets")
    n_gallery = gallery.shape[0]
    kept, rel_arrays, missing = _clean_relevant(relevant, n_gallery)
    rows = max(1, _BLOCK_CELLS // max(1, n_gallery))
    gallery_t = np.ascontiguousarray(gallery.T, dtype=np.float32)
    ranks: list[np.ndarray] = []
    for start in range(0, len(kept), rows):
        idx = kept[start:start + rows]
        block = np.asarray(queries[idx], dtype=np.float32) @ gallery_t
        ranks.extend(_ranks_from_block(block, rel_arrays[start:start + rows]))
    return metrics_from_ranks(ranks, n_gallery, missing, ks)


# --------------------------------------------------------------------------- splits

Pair = tuple[Hashable, Hashable]


@dataclass(frozen=True)
class Split:
    """Three disjoint sets of (drawing, artwork) pairs. No drawing and no artwork is in two parts."""

    train: list = field(default_factory=list)
    val: list = field(default_factory=list)
    test: list = field(default_factory=list)

    def parts(self) -> dict[str, list]:
        return {"train": self.train, "val": self.val, "test": self.test}

    def leaks(self) -> list[str]:
        """Descriptions of every drawing or artwork found in two parts (empty when the split is clean)."""
        problems = []
        names = list(self.parts())
        for side, what in ((0, "drawing"), (1, "artwork")):
            seen: dict = {}
            for part in names:
                for p in self.parts()[part]:
                    other = seen.setdefault(p[side], part)
                    if other != part:
                        problems.append(f"{what} {p[side]!r} is in {other} and {part}")
        return problems


def pair_components(pairs: Sequence[Pair]) -> list[list[Pair]]:
    """Connected components of the bipartite drawing-artwork graph, each a list of its pairs.

    Duplicate pairs are kept once. Components come in first-appearance order, and
    pairs inside a component in input order.

    >>> pair_components([("d1", "a1"), ("d2", "a2"), ("d3", "a1"), ("d2", "a3")])
    [[('d1', 'a1'), ('d3', 'a1')], [('d2', 'a2'), ('d2', 'a3')]]
    """
    parent: dict = {}

    def find(x):
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    unique = list(dict.fromkeys((d, a) for d, a in pairs))
    for d, a in unique:
        dn, an = ("d", d), ("a", a)
        parent.setdefault(dn, dn)
        parent.setdefault(an, an)
        rd, ra = find(dn), find(an)
        if rd != ra:
            parent[ra] = rd
    groups: dict = {}
    for d, a in unique:
        groups.setdefault(find(("d", d)), []).append((d, a))
    return list(groups.values())


def _assign(components: list[list[Pair]], fractions: Sequence[float], seed: int) -> list[list[Pair]]:
    """Greedy: components from largest to smallest (seeded order among equal sizes) go to the part
    furthest below its target number of pairs."""
    if any(f < 0 for f in fractions) or sum(fractions) <= 0:
        raise ValueError(f"fractions must be non-negative with a positive sum, got {tuple(fractions)}")
    total_f = float(sum(fractions))
    comps = list(components)
    random.Random(seed).shuffle(comps)
    comps.sort(key=len, reverse=True)  # stable: the shuffle decides among equal sizes
    n_pairs = sum(len(c) for c in comps)
    targets = [f / total_f * n_pairs for f in fractions]
    parts: list[list[Pair]] = [[] for _ in fractions]
    counts = [0] * len(fractions)
    for comp in comps:
        # Largest deficit first; among equal deficits, the earlier part.
        best = max(range(len(parts)), key=lambda i: (targets[i] - counts[i], -i) if targets[i] > 0 else
                   (float("-inf"), -i))
        parts[best].extend(comp)
        counts[best] += len(comp)
    return parts


def split_pairs(pairs: Sequence[Pair], fractions: Sequence[float] = (0.6, 0.25, 0.15), seed: int = 0) -> Split:
    """Split ``pairs`` into train / validation / test by whole connected components.

    ``fractions`` are of pairs; they are met as closely as the component sizes
    allow. The same pairs and seed always give the same split.
    """
    if len(fractions) != 3:
        raise ValueError("fractions must give (train, validation, test)")
    train, val, test = _assign(pair_components(pairs), fractions, seed)
    return Split(train, val, test)


def kfold(pairs: Sequence[Pair], k: int = 5, seed: int = 0) -> list[Split]:
    """K splits for cross-validation over connected components.

    The components are dealt into ``k`` folds of about equal size; in split ``i``
    fold ``i`` is the test part, fold ``(i + 1) % k`` the validation part (for
    early stopping) and the remaining ``k - 2`` folds are for training. Every pair
    is a test pair in exactly one split.
    """
    if k < 3:
        raise ValueError("kfold needs k >= 3 (one fold for test, one for validation, the rest for training)")
    folds = _assign(pair_components(pairs), [1.0] * k, seed)
    splits = []
    for i in range(k):
        j = (i + 1) % k
        train = [p for f in range(k) if f not in (i, j) for p in folds[f]]
        splits.append(Split(train, list(folds[j]), list(folds[i])))
    return splits
