"""Groups of drawings that belong together, series of near-identical drawings, and how alike a view's drawings are.

* **Groups**: by default, drawings linked when each is among the other's nearest drawings (the lists the
  neighbours stage already made) and their similarity, once the collection's average is taken away
  (:func:`centred`), reaches ``GROUP_SIMILARITY``; the groups are the
  connected sets of at least ``MIN_SIZE`` drawings. A drawing linked to too few others stays in no group.
  ``method="hdbscan"`` uses scikit-learn's HDBSCAN over the normalised vectors instead (kept for the
  benchmark, which measures both on the demo's planted groups: ``benchmarks/bench_groups.py``).
* **Series**: two drawings at least ``SERIES_SIMILARITY`` alike are near-identical (the same picture drawn
  twice, or a class drawing one motif); a series is a connected set of such drawings.
* **Homogeneity**: the mean cosine similarity (average taken away) of every pair of a view's drawings (a country, a year, a
  country in one year, an age group), against random sets of as many drawings of the archive: their mean,
  their 2.5-97.5 % range and the share at least as alike.

Everything is computed in float32 vectors normalised here, with float64 sums where figures are compared,
and a fixed seed for the random sets, so a collection always gives the same result.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from generator.contracts import HOMOGENEITY_VIEWS, GroupSettings, Groups, Homogeneity
from generator.fsutil import release_pages

# The defaults below were chosen with benchmarks/bench_groups.py on the demo's planted groups and series
# (see the README's "Groups, series and homogeneity" section for the figures).
METHOD = "mutual"
MIN_SIZE = 2
GROUP_SIMILARITY = 0.65
SERIES_SIMILARITY = 0.91
MIN_DRAWINGS = 8
DRAWS = 199
SEED = 0
#: Artworks kept per group, and example drawings per measured view.
GROUP_ARTWORKS = 3
EXAMPLES = 4
#: Groups listed as most typical of a year.
TYPICAL = 3

DEFAULT_SETTINGS = GroupSettings(METHOD, MIN_SIZE, GROUP_SIMILARITY, SERIES_SIMILARITY, MIN_DRAWINGS, DRAWS)


#: Rows handled at once where the whole collection is walked through (about 40 MB of float32 at 1280 numbers).
CHUNK = 8192


def normalised(vectors: np.ndarray, overwrite: bool = False) -> np.ndarray:
    """Rows scaled to length 1 (float32); a zero row stays zero. A chunk of rows at a time (each row's figures
    are those of the whole array at once): one new array, or none with ``overwrite`` (the rows are scaled where
    they are, when they are float32 already)."""
    v = np.asarray(vectors, np.float32)
    out = v if overwrite else np.empty_like(v)
    for lo in range(0, len(v), CHUNK):
        part = v[lo:lo + CHUNK]
        norms = np.linalg.norm(part, axis=1, keepdims=True)
        np.divide(part, np.where(norms > 0, norms, 1), out=out[lo:lo + CHUNK])
        release_pages(vectors)   # the build's vectors are a map of a file: hold one chunk of it, not all
    return out


def collection_mean(v: np.ndarray) -> np.ndarray:
    """The average of the rows (float64, summed chunk by chunk in a fixed order)."""
    total = np.zeros(v.shape[1], np.float64)
    for lo in range(0, len(v), CHUNK):
        total += v[lo:lo + CHUNK].astype(np.float64).sum(0)
    return total / max(1, len(v))


def centred(vectors: np.ndarray) -> np.ndarray:
    """Rows with the collection's average taken away, then normalised.

    A network's vectors of drawings all share a large common part (paper, crayon, a child's hand): raw
    cosine similarities sit around 0.5 for any two drawings, and what sets drawings apart is drowned in it.
    Taken away, random drawings score about 0, and the demo's planted groups and copying classes are found
    far better (``benchmarks/bench_groups.py``).
    """
    return centre_in_place(normalised(vectors))


def centre_in_place(v: np.ndarray, mean: np.ndarray | None = None) -> np.ndarray:
    """:func:`centred` of rows already normalised (float32), written over them. ``mean``: their
    :func:`collection_mean` when already known."""
    if len(v) == 0:
        return v
    m = (collection_mean(v) if mean is None else mean).astype(np.float32)
    for lo in range(0, len(v), CHUNK):   # a chunk at a time: no second copy of the collection
        part = v[lo:lo + CHUNK]
        part -= m
        norms = np.linalg.norm(part, axis=1, keepdims=True)
        part /= np.where(norms > 0, norms, 1)
    return v


def rescored(v: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The similarity of each row of ``v`` with the rows its neighbour list names (float64, 6 decimals)."""
    if index.ndim != 2 or index.shape[1] == 0:
        return np.zeros(index.shape, np.float64)
    out = np.empty(index.shape, np.float64)
    for lo in range(0, len(v), CHUNK):
        hi = min(len(v), lo + CHUNK)
        out[lo:hi] = np.einsum("ij,ikj->ik", v[lo:hi].astype(np.float64), v[index[lo:hi]].astype(np.float64))
    return np.round(out, 6)


