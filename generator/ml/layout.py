"""The 2-D map: a seeded UMAP of drawings and artworks together, scaled to [-1, 1].

Up to :data:`FULL_LAYOUT_MAX` items UMAP lays out every item. Beyond that a full UMAP would take too long
and too much memory (a million items: well over the ten minutes a build may spend on its map), so UMAP lays
out a seeded sample of :data:`SAMPLE_ITEMS` items and every other item is placed among its nearest sampled
items, as new items are placed into an existing map. ``benchmarks/bench_layout.py`` measures how well each
keeps the nearest neighbours of the vectors on the map; the README gives the figures behind the two numbers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from generator.contracts import row_digests
from generator.fsutil import release_pages
from generator.ml.neighbours import best_columns, top_k

#: Below this many items UMAP's neighbour graph is meaningless; a PCA projection is used instead.
MIN_UMAP_ITEMS = 16
#: New items up to this fraction of the map (counted since the last full layout) are placed
#: into the existing map instead of recomputing it.
MAX_PLACED_FRACTION = 0.05
#: A new item goes to the similarity-weighted mean of its this many nearest placed items.
PLACE_NEIGHBOURS = 8
#: Above this many (new x existing) pairs, new items are compared only with the existing items of nearby
#: cells (:func:`near_in_cells`), not with all of them.
EXACT_PLACE_PAIRS = 2_000_000_000
#: How many cells (its own and the nearest others) a new item is compared with.
PROBE_CELLS = 10
#: Collections up to this many items get a UMAP of all of them; larger ones a UMAP of a sample.
FULL_LAYOUT_MAX = 200_000
#: How many items UMAP lays out in a larger collection (the rest are placed among them).
SAMPLE_ITEMS = 100_000
#: The principal axes of a larger collection come from this many of its items (a seeded sample).
PCA_SAMPLE = 200_000
#: Where UMAP starts its items: their two principal axes. From UMAP's default start, the neighbour graph's spectral
#: layout, maps of about 102,000 items took 61-137 s alone and 381 s in a first build, where the graph had no clear
#: clusters; from the principal axes 58-69 s, each map keeping as many of its items' nearest neighbours
#: (benchmarks/README.md, "The map's starting positions").
START = "pca"


@dataclass
class Layout:
    coords: np.ndarray   # n x 2, float32 in [-1, 1], rounded to 4 decimals
    method: str          # "UMAP" or "PCA"
    sample: int = 0      # how many items UMAP laid out when it did not lay out all (0: all of them)


def _pca(x: np.ndarray, dims: int, block: int = 16384, rows: np.ndarray | None = None) -> np.ndarray:
    """Project onto the top ``dims`` principal axes (of the ``rows`` of ``x`` when given, else of all).

    The axes come from the d x d covariance, accumulated in float64 over row blocks,
    so memory stays at the size of a block (a full SVD of 110,000 x 1280 needs several
    GB; ``x`` may be a read-only map of a file, and the sampled rows are never gathered
    into one copy). Each axis's sign is fixed so that the result is deterministic.
    """
    x = np.asarray(x, np.float32)
    n, d = x.shape
    count = n if rows is None else len(rows)

    def fit(start: int, stop: int) -> np.ndarray:   # rows of the fit, a block at a time (never all at once)
        if rows is None:
            return x[start:stop]
        out = np.empty((len(rows[start:stop]), d), np.float32)
        for lo in range(start, min(stop, count), 1024):   # a map brings in pages around each row: let them go
            out[lo - start:lo - start + 1024] = x[rows[lo:min(lo + 1024, stop)]]
            release_pages(x)
        return out

    dims = min(dims, count, d)
    if dims <= 0:
        return np.zeros((n, 0), np.float32)
    # The mean as numpy's gives it (float64, the rows added one after the other), a block of rows at a time.
    total = np.zeros(d, np.float64)
    for start in range(0, count, 4096):
        total = np.add.reduce(np.vstack([total[None], fit(start, start + 4096).astype(np.float64)]), axis=0)
        release_pages(x)
    mean = total / count
    cov = np.zeros((d, d), np.float64)
    for start in range(0, count, block):
        rows32 = fit(start, start + block)
        release_pages(x)
        chunk = np.subtract(rows32, mean, dtype=np.float64)   # as rows32.astype(float64) - mean, one copy less
        del rows32
        cov += chunk.T @ chunk
        del chunk
    values, vectors = np.linalg.eigh(cov)
    axes = vectors[:, np.argsort(values)[::-1][:dims]]
    signs = np.sign(axes[np.argmax(np.abs(axes), axis=0), np.arange(dims)])
    axes = (axes * np.where(signs == 0, 1, signs)).astype(np.float32)
    out = np.empty((n, dims), np.float32)
    mean32 = mean.astype(np.float32)
    for start in range(0, n, block):
        out[start:start + block] = (x[start:start + block] - mean32) @ axes
        release_pages(x)
    return out


def _scale(coords: np.ndarray) -> np.ndarray:
    coords = np.asarray(coords, np.float64)
    if coords.shape[1] < 2:
        coords = np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    return np.round((coords - lo) / span * 2 - 1, 4).astype(np.float32)


def _umap(reduced: np.ndarray, seed: int, n_neighbors: int) -> np.ndarray:
    import umap  # imported here: it takes seconds to load

    n = len(reduced)
    # Items that all stand at one point have no principal axes (UMAP would scale them by 1/0): any start is as good.
    spread = reduced.shape[1] >= 2 and bool(np.ptp(reduced, axis=0).any())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reducer = umap.UMAP(n_components=2, n_neighbors=min(n_neighbors, n - 1), min_dist=0.1,
                            metric="cosine", random_state=seed, init=START if n > 100 and spread else "random",
                            transform_seed=seed)
        return reducer.fit_transform(reduced)


def sample_rows(n: int, size: int, seed: int) -> np.ndarray:
    """A seeded sample of ``size`` of ``n`` row numbers, in increasing order.

    >>> sample_rows(10, 3, 0).tolist() == sample_rows(10, 3, 0).tolist(), len(sample_rows(10, 30, 0))
    (True, 10)
    """
    if size >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


def _unit(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norm > 0, norm, 1)).astype(np.float32, copy=False)


def compute_layout(vectors: np.ndarray, seed: int = 42, n_neighbors: int = 15,
                   full_max: int = FULL_LAYOUT_MAX, sample: int = SAMPLE_ITEMS) -> Layout:
    """Place ``vectors`` on a plane: PCA to 50 dimensions, then UMAP with a fixed seed (deterministic).

    Above ``full_max`` items UMAP lays out a seeded sample of ``sample`` items and every other item goes to
    the similarity-weighted mean of its nearest sampled items (cosine in the 50 dimensions UMAP sees).
    """
    n = len(vectors)
    if n == 0:
        return Layout(np.zeros((0, 2), np.float32), "none")
    if n < MIN_UMAP_ITEMS:
        return Layout(_scale(_pca(vectors, 2)), "PCA")
    if n <= full_max:
        return Layout(_scale(_umap(_pca(vectors, 50), seed, n_neighbors)), "UMAP")
    sample = max(MIN_UMAP_ITEMS, min(sample, n))
    reduced = _pca(vectors, 50, rows=sample_rows(n, PCA_SAMPLE, seed + 1) if n > PCA_SAMPLE else None)
    chosen = sample_rows(n, sample, seed)
    coords = np.zeros((n, 2), np.float32)
    coords[chosen] = _scale(_umap(reduced[chosen], seed, n_neighbors))
    rest = np.ones(n, bool)
    rest[chosen] = False
    unit = _unit(reduced)
    coords[rest] = place_points(unit[rest], unit[chosen], coords[chosen])
    return Layout(coords, "UMAP", sample)


def _best_cells(x: np.ndarray, centres: np.ndarray, block: int = 8192) -> np.ndarray:
    """The centre most similar to each row (float64 scores rounded to 9 decimals, ties to the lower centre)."""
    out = np.empty(len(x), np.int64)
    c64 = centres.astype(np.float64).T
    for start in range(0, len(x), block):
        scores = np.round(x[start:start + block].astype(np.float64) @ c64, 9)
        out[start:start + block] = scores.argmax(axis=1)
    return out


def near_in_cells(queries: np.ndarray, ref: np.ndarray, k: int, seed: int = 0, iterations: int = 8,
                  block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Near neighbours of each query among ``ref`` (unit rows) without comparing every pair: (indices, similarities).

    ``ref`` is cut into about sqrt(len(ref)) cells by a seeded spherical k-means; a query is compared with the
    items of its own cell and of the cells whose centres are nearest to that cell's centre (:data:`PROBE_CELLS`
    cells in all). Nearly always the true nearest items, for a fraction of the work: a million queries against
    100,000 items compare about 3,000 pairs each, not 100,000.

    Plain array arithmetic, without the network library: this runs in the process that lays out the map, whose
    memory it would grow by about 370 MB (the library alone) at the build's highest point.
    """
    queries = np.ascontiguousarray(queries, np.float32)
    ref = np.ascontiguousarray(ref, np.float32)
    cells = max(1, int(round(np.sqrt(len(ref)))))
    centres = ref[sample_rows(len(ref), cells, seed)].astype(np.float64)
    for _step in range(iterations):
        member = _best_cells(ref, centres)
        sums = np.stack([np.bincount(member, weights=ref[:, d], minlength=cells) for d in range(ref.shape[1])], 1)
        norm = np.linalg.norm(sums, axis=1, keepdims=True)
        centres = np.where(norm > 0, sums / np.where(norm > 0, norm, 1), centres)
    member = _best_cells(ref, centres)
    home = _best_cells(queries, centres)
    near_cells = np.argsort(-np.round(centres @ centres.T, 9), axis=1, kind="stable")[:, :PROBE_CELLS]
    idx = np.zeros((len(queries), k), np.int64)
    sim = np.zeros((len(queries), k), np.float32)
    by_cell = np.argsort(home, kind="stable")
    bounds = np.searchsorted(home[by_cell], np.arange(cells + 1))
    for c in range(cells):
        gallery = np.flatnonzero(np.isin(member, near_cells[c]))
        g = ref[gallery]
        g_t = np.ascontiguousarray(g.T)
        kk = min(k, len(gallery))
        few = min(kk + 4, len(gallery))
        for start in range(bounds[c], bounds[c + 1], block):
            rows = by_cell[start:min(start + block, bounds[c + 1])]
            # A few more than k by float32 scores, then scored again in float64, rounded to 9 decimals and
            # ordered with ties to the lower row, so processors whose float32 products differ in the last bits
            # still choose the same k (unless more than four items lie within that rounding of the k-th).
            part = best_columns(queries[rows] @ g_t, few)[1]
            got = np.round(np.einsum("nd,nkd->nk", queries[rows].astype(np.float64), g[part].astype(np.float64)), 9)
            order = np.lexsort((gallery[part], -got), axis=1)[:, :kk]
            part, got = np.take_along_axis(part, order, 1), np.take_along_axis(got, order, 1)
            idx[rows, :kk] = gallery[part]
            sim[rows, :kk] = got
            if kk < k:  # fewer items than k nearby: repeat the nearest (the weights stay a mean)
                idx[rows, kk:] = gallery[part[:, :1]]
                sim[rows, kk:] = got[:, :1]
    return idx, sim


