"""The artworks' vectors in the compact form the find page downloads.

Each vector is projected on the main axes of the artworks' vectors (principal
components, centred on their mean) and the projection stored as 8-bit integers
with one scale per artwork. A query ``q`` then scores artwork ``i`` as

    q . mean + (P q) . (scale_i * codes_i)

which is the cosine similarity up to the error of the projection and the rounding.
The first term is the same for every artwork, so the ranking depends on the second
only. The number of axes is the smallest that keeps the top 10 of the collection's
own drawings as the full vectors rank them (:func:`choose_projection`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Axes tried, smallest first; the artworks' own number of independent directions ends the list.
AXES_TRIED = (32, 64, 128, 256)
#: The smallest number of axes whose top 10 holds at least this share of the exact top 10 is kept.
AGREEMENT_TARGET = 0.97
#: Drawings used as queries when measuring agreement (evenly spaced through the site's list).
AGREEMENT_QUERIES = 1000
#: Artworks per downloaded part: a part is fetched whole, and parts are fetched side by side.
CHUNK_ROWS = 8192


@dataclass(frozen=True)
class CompactIndex:
    """The projection and the artworks' codes; rows follow the site's artwork list."""

    mean: np.ndarray        # dim, float32
    axes: np.ndarray        # k x dim, float32, orthonormal rows
    scales: np.ndarray      # N, float32
    codes: np.ndarray       # N x k, int8
    overlap: float          # measured share of the exact top 10 kept (1.0 when not measured: no queries)
    queries: int            # drawings the overlap was measured on

    @property
    def dims(self) -> int:
        return int(self.axes.shape[0])

    def scores(self, queries: np.ndarray) -> np.ndarray:
        """Approximate cosine similarity of each query row with every artwork (what the page computes)."""
        q = np.asarray(queries, np.float32)
        proj = (q @ self.axes.T).astype(np.float32)
        return (q @ self.mean)[:, None] + (proj @ self.codes.T.astype(np.float32)) * self.scales[None, :]

    def projection_bytes(self) -> bytes:
        """The mean then the axes, float32 little-endian."""
        return np.concatenate([self.mean, self.axes.ravel()]).astype("<f4").tobytes()

    def chunk_bytes(self, lo: int, hi: int) -> bytes:
        """Rows lo..hi: their scales (float32 little-endian), then their codes (int8, row after row)."""
        return self.scales[lo:hi].astype("<f4").tobytes() + np.ascontiguousarray(self.codes[lo:hi]).tobytes()


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
    """(scales, int8 codes) with ``codes * scale`` close to each row."""
    peak = np.abs(values).max(axis=1) if values.size else np.zeros(len(values), np.float32)
    scales = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    codes = np.clip(np.rint(values / scales[:, None]), -127, 127).astype(np.int8)
    return scales, codes


def top_overlap(exact: np.ndarray, approx: np.ndarray, k: int = 10) -> float:
    """Mean share of each row's exact top k found in its approximate top k."""
    k = min(k, exact.shape[1])
    if not len(exact) or k == 0:
        return 1.0
    a = np.argsort(-exact, axis=1, kind="stable")[:, :k]
    b = np.argsort(-approx, axis=1, kind="stable")[:, :k]
    return float(np.mean([len(set(r) & set(s)) / k for r, s in zip(a.tolist(), b.tolist())]))


def compact_index(artworks: np.ndarray, drawings: np.ndarray, axes_tried: tuple[int, ...] = AXES_TRIED,
                  target: float = AGREEMENT_TARGET) -> CompactIndex:
    """The smallest projection whose ranking of the drawings' top 10 reaches ``target`` (else the largest)."""
    mean, axes = principal_axes(artworks)
    centred = np.asarray(artworks, np.float32) - mean
    step = max(1, -(-len(drawings) // AGREEMENT_QUERIES))
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
    return best
