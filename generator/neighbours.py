"""Exact top-k cosine search, in blocks so memory stays flat whatever the collection size."""

from __future__ import annotations

import numpy as np
import torch


def top_k(queries: np.ndarray, gallery: np.ndarray, k: int, *, block: int = 4096,
          exclude_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """For each query row, the ``k`` most similar gallery rows (indices, similarities), best first.

    Vectors are L2-normalised, so the dot product is the cosine similarity. Ties are
    broken by the lower gallery index, so results are deterministic. With
    ``exclude_self`` (queries == gallery) a row never lists itself.

    >>> q = np.eye(3, dtype=np.float32)
    >>> idx, sim = top_k(q, q, 2, exclude_self=True)
    >>> idx.shape, float(sim[0, 0])
    ((3, 2), 0.0)
    """
    n, m = len(queries), len(gallery)
    k = max(0, min(k, m - (1 if exclude_self else 0)))
    out_idx = np.zeros((n, k), np.int64)
    out_sim = np.zeros((n, k), np.float32)
    if k == 0 or n == 0:
        return out_idx, out_sim
    g = torch.from_numpy(np.ascontiguousarray(gallery, dtype=np.float32))
    for start in range(0, n, block):
        q = torch.from_numpy(np.ascontiguousarray(queries[start:start + block], dtype=np.float32))
        sims = q @ g.T
        if exclude_self:
            rows = torch.arange(len(q))
            sims[rows, rows + start] = -torch.inf
        # Round before ranking so that float noise between runs cannot reorder near-ties.
        sims = torch.round(sims, decimals=6)
        # topk is not stable on ties; a second key (index) makes the order deterministic.
        vals, idx = torch.topk(sims, min(k + 8, sims.shape[1]), dim=1)
        order = np.lexsort((idx.numpy(), -vals.numpy()), axis=1)[:, :k]
        out_idx[start:start + len(q)] = np.take_along_axis(idx.numpy(), order, axis=1)
        out_sim[start:start + len(q)] = np.take_along_axis(vals.numpy(), order, axis=1)
    return out_idx, out_sim


def reverse_top(drawing_to_artwork_sim: np.ndarray | None, drawings: np.ndarray, artworks: np.ndarray,
                k: int, block: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """For each artwork, the ``k`` drawings closest to it."""
    return top_k(artworks, drawings, k, block=block)