def place_points(new_vectors: np.ndarray, ref_vectors: np.ndarray, ref_coords: np.ndarray,
                 k: int = PLACE_NEIGHBOURS) -> np.ndarray:
    """Coordinates for new items in an existing map, without recomputing it.

    Each new item lands at the mean of the positions of its ``k`` nearest existing items
    (exact cosine neighbours), weighted by similarity. Deterministic, fast (one blocked
    search), and a convex combination, so the result stays inside [-1, 1].
    """
    if len(new_vectors) == 0:
        return np.zeros((0, 2), np.float32)
    if len(ref_vectors) == 0:
        return np.zeros((len(new_vectors), 2), np.float32)
    if len(new_vectors) * len(ref_vectors) > EXACT_PLACE_PAIRS:
        idx, sim = near_in_cells(new_vectors, ref_vectors, k)
    else:
        idx, sim = top_k(new_vectors, ref_vectors, k)
    return _weighted_place(idx, sim, ref_coords)


def _weighted_place(idx: np.ndarray, sim: np.ndarray, ref_coords: np.ndarray) -> np.ndarray:
    """The similarity-weighted mean of the positions ``ref_coords[idx]`` of each row's nearest items."""
    w = np.clip(sim.astype(np.float64), 0, None) ** 4 + 1e-12  # favour the closest items
    w /= w.sum(axis=1, keepdims=True)
    placed = np.einsum("nk,nkc->nc", w, np.asarray(ref_coords, np.float64)[idx])
    return np.clip(np.round(placed, 4), -1, 1).astype(np.float32)


