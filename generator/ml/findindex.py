"""The artworks' vectors in the compact form the find page downloads.

Each vector is projected on the main axes of the artworks' vectors (principal
components, centred on their mean) and the projection stored as 16-bit integers
with one scale per artwork. A query ``q`` then scores artwork ``i`` as

    q . mean + (P q) . (scale_i * codes_i)

which is the cosine similarity up to the error of the projection and the rounding.
The first term is the same for every artwork, so the ranking depends on the second
only. The number of axes is the smallest that keeps the top 10 of the collection's
own drawings as the full vectors rank them (:func:`compact_index`).

The codes are written in parts. Up to GROUPED_FROM artworks a query needs every part
(they hold the artworks in the site's order). From GROUPED_FROM on, the artworks are
grouped into parts of similar artworks (k-means on their codes), each part with a
centre, and a query downloads only the ``probe`` parts whose centres score highest;
``probe`` is the smallest number that keeps the target share of the drawings' top 10.
"""

from __future__ import annotations

import numpy as np

from generator.contracts import CompactIndex
from generator.fsutil import release_pages

#: Largest code of the 16-bit codes.
CODE_PEAK = 32767
#: Axes tried, smallest first; the artworks' own number of independent directions ends the list.
AXES_TRIED = (32, 64, 128, 256)
#: The smallest number of axes whose top 10 holds at least this share of the exact top 10 is kept.
AGREEMENT_TARGET = 0.97
#: Drawings used as queries when measuring agreement (evenly spaced through the site's list).
AGREEMENT_QUERIES = 1000
#: From this many artworks on, parts group similar artworks and a query downloads only the nearest parts.
GROUPED_FROM = 50_000
#: Artworks per part, on average, when grouped.
GROUP_ROWS = 1024
#: At most this many similarities are held at once when measuring agreement (queries x artworks).
MEASURE_CELLS = 50_000_000
#: Fewer queries measure agreement above this many similarities in all (queries x artworks): a million artworks
#: are measured on 500 drawings (a few seconds of scoring), up to 50,000 on AGREEMENT_QUERIES.
MEASURE_WORK = 500_000_000


def principal_axes(vectors: np.ndarray, block: int = 16384) -> tuple[np.ndarray, np.ndarray]:
    """(mean, axes): every axis of the centred vectors with a non-zero spread, largest first, signs fixed.

    Above ``dim`` vectors the axes come from the covariance, summed over blocks of rows in 64-bit floats
    (a 250,000-artwork collection never holds a 64-bit copy of all its vectors).
    """
    x = np.asarray(vectors, np.float32)
    if len(x) <= block:
        mean = x.astype(np.float64).mean(axis=0)
    else:  # summed a block at a time: a million vectors have no 64-bit copy (10 GB) either
        mean = sum(_released(x[lo:lo + block].astype(np.float64).sum(axis=0), x)
                   for lo in range(0, len(x), block)) / len(x)
    if len(x) <= x.shape[1]:
        _, s, vt = np.linalg.svd(x.astype(np.float64) - mean, full_matrices=False)
        spread = s ** 2
    else:
        cov = np.zeros((x.shape[1], x.shape[1]))
        for lo in range(0, len(x), block):
            part = x[lo:lo + block].astype(np.float64) - mean
            release_pages(x)
            cov += part.T @ part
        spread, vecs = np.linalg.eigh(cov)
        order = np.argsort(-spread, kind="stable")
        spread, vt = spread[order], vecs[:, order].T
    keep = spread > spread.max(initial=0.0) * 1e-10
    vt = vt[keep] if keep.any() else vt[:1]
    # An axis and its opposite are equally right: the largest coordinate is made positive, so that
    # the same vectors give the same file on every build.
    signs = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])
    return mean.astype(np.float32), (vt * signs[:, None]).astype(np.float32)


def quantise_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(scales, int16 codes) with ``codes * scale`` close to each row.

    16 bits, not 8: with 8, near-equal artworks swapped places in the top 10 (on the demo 0.6 of the 10
    positions changed with the exact query vectors, none with 16 bits), at twice the bytes."""
    peak = np.abs(values).max(axis=1) if values.size else np.zeros(len(values), np.float32)
    scales = np.where(peak > 0, peak / CODE_PEAK, 1.0).astype(np.float32)
    codes = np.clip(np.rint(values / scales[:, None]), -CODE_PEAK, CODE_PEAK).astype(np.int16)
    return scales, codes


def _top_sets(scores: np.ndarray, k: int) -> list[set]:
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < scores.shape[1] else \
        np.tile(np.arange(scores.shape[1]), (len(scores), 1))
    return [set(r) for r in part.tolist()]


def top_overlap(exact: np.ndarray, approx: np.ndarray, k: int = 10) -> float:
    """Mean share of each row's exact top k found in its approximate top k (ties broken either way)."""
    k = min(k, exact.shape[1])
    return _overlap(_top_sets(exact, k), _top_sets(approx, k), k) if len(exact) and k else 1.0


