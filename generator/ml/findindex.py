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


def principal_axes(vectors: np.ndarray, block: int = 16384) -> tuple[np.ndarray, np.ndarray]:
    """(mean, axes): every axis of the centred vectors with a non-zero spread, largest first, signs fixed.

    Above ``dim`` vectors the axes come from the covariance, summed over blocks of rows in 64-bit floats
    (a 250,000-artwork collection never holds a 64-bit copy of all its vectors).
    """
    x = np.asarray(vectors, np.float32)
    mean = x.astype(np.float64).mean(axis=0)
    if len(x) <= x.shape[1]:
        _, s, vt = np.linalg.svd(x.astype(np.float64) - mean, full_matrices=False)
        spread = s ** 2
    else:
        cov = np.zeros((x.shape[1], x.shape[1]))
        for lo in range(0, len(x), block):
            part = x[lo:lo + block].astype(np.float64) - mean
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
    if not len(exact) or k == 0:
        return 1.0
    return float(np.mean([len(a & b) / k for a, b in zip(_top_sets(exact, k), _top_sets(approx, k))]))


def compact_index(artworks: np.ndarray, drawings: np.ndarray, axes_tried: tuple[int, ...] = AXES_TRIED,
                  target: float = AGREEMENT_TARGET, grouped_from: int = GROUPED_FROM) -> CompactIndex:
    """The smallest projection whose ranking of the drawings' top 10 reaches ``target`` (else the largest);
    grouped in parts of similar artworks from ``grouped_from`` artworks on."""
    mean, axes = principal_axes(artworks)
    centred = np.asarray(artworks, np.float32) - mean
    n_queries = max(1, min(AGREEMENT_QUERIES, MEASURE_CELLS // max(1, len(artworks))))
    step = max(1, -(-len(drawings) // n_queries))
    queries = np.asarray(drawings, np.float32)[::step]
    exact = queries @ np.asarray(artworks, np.float32).T
    tried = [k for k in axes_tried if k < len(axes)] + [len(axes)]
    best = None
    for k in tried:
        scales, codes = quantise_rows(centred @ axes[:k].T)
        index = CompactIndex(mean, axes[:k], scales, codes, 1.0, 0)
        overlap = top_overlap(exact, index.scores(queries)) if len(queries) else 1.0
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
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        filled = counts > 0
        sums = np.add.reduceat(x[order].astype(np.float64), starts[filled], axis=0)
        centres[filled] = (sums / counts[filled, None]).astype(np.float32)
    return centres, assign


def group_parts(index: CompactIndex, queries: np.ndarray, exact: np.ndarray, target: float) -> CompactIndex:
    """``index`` with its artworks grouped in parts of similar ones, and the fewest parts a query must read."""
    points = index.codes.astype(np.float32) * index.scales[:, None]
    n_parts = max(2, len(points) // GROUP_ROWS)
    centres, assign = kmeans(points, n_parts)
    parts = tuple(np.flatnonzero(assign == j) for j in range(n_parts))
    keep = [j for j, rows in enumerate(parts) if len(rows)]
    parts, centres, assign = tuple(parts[j] for j in keep), centres[keep], np.searchsorted(keep, assign)
    approx = index.scores(queries)
    part_rank = np.argsort(np.argsort(-((queries @ index.axes.T) @ centres.T), axis=1, kind="stable"), axis=1)
    probe, overlap = len(parts), index.overlap
    # Reading fewer parts can only lose what the projection kept: the target is capped by the projection's own.
    target = min(target, index.overlap - 0.01)
    for tried in (1, 2, 4, 8, 16, 32, 64, 128, 256):
        if tried >= len(parts):
            break
        masked = np.where(part_rank[:, assign] < tried, approx, -np.inf)
        measured = top_overlap(exact, masked)
        if measured >= target:
            probe, overlap = tried, measured
            break
    return CompactIndex(index.mean, index.axes, index.scales, index.codes, overlap, index.queries, parts,
                        centres, probe)