#: Up to this many new items are placed by a search among all the items, the new ones skipped, rather than among
#: a copy of the placed items' vectors (a copy of 102,000 vectors was 0.5 GB more in the process that places 100
#: new drawings); beyond it, by :func:`place_points` (which compares them with nearby cells only when the pairs
#: are many).
PLACE_WITHOUT_COPY = 256


def _place_new(vectors: np.ndarray, known: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """:func:`place_points` of the new items (not ``known``) among all the known ones, whose positions ``coords``
    holds. With few new items the search runs over all the rows, the new rows skipped: the same nearest rows in
    the same order (ties go to the lower row either way, and the known rows keep their order), without copying
    the known rows' vectors."""
    new_rows = np.flatnonzero(~known)
    if len(new_rows) > PLACE_WITHOUT_COPY or len(vectors) - len(new_rows) < PLACE_NEIGHBOURS:
        return place_points(vectors[new_rows], vectors[known], coords[known])
    idx, sim = top_k(np.asarray(vectors[new_rows]), vectors, PLACE_NEIGHBOURS, skip=new_rows)
    return _weighted_place(idx, sim, coords)


def kept_positions(digests: np.ndarray, previous: dict | None,
                   max_placed_fraction: float = MAX_PLACED_FRACTION) -> np.ndarray | None:
    """Where each item (by :func:`row_digests`) stood in ``previous`` (-1 for a new one) when :func:`update_layout`
    keeps that map and places the new items into it; None when it lays the map out again."""
    n = len(digests)
    if previous is None or n < MIN_UMAP_ITEMS or str(previous.get("method")) != "UMAP":
        return None
    old = {int(d): i for i, d in enumerate(previous["digests"].tolist())}
    pos = np.array([old.get(int(d), -1) for d in digests], np.int64)
    known = pos >= 0
    if not known.any() or int(previous.get("placed", 0)) + int((~known).sum()) > max_placed_fraction * n:
        return None
    return pos


def update_layout(vectors: np.ndarray, previous: dict | None, seed: int = 42,
                  max_placed_fraction: float = MAX_PLACED_FRACTION,
                  digests: np.ndarray | None = None) -> tuple[Layout, dict, int]:
    """The map for ``vectors``, reusing ``previous`` (the state of an earlier layout) when it can.

    When at most ``max_placed_fraction`` of the items (counting those placed in earlier
    incremental updates too) are new, the earlier positions are kept, removed items
    dropped and new ones placed with :func:`place_points`. Otherwise a full seeded layout
    is computed. Returns the layout, the state to store for the next build, and how
    many items were placed (-1 after a full layout). ``digests``: :func:`row_digests` of ``vectors`` when the
    caller has them.
    """
    digests = row_digests(vectors) if digests is None else digests
    n = len(vectors)
    pos = kept_positions(digests, previous, max_placed_fraction)
    if pos is not None:
        known = pos >= 0
        new = int((~known).sum())
        placed_before = int(previous.get("placed", 0))
        coords = np.zeros((n, 2), np.float32)
        coords[known] = previous["coords"][pos[known]]
        if new:
            ref = np.flatnonzero(known)
            if len(ref) > FULL_LAYOUT_MAX:  # among a sample, as in a sampled layout (a copy of all is GBs)
                ref = ref[sample_rows(len(ref), SAMPLE_ITEMS, seed)]
                coords[~known] = place_points(vectors[~known], vectors[ref], coords[ref])
            else:
                coords[~known] = _place_new(vectors, known, coords)
        sample = int(previous.get("sample", 0))
        state = {"digests": digests, "coords": coords, "method": np.array("UMAP"),
                 "placed": np.array(placed_before + new), "sample": np.array(sample)}
        return Layout(coords, "UMAP", sample), state, new
    layout = compute_layout(vectors, seed=seed)
    state = {"digests": digests, "coords": layout.coords, "method": np.array(layout.method),
             "placed": np.array(0), "sample": np.array(layout.sample)}
    return layout, state, -1