def centred_similarity(v: np.ndarray, index: np.ndarray, similarity: np.ndarray,
                       mean: np.ndarray | None = None) -> np.ndarray:
    """What :func:`rescored` gives on :func:`centred` rows, from the neighbour lists' own similarities of the
    normalised rows ``v``: with m the collection's average and a_i = v_i . m, the centred similarity of i and j
    is (s_ij - a_i - a_j + m.m) / (|v_i - m| |v_j - m|), and |v_i - m|^2 = |v_i|^2 - 2 a_i + m.m. One pass
    over the collection (a product with m) instead of fetching every listed neighbour's vector again: 0.3 s
    instead of about 20 s at 100,000 drawings. Rows missing from a list (-1) score 0; 6 decimals. ``mean``:
    the rows' :func:`collection_mean` when already known."""
    if index.ndim != 2 or index.shape[1] == 0 or len(v) == 0:
        return np.zeros(index.shape, np.float64)
    m = collection_mean(v) if mean is None else mean
    a = np.empty(len(v), np.float64)
    q = np.empty(len(v), np.float64)
    for lo in range(0, len(v), CHUNK):
        part = v[lo:lo + CHUNK].astype(np.float64)
        a[lo:lo + CHUNK] = part @ m
        q[lo:lo + CHUNK] = np.einsum("ij,ij->i", part, part)
    mm = float(m @ m)
    length = np.sqrt(np.maximum(q - 2 * a + mm, 0))
    j = np.where(index >= 0, index, 0)
    below = length[:, None] * length[j]
    out = (np.asarray(similarity, np.float64) - a[:, None] - a[j] + mm) / np.where(below > 0, below, 1)
    return np.round(np.where((index >= 0) & (below > 0), out, 0.0), 6)


def renumber(labels: np.ndarray, min_size: int = 1) -> np.ndarray:
    """Labels renumbered 0, 1, ... by size (largest first; ties: the set whose first row comes first); sets
    smaller than ``min_size`` and negative labels become -1.

    >>> renumber(np.array([5, 5, 2, 2, 2, -1, 7]), 2).tolist()
    [1, 1, 0, 0, 0, -1, -1]
    """
    labels = np.asarray(labels)
    out = np.full(len(labels), -1, np.int32)
    kept = labels >= 0
    if not kept.any():
        return out
    values, first, counts = np.unique(labels[kept], return_index=True, return_counts=True)
    first = np.flatnonzero(kept)[first]
    order = sorted((int(-c), int(f), int(v)) for v, f, c in zip(values, first, counts) if c >= min_size)
    new = {v: n for n, (_, _, v) in enumerate(order)}
    for i in np.flatnonzero(kept):
        out[i] = new.get(int(labels[i]), -1)
    return out


