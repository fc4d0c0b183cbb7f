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
by several drawings) and whole components are dealt to the parts at random (seeded),
as the thesis does, keeping the proportions of pairs as close as the component sizes
allow. A large component (a drawing with several artworks) can land in any part.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from generator.contracts import DEFAULT_KS
from generator.errors import ConfigError

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
    average_precisions: np.ndarray | None = field(default=None, repr=False)  # per measured drawing, in order
    n_unreadable: int = 0     # drawings left out: their picture could not be decoded

    def as_dict(self) -> dict[str, float | int]:
        """``{"MP", "MMP", "MAP", "R@1", ...}`` with MAP and R@k in percent, plus the counts."""
        out: dict[str, float | int] = {"MP": float(self.MP), "MMP": float(self.MMP), "MAP": 100.0 * float(self.MAP)}
        for k, v in sorted(self.recall.items()):
            out[f"R@{k}"] = 100.0 * float(v)
        out["n_queries"] = self.n_queries
        out["n_without_match"] = self.n_without_match
        out["n_gallery"] = self.n_gallery
        out["n_unreadable"] = self.n_unreadable
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


def relevant_ranks(similarity: np.ndarray, relevant: Sequence[set[int]]) -> list[np.ndarray]:
    """For each query row, the 0-based ranks of its relevant gallery items (in increasing index order), counted
    as the metrics count them (ties against the model). A query with no relevant item gets an empty array.

    >>> [r.tolist() for r in relevant_ranks(np.array([[0.1, 0.9, 0.5], [0.2, 0.2, 0.3]]), [{2}, {0, 1}])]
    [[1], [1, 2]]
    """
    block = np.asarray(similarity, dtype=np.float32)
    return _ranks_from_block(block, [np.array(sorted(int(a) for a in r), dtype=np.int64) for r in relevant])


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
                   n_without_match, n_gallery, np.array(aps))


def map_gain(before: Metrics, after: Metrics, seed: int = 0, resamples: int = 2000) -> dict:
    """How much ``after`` raises MAP over ``before`` on the same drawings, with a 95 % interval.

    The interval comes from a paired bootstrap over the drawings: it says whether a
    difference could be the luck of which drawings happened to be measured.
    Figures in MAP points (percent).

    >>> b = metrics_from_ranks([np.array([1]), np.array([3]), np.array([2])], 10)
    >>> a = metrics_from_ranks([np.array([0]), np.array([0]), np.array([0])], 10)
    >>> g = map_gain(b, a)
    >>> round(g["gain"], 1), g["low"] > 0, g["drawings"]
    (63.9, True, 3)
    """
    x, y = before.average_precisions, after.average_precisions
    if x is None or y is None or len(x) != len(y) or len(x) == 0:
        raise ValueError("map_gain needs the same measured drawings on both sides")
    diff = 100.0 * (np.asarray(y) - np.asarray(x))
    picks = np.random.default_rng(seed).integers(0, len(diff), size=(resamples, len(diff)))
    means = diff[picks].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return {"gain": float(diff.mean()), "low": float(low), "high": float(high), "drawings": int(len(diff))}


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


#: Random dealings tried before keeping the one closest to the target proportions.
_DEALS = 32


def _deal(sizes: Sequence[int], targets: Sequence[float], rng: random.Random) -> list[int]:
    """One random dealing of components (given by their sizes) into parts: the part index of each.

    Components come in a random order; each goes to a part chosen at random, with a chance
    proportional to how far the part is below its target, among the parts where it fits at
    least half (else to the part furthest below). So a large component can land in any part,
    and a part with a zero target gets nothing.
    """
    counts = [0] * len(targets)
    where = [0] * len(sizes)
    order = list(range(len(sizes)))
    rng.shuffle(order)
    for c in order:
        gaps = [t - n for t, n in zip(targets, counts)]
        weights = [g if t > 0 and g >= sizes[c] / 2 else 0.0 for g, t in zip(gaps, targets)]
        if sum(weights) > 0:
            part = rng.choices(range(len(targets)), weights=weights)[0]
        else:
            part = max((i for i, t in enumerate(targets) if t > 0), key=lambda i: (gaps[i], -i))
        where[c] = part
        counts[part] += sizes[c]
    return where