def _block_rows(n_artworks: int) -> int:
    """Queries scored at once against every artwork, so that at most MEASURE_CELLS similarities are held."""
    return max(1, MEASURE_CELLS // max(1, n_artworks))


#: Each block of queries is scored in this many pieces: ranking a block's scores holds about 16 bytes per
#: similarity (the scores, their negation, the positions), 800 MB for a block of 50 million.
BLOCK_PIECES = 8


def query_blocks(n_queries: int, n_artworks: int):
    """(start, stop) of the queries scored at once: the blocks of :func:`_block_rows` cut in
    :data:`BLOCK_PIECES` pieces. A row's products are the same whatever the number of rows multiplied with it,
    except for a single row (the BLAS takes another path for it): a block of one row stays alone, and no piece of
    one row is cut from a longer block, so the scores are those of the whole blocks."""
    return _pieces(n_queries, _block_rows(n_artworks))


def _pieces(n: int, outer: int):
    """(start, stop) of the blocks of ``outer`` rows of ``n``, each cut in :data:`BLOCK_PIECES` pieces, with no
    piece of a single row cut from a longer block."""
    inner = max(2, -(-outer // BLOCK_PIECES))
    for lo in range(0, n, outer):
        hi = min(n, lo + outer)
        start = lo
        while start < hi:
            stop = min(hi, start + inner)
            if hi - stop == 1:
                stop = hi
            yield start, stop
            start = stop


def exact_top_sets(queries: np.ndarray, artworks: np.ndarray, k: int = 10) -> list[set]:
    """Each query's exact top k among the artworks (by the full vectors), scored a block of queries at a time:
    a million artworks never need a queries x artworks table."""
    artworks = np.asarray(artworks, np.float32)
    out = []
    for lo, hi in query_blocks(len(queries), len(artworks)):
        block = np.asarray(queries[lo:hi], np.float32)
        scores = np.empty((len(block), len(artworks)), np.float32)
        # The artworks a chunk at a time (each score is the same product): the artworks' vectors may be a map
        # of a file, whose pages are let go after each chunk.
        for g in range(0, len(artworks), 16384):
            scores[:, g:g + 16384] = block @ artworks[g:g + 16384].T
            release_pages(artworks)
        out += _top_sets(scores, min(k, len(artworks)))
    return out


def _released(value, array):
    release_pages(array)
    return value


def _overlap(exact: list[set], approx: list[set], k: int) -> float:
    return float(np.mean([len(a & b) / k for a, b in zip(exact, approx)])) if exact and k else 1.0


def _approx_overlap(index: CompactIndex, queries: np.ndarray, exact: list[set], k: int = 10) -> float:
    codes = index.codes.astype(np.float32)
    k = min(k, len(codes))
    approx: list[set] = []
    for lo, hi in query_blocks(len(queries), len(codes)):
        approx += _top_sets(index.scores(queries[lo:hi], codes), k)
    return _overlap(exact, approx, k)


def _project(centred_rows, axes: np.ndarray, n: int, block: int = 65536) -> np.ndarray:
    """(rows - mean) @ axes.T a block of rows at a time (no centred copy of a million vectors)."""
    out = np.empty((n, len(axes)), np.float32)
    for lo, hi in _pieces(n, block):   # pieces of the blocks: the same products, an eighth of the memory
        out[lo:hi] = centred_rows(lo, hi) @ axes.T
    return out


def compact_index(artworks: np.ndarray, drawings: np.ndarray, axes_tried: tuple[int, ...] = AXES_TRIED,
                  target: float = AGREEMENT_TARGET, grouped_from: int = GROUPED_FROM) -> CompactIndex:
    """The smallest projection whose ranking of the drawings' top 10 reaches ``target`` (else the largest);
    grouped in parts of similar artworks from ``grouped_from`` artworks on.

    Memory stays near the artworks' own vectors plus their codes: projections, exact and approximate
    rankings are computed a block at a time."""
    mean, axes = principal_axes(artworks)
    artworks = np.asarray(artworks, np.float32)
    n_queries = max(1, min(AGREEMENT_QUERIES, MEASURE_WORK // max(1, len(artworks))))
    step = max(1, -(-len(drawings) // n_queries))
    queries = np.asarray(drawings, np.float32)[::step]
    exact = exact_top_sets(queries, artworks)
    tried = [k for k in axes_tried if k < len(axes)] + [len(axes)]
    best = None
    for k in tried:
        scales, codes = quantise_rows(_project(lambda lo, hi: _released(artworks[lo:hi] - mean, artworks), axes[:k],
                                              len(artworks)))
        index = CompactIndex(mean, axes[:k], scales, codes, 1.0, 0)
        overlap = _approx_overlap(index, queries, exact) if len(queries) else 1.0
        best = CompactIndex(mean, axes[:k], scales, codes, overlap, len(queries))
        if overlap >= target:
            break
    if len(artworks) >= grouped_from:
        best = group_parts(best, queries, exact, target)
    return best


def kmeans(x: np.ndarray, n: int, iterations: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(centres, part of each row): Lloyd's k-means from ``n`` rows drawn with a fixed seed."""
    rng = np.random.default_rng(seed)
    centres = x[np.sort(rng.choice(len(x), n, replace=False))].copy()
    assign = np.zeros(len(x), np.int64)
    for _ in range(iterations):
        half_norms = 0.5 * np.sum(centres * centres, axis=1)
        for lo in range(0, len(x), 16384):
            assign[lo:lo + 16384] = np.argmax(x[lo:lo + 16384] @ centres.T - half_norms, axis=1)
        order = np.argsort(assign, kind="stable")
        counts = np.bincount(assign, minlength=n)
        filled = counts > 0
        sums = cluster_sums(x, order, counts)
        centres[filled] = (sums / counts[filled, None]).astype(np.float32)
    return centres, assign


#: Rows summed at once by :func:`cluster_sums` (a 64-bit copy of 16,384 rows, not of all of them).
SUM_ROWS = 16384


def cluster_sums(x: np.ndarray, order: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The sum (float64) of the rows of each non-empty cluster: ``order`` lists the rows cluster by cluster,
    ``counts`` gives each cluster's size. A few clusters at a time, each cluster's rows added in order: the
    bytes of one ``np.add.reduceat`` over a 64-bit copy of every row (1 GB for 250,000 artworks of 512
    numbers), without that copy."""
    sizes = counts[counts > 0]
    ends = np.cumsum(sizes)
    begins = ends - sizes
    out = np.empty((len(sizes), x.shape[1]), np.float64)
    i = 0
    while i < len(sizes):
        j = max(i + 1, int(np.searchsorted(ends, begins[i] + SUM_ROWS, side="right")))
        rows = order[begins[i]:ends[j - 1]]
        out[i:j] = np.add.reduceat(x[rows].astype(np.float64), begins[i:j] - begins[i], axis=0)
        i = j
    return out


def group_parts(index: CompactIndex, queries: np.ndarray, exact: list[set], target: float) -> CompactIndex:
    """``index`` with its artworks grouped in parts of similar ones, and the fewest parts a query must read.

    ``exact``: each query's exact top 10 (:func:`exact_top_sets`)."""
    codes = index.codes.astype(np.float32)
    centres, assign = kmeans(codes * index.scales[:, None], max(2, len(codes) // GROUP_ROWS))
    counts = np.bincount(assign, minlength=len(centres))
    keep = np.flatnonzero(counts)
    order = np.argsort(assign, kind="stable")
    parts = tuple(np.split(order, np.cumsum(counts[keep])[:-1]))
    centres, assign = centres[keep], np.searchsorted(keep, assign).astype(np.int32)
    queries = np.asarray(queries, np.float32)
    part_rank = np.argsort(np.argsort(-((queries @ index.axes.T) @ centres.T), axis=1, kind="stable"), axis=1)
    part_rank = part_rank.astype(np.int32)
    probe, overlap = len(parts), index.overlap
    # Reading fewer parts can only lose what the projection kept: the target is capped by the projection's own.
    target = min(target, index.overlap - 0.01)
    k = min(10, len(codes))
    for tried in (1, 2, 4, 8, 16, 32, 64, 128, 256):
        if tried >= len(parts):
            break
        approx: list[set] = []
        for lo, hi in query_blocks(len(queries), len(codes)):
            scores = index.scores(queries[lo:hi], codes)
            approx += _top_sets(np.where(part_rank[lo:hi][:, assign] < tried, scores, -np.inf), k)
        measured = _overlap(exact, approx, k)
        if measured >= target:
            probe, overlap = tried, measured
            break
    return CompactIndex(index.mean, index.axes, index.scales, index.codes, overlap, index.queries, parts,
                        centres, probe)