def _linked(index: np.ndarray, similarity: np.ndarray, threshold: float, mutual: bool) -> csr_matrix:
    """The graph of neighbour-list links at least ``threshold`` alike (mutual: listed both ways)."""
    n = len(index)
    rows = np.repeat(np.arange(n), index.shape[1]) if index.ndim == 2 else np.zeros(0, int)
    cols = index.ravel() if index.ndim == 2 else np.zeros(0, int)
    keep = (similarity.ravel() >= threshold) & (cols >= 0) & (cols != rows) if len(rows) else np.zeros(0, bool)
    g = coo_matrix((np.ones(int(keep.sum()), np.int8), (rows[keep], cols[keep])), shape=(n, n)).tocsr()
    g.data[:] = 1
    if mutual:
        return g.multiply(g.T).tocsr()
    return (g + g.T).tocsr()


def mutual_groups(index: np.ndarray, similarity: np.ndarray, threshold: float, min_size: int) -> np.ndarray:
    """Groups: connected sets of mutual nearest neighbours at least ``threshold`` alike, numbered by size."""
    n = len(index)
    if n == 0:
        return np.zeros(0, np.int32)
    _, labels = connected_components(_linked(index, similarity, threshold, mutual=True), directed=False)
    return renumber(labels, min_size)


def hdbscan_groups(vectors: np.ndarray, min_size: int) -> np.ndarray:
    """Groups found by HDBSCAN (scikit-learn) over the normalised vectors; its noise is left in no group."""
    from sklearn.cluster import HDBSCAN

    v = normalised(vectors)
    if len(v) <= min_size:
        return np.full(len(v), -1, np.int32)
    labels = HDBSCAN(min_cluster_size=max(2, min_size), copy=True).fit(v.astype(np.float64)).labels_
    return renumber(labels, min_size)