def _fill_empty_parts(where: list[int], sizes: Sequence[int], targets: Sequence[float]) -> list[int]:
    """Move components so no part with a positive target stays empty, while there are components to spare."""
    while True:
        members = [[c for c, p in enumerate(where) if p == part] for part in range(len(targets))]
        empty = [p for p, t in enumerate(targets) if t > 0 and not members[p]]
        donors = [p for p in range(len(targets)) if len(members[p]) > 1]
        if not empty or not donors:
            return where
        donor = max(donors, key=lambda p: (len(members[p]), -p))
        where[min(members[donor], key=lambda c: (sizes[c], c))] = empty[0]


def _misfit(where: Sequence[int], sizes: Sequence[int], targets: Sequence[float]) -> float:
    counts = [0] * len(targets)
    for c, p in enumerate(where):
        counts[p] += sizes[c]
    return max(abs(n - t) for n, t in zip(counts, targets))


def _assign(components: list[list[Pair]], fractions: Sequence[float], seed: int) -> list[list[Pair]]:
    """Deal whole components into parts at random (seeded), near the target fractions of pairs.

    Several random dealings are tried; the first whose every part is within 1 % of the
    pairs (at least one pair) of its target is kept, else the closest one.
    """
    if any(f < 0 for f in fractions) or sum(fractions) <= 0:
        raise ValueError(f"fractions must be non-negative with a positive sum, got {tuple(fractions)}")
    sizes = [len(c) for c in components]
    n_pairs = sum(sizes)
    targets = [f / float(sum(fractions)) * n_pairs for f in fractions]
    rng = random.Random(seed)
    best, best_misfit = None, float("inf")
    for _ in range(_DEALS):
        where = _fill_empty_parts(_deal(sizes, targets, rng), sizes, targets)
        misfit = _misfit(where, sizes, targets)
        if misfit < best_misfit:
            best, best_misfit = where, misfit
        if misfit <= max(1.0, 0.01 * n_pairs):
            break
    parts: list[list[Pair]] = [[] for _ in fractions]
    for comp, part in zip(components, best or []):
        parts[part].extend(comp)
    return parts


def split_pairs(pairs: Sequence[Pair], fractions: Sequence[float] = (0.6, 0.25, 0.15), seed: int = 0) -> Split:
    """Split ``pairs`` into train / validation / test by whole connected components.

    Components go to the parts at random; ``fractions`` are of pairs and are met
    as closely as the component sizes allow. A part with a positive fraction is
    never left empty while there are enough components; a zero fraction gives an
    empty part. The same pairs and seed always give the same split.
    """
    if len(fractions) != 3:
        raise ValueError("fractions must give (train, validation, test)")
    train, val, test = _assign(pair_components(pairs), fractions, seed)
    return Split(train, val, test)


def training_split(pairs: Sequence[Pair], val_share: float = 0.15, test_share: float = 0.0, seed: int = 0) -> Split:
    """The split ``sitegen train`` learns with: ``val_share`` of the pairs for the guard, ``test_share`` kept
    apart as a test part (none by default: the honest estimate is cross-validation), the rest learned."""
    return split_pairs(pairs, (1.0 - val_share - test_share, val_share, test_share), seed=seed)


def subset_pairs(pairs: Sequence[Pair], n: int, seed: int = 0) -> list[Pair]:
    """About ``n`` of ``pairs``, whole connected components taken in a seeded random order (an archive with
    fewer confirmed pairs, for measuring how a recipe does with them).

    >>> len(subset_pairs([(i, i) for i in range(10)], 4, seed=1))
    4
    """
    components = pair_components(pairs)
    random.Random(seed).shuffle(components)
    out: list[Pair] = []
    for comp in components:
        if len(out) >= n:
            break
        out.extend(comp)
    return out


def kfold(pairs: Sequence[Pair], k: int = 5, seed: int = 0, val_share: float = 0.15) -> list[Split]:
    """K splits for cross-validation over connected components.

    The components are dealt at random into ``k`` folds of about equal size; in
    split ``i`` fold ``i`` is the test part and the other folds are split as
    ``sitegen train`` splits its pairs: ``val_share`` for the guard, the rest learned.
    Every pair is a test pair in exactly one split, and no fold is empty: with
    fewer components than ``k`` it raises :class:`ConfigError`.
    """
    if k < 3:
        raise ValueError("kfold needs k >= 3 (a test fold, and pairs to learn from and to check with)")
    components = pair_components(pairs)
    if len(components) < k:
        raise ConfigError(_too_few_groups(len(components), k))
    folds = _assign(components, [1.0] * k, seed)
    splits = []
    for i in range(k):
        rest = [p for f in range(k) if f != i for p in folds[f]]
        inner = training_split(rest, val_share, 0.0, seed=seed * 1000 + i) if val_share else Split(train=rest)
        splits.append(Split(inner.train, inner.val, list(folds[i])))
    return splits


