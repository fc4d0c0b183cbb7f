"""The 2-D map: a seeded UMAP of drawings and artworks together, scaled to [-1, 1]."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

#: Below this many items UMAP's neighbour graph is meaningless; a PCA projection is used instead.
MIN_UMAP_ITEMS = 16


@dataclass
class Layout:
    coords: np.ndarray   # n x 2, float32 in [-1, 1], rounded to 4 decimals
    method: str          # "UMAP" or "PCA"


def _pca(x: np.ndarray, dims: int) -> np.ndarray:
    x = x - x.mean(axis=0, keepdims=True)
    dims = min(dims, *x.shape)
    if dims <= 0:
        return np.zeros((len(x), 0), np.float32)
    _, _, vt = np.linalg.svd(x.astype(np.float64), full_matrices=False)
    signs = np.sign(vt[:dims, np.argmax(np.abs(vt[:dims]), axis=1)].diagonal())  # fix sign: deterministic
    return (x @ (vt[:dims].T * np.where(signs == 0, 1, signs))).astype(np.float32)


def _scale(coords: np.ndarray) -> np.ndarray:
    coords = np.asarray(coords, np.float64)
    if coords.shape[1] < 2:
        coords = np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    return np.round((coords - lo) / span * 2 - 1, 4).astype(np.float32)


def compute_layout(vectors: np.ndarray, seed: int = 42, n_neighbors: int = 15) -> Layout:
    """Place ``vectors`` on a plane: PCA to 50 dimensions, then UMAP with a fixed seed (deterministic)."""
    n = len(vectors)
    if n == 0:
        return Layout(np.zeros((0, 2), np.float32), "none")
    if n < MIN_UMAP_ITEMS:
        return Layout(_scale(_pca(vectors, 2)), "PCA")
    reduced = _pca(vectors, 50)
    import umap  # imported here: it takes seconds to load

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reducer = umap.UMAP(n_components=2, n_neighbors=min(n_neighbors, n - 1), min_dist=0.1,
                            metric="cosine", random_state=seed, init="spectral" if n > 100 else "random",
                            transform_seed=seed)
        coords = reducer.fit_transform(reduced)
    return Layout(_scale(coords), "UMAP")