def series_of(index: np.ndarray, similarity: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """(series number of each drawing or -1, lowest linking similarity of each series): drawings at least
    ``threshold`` alike are linked whichever lists the other; a series is a connected set of two or more."""
    n = len(index)
    if n == 0:
        return np.zeros(0, np.int32), np.zeros(0, np.float32)
    graph = _linked(index, similarity, threshold, mutual=False)
    _, labels = connected_components(graph, directed=False)
    series = renumber(labels, 2)
    lowest = np.ones(int(series.max()) + 1 if len(series) and series.max() >= 0 else 0, np.float64)
    for i, row in enumerate(index):
        if series[i] < 0:
            continue
        for j, s in zip(row, similarity[i]):
            if j >= 0 and s >= threshold and series[j] == series[i]:
                lowest[series[i]] = min(lowest[series[i]], float(s))
    return series, np.round(lowest, 6).astype(np.float32)


def _sums(v: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Sum of the rows of each label 0..k-1 (float64): each label's rows added one after the other in row order,
    a few labels at a time (only their rows in float64, not a float64 copy of the collection: 1 GB at 100,000
    drawings)."""
    out = np.zeros((k, v.shape[1]), np.float64)
    grouped = np.flatnonzero(labels >= 0)
    if k == 0 or not len(grouped):
        return out
    by_label = grouped[np.argsort(labels[grouped], kind="stable")]   # each label's rows, in row order
    starts = np.searchsorted(labels[by_label], np.arange(k + 1))
    lo = 0
    while lo < k:
        hi = max(lo + 1, int(np.searchsorted(starts, starts[lo] + CHUNK, side="right")) - 1)
        hi = min(hi, k)
        rows = by_label[starts[lo]:starts[hi]]
        order = np.argsort(rows, kind="stable")
        rows = rows[order]
        m = csr_matrix((np.ones(len(rows)), (labels[rows] - lo, np.arange(len(rows)))), shape=(hi - lo, len(rows)))
        out[lo:hi] = m @ v[rows].astype(np.float64)
        lo = hi
    return out


def tightness(v: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Mean cosine similarity of each group's drawings to their normalised average."""
    if k == 0:
        return np.zeros(0, np.float32)
    sums = _sums(v, labels, k)
    centres = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    counts = np.bincount(labels[labels >= 0], minlength=k)
    # sum over members of (v . centre) = sums . centre
    return np.round(np.einsum("ij,ij->i", sums, centres) / np.maximum(counts, 1), 6).astype(np.float32)


def group_artworks(labels: np.ndarray, first_artwork: np.ndarray, k: int,
                   top: int = GROUP_ARTWORKS) -> tuple[tuple[tuple[int, int], ...], ...]:
    """For each group, (artwork row, members whose first suggestion it is), most first (ties: lower row)."""
    counts: list[Counter] = [Counter() for _ in range(k)]
    for g, a in zip(labels.tolist(), first_artwork.tolist()):
        if g >= 0 and a >= 0:
            counts[g][a] += 1
    return tuple(tuple(sorted(c.items(), key=lambda t: (-t[1], t[0]))[:top]) for c in counts)


def typical_groups(labels: np.ndarray, years: list[str | None], top: int = TYPICAL) -> dict[str, tuple[int, ...]]:
    """The groups most typical of each year: those with at least two of its drawings, by the share of the
    group's drawings from that year (then by how many, then by group number)."""
    sizes = np.bincount(labels[labels >= 0]) if (labels >= 0).any() else np.zeros(0, int)
    by_year: dict[str, Counter] = defaultdict(Counter)
    for g, y in zip(labels.tolist(), years):
        if g >= 0 and y:
            by_year[y][g] += 1
    out = {}
    for y in sorted(by_year):
        ranked = sorted(((-c / sizes[g], -c, g) for g, c in by_year[y].items() if c >= 2))
        if ranked:
            out[y] = tuple(g for _, _, g in ranked[:top])
    return out


def _mean_pairwise(sums: np.ndarray, squares: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Mean similarity of every pair of a set, from the sum of its rows, the sum of their squared lengths and
    its size (|sum|^2 counts each pair twice and each row with itself once)."""
    n = counts.astype(np.float64)
    return ((np.einsum("ij,ij->i", sums, sums) - squares) / np.maximum(n * (n - 1), 1)).astype(np.float64)


def random_baseline(v: np.ndarray, sizes: list[int], draws: int = DRAWS, seed: int = SEED,
                    squares: np.ndarray | None = None) -> np.ndarray:
    """Mean pairwise similarity of ``draws`` random sets of each size (draws x sizes), drawn without
    replacement from the rows of ``v``; one random order per draw serves every size (its first n rows).
    ``squares``: the rows' squared lengths (float64) when already known."""
    sizes = sorted(set(int(s) for s in sizes))
    if not sizes:
        return np.zeros((draws, 0))
    rng = np.random.default_rng(seed)
    biggest = sizes[-1]
    starts = np.array([0] + sizes[:-1])
    # The rows between two sizes form one segment: a sparse 0/1 matrix sums them all in one product (ten
    # times faster than numpy's reduceat), and running sums over the segments give every size's sum.
    # The matrix names the drawn rows themselves (no copy of them is gathered first).
    segment = np.searchsorted(starts, np.arange(biggest), side="right") - 1
    indptr = np.searchsorted(segment, np.arange(len(sizes) + 1))
    ones = np.ones(biggest, np.float32)
    sq = np.einsum("ij,ij->i", v, v).astype(np.float64) if squares is None else squares
    takes = [rng.permutation(len(v))[:biggest] for _ in range(draws)]   # drawn in order: the same sets always

    def draw(take: np.ndarray) -> np.ndarray:
        cut = csr_matrix((ones, take, indptr), shape=(len(sizes), len(v)))
        sums = np.cumsum(np.asarray(cut @ v, np.float64), axis=0)
        squares = np.cumsum(np.add.reduceat(sq[take], starts))
        return _mean_pairwise(sums, squares, np.array(sizes))
    # The sparse product leaves Python's lock while it runs: the draws share the processor's cores.
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return np.array(list(pool.map(draw, takes))).reshape(draws, len(sizes))


def homogeneity(vectors: np.ndarray, views: dict[str, list[str | None]], min_drawings: int = MIN_DRAWINGS,
                draws: int = DRAWS, seed: int = SEED, unit: bool = False) -> tuple[Homogeneity, ...]:
    """Every country, year, country-year and age group (``views``: view -> each drawing's key, None when
    unknown) with at least ``min_drawings`` drawings, measured against random sets of the archive (rows of
    ``vectors`` as they are: :func:`make_groups` passes them centred). The rows are normalised first (a copy),
    unless ``unit`` says they are already of length 1 (float32, as :func:`centre_in_place` leaves them): one
    pass over the collection fewer."""
    v = vectors if unit else normalised(vectors)
    cells = []   # (view, key, rows)
    for view in HOMOGENEITY_VIEWS:
        keys = views.get(view)
        if not keys:
            continue
        rows: dict[str, list[int]] = defaultdict(list)
        for i, key in enumerate(keys):
            if key:
                rows[key].append(i)
        cells.extend((view, key, np.array(r)) for key, r in sorted(rows.items()) if len(r) >= min_drawings)
    if not cells or len(v) < 2:
        return ()
    sizes = sorted({len(r) for _, _, r in cells})
    sq = np.einsum("ij,ij->i", v, v).astype(np.float64)
    baseline = random_baseline(v, sizes, draws, seed, squares=sq)
    col = {s: j for j, s in enumerate(sizes)}
    out = []
    for view, key, rows in cells:
        part = v[rows]   # summed and projected in 64-bit without a 64-bit copy of the rows
        total = part.sum(0, dtype=np.float64)
        observed = float(_mean_pairwise(total[None], np.array([sq[rows].sum()]), np.array([len(rows)]))[0])
        random = baseline[:, col[len(rows)]]
        closeness = np.einsum("ij,j->i", part, total / max(np.linalg.norm(total), 1e-12), dtype=np.float64)
        order = _closest_first(closeness, rows, EXAMPLES)
        out.append(Homogeneity(view, key, len(rows), round(observed, 6), round(float(random.mean()), 6),
                               round(float(np.percentile(random, 2.5)), 6),
                               round(float(np.percentile(random, 97.5)), 6),
                               round(float((1 + (random >= observed).sum()) / (len(random) + 1)), 6),
                               tuple(int(rows[t]) for t in order)))
    return tuple(out)


def _closest_first(closeness: np.ndarray, rows: np.ndarray, k: int) -> list[int]:
    """The positions of the ``k`` rows closest to their view's mean, by closeness rounded to six decimals (the
    lower row first among equals). Only the rows within 2e-6 of the k-th closest can be among them (a rounded
    value moves by at most 5e-7), so only those are sorted: a view of 20,000 drawings sorts a handful.

    >>> _closest_first(np.array([0.1, 0.3, 0.3000001, 0.2]), np.array([4, 7, 9, 12]), 2)
    [1, 2]
    """
    n = len(closeness)
    pick = range(n)
    if n > 4 * k:
        kth = np.partition(closeness, n - k)[n - k]
        pick = np.flatnonzero(closeness >= kth - 2e-6).tolist()
    return sorted(pick, key=lambda t: (-round(float(closeness[t]), 6), int(rows[t])))[:k]


def make_groups(vectors: np.ndarray, neighbour_index: np.ndarray, neighbour_similarity: np.ndarray,
                first_artwork: np.ndarray, views: dict[str, list[str | None]],
                settings: GroupSettings = DEFAULT_SETTINGS) -> Groups:
    """Groups, series and homogeneity of the drawings (rows of ``vectors``), from their nearest drawings
    (``neighbour_index``/``neighbour_similarity``, as the neighbours stage lists them) and the first artwork
    suggested for each (``first_artwork``, -1 when none)."""
    index = np.asarray(neighbour_index)
    similarity = np.asarray(neighbour_similarity, np.float64)
    v = normalised(vectors)
    mean = collection_mean(v)
    if settings.method != "hdbscan":   # before centring: the lists' similarities are those of the plain rows
        labels = mutual_groups(index, centred_similarity(v, index, similarity, mean), settings.group_similarity,
                               settings.min_size)
    v = centre_in_place(v, mean)
    if settings.method == "hdbscan":
        labels = hdbscan_groups(v, settings.min_size)
    k = int(labels.max()) + 1 if len(labels) and labels.max() >= 0 else 0
    series, lowest = series_of(index, similarity, settings.series_similarity)
    return Groups(settings, labels, series, tightness(v, labels, k), group_artworks(labels, first_artwork, k),
                  lowest, homogeneity(v, views, settings.min_drawings, settings.draws, unit=True),
                  typical_groups(labels, views.get("years") or [None] * len(labels)))