def _too_few_groups(n_groups: int, k: int) -> str:
    why = (f"Cross-validation with {k} folds needs at least {k} separate groups of pairs, but these pairs form "
           f"only {n_groups} (pairs that share a drawing or an artwork always stay together).")
    if n_groups >= 3:
        return f"{why} Use --folds 3." if n_groups == 3 else f"{why} Use --folds between 3 and {n_groups}."
    return f"{why} Cross-validation needs at least 3 groups: add more pairs, or measure without --folds."


# --------------------------------------------------------------------------- pairs a model has not seen

def _name_parts(name: str) -> tuple[str, ...]:
    return tuple(p for p in str(name).replace("\\", "/").split("/") if p not in ("", "."))


def _name_lookup(names: Sequence[str]):
    """A function: a file name saved in a model file -> the indices of the matching ``names``.

    Names are paths relative to a folder, with '/'. The folder given at training may
    sit above or below the one given now, so a name also matches when one path ends
    with the other, and finally by bare file name. A name matching several files
    matches them all: when in doubt, a pair is left out rather than counted.
    """
    exact: dict[str, set[int]] = {}
    tails: dict[str, set[int]] = {}
    for i, name in enumerate(names):
        parts = _name_parts(name)
        exact.setdefault("/".join(parts), set()).add(i)
        for k in range(1, len(parts)):
            tails.setdefault("/".join(parts[k:]), set()).add(i)

    def lookup(name: str) -> set[int]:
        parts = _name_parts(name)
        if not parts:
            return set()
        full = "/".join(parts)
        if full in exact or full in tails:  # same folder, or today's folder is above the training one
            return exact.get(full) or tails[full]
        for k in range(1, len(parts) - 1):  # the training folder was above today's
            if "/".join(parts[k:]) in exact:
                return exact["/".join(parts[k:])]
        return exact.get(parts[-1], set()) | tails.get(parts[-1], set())

    return lookup


def learned_pairs(checkpoint: dict | None) -> dict[str, list]:
    """Every pair a model file's network learned from or was checked on, over its whole lineage (the model it
    started from, and the one before): ``{"train": [[drawing, artwork], ...], "val": [...]}`` by file name."""
    if not checkpoint:
        return {"train": [], "val": []}
    lineage = checkpoint.get("learned_from") or {}
    split = checkpoint.get("split") or {}
    return {part: [list(p) for p in (*(lineage.get(part) or ()), *(split.get(part) or ()))]
            for part in ("train", "val")}


def names_found(saved: Sequence[str], names: Sequence[str]) -> set[int]:
    """The indices of ``names`` that file names saved in a model file point to (matched as
    :func:`held_out_pairs` matches them)."""
    lookup = _name_lookup(names)
    return set().union(*(lookup(n) for n in saved)) if saved else set()


def held_out_pairs(checkpoint_split: dict | None, drawing_names: Sequence[str], artwork_names: Sequence[str],
                   pairs: Sequence[Pair]) -> tuple[list[Pair], int]:
    """The ``pairs`` a fine-tuned model neither trained nor validated on, and how many were left out.

    ``checkpoint_split`` is the ``split`` a model file from ``sitegen train`` keeps:
    ``{"train": [[drawing, artwork], ...], "val": ..., "test": ...}`` with names
    relative to the folders used for training. ``pairs`` are index pairs into
    ``drawing_names`` and ``artwork_names`` (paths relative to today's folders). A
    pair is left out when its drawing *or* its artwork appears in the training or
    validation part: a drawing the model has seen must not count.
    """
    find_drawing, find_artwork = _name_lookup(drawing_names), _name_lookup(artwork_names)
    seen_d: set[int] = set()
    seen_a: set[int] = set()
    for part in ("train", "val"):
        for d_name, a_name in (checkpoint_split or {}).get(part) or ():
            seen_d |= find_drawing(d_name)
            seen_a |= find_artwork(a_name)
    kept = [(d, a) for d, a in pairs if d not in seen_d and a not in seen_a]
    return kept, len(pairs) - len(kept)
