"""The pictures the find page's model is checked on, and those that guide its rounding to 8 bits."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from generator.contracts import Embeddings
from generator.pipeline.findmodel import CALIBRATION_SAMPLES, CHECK_SAMPLES


def find_model_pictures(drawings: list, d_hash: list[str], artworks: list, a_hash: list[str], emb: Embeddings
                        ) -> tuple[list[tuple[Path, str]], np.ndarray, list[tuple[Path, str]]]:
    """(the pictures the model is checked on, the site's vectors of them, the calibration pictures); the
    items and their content hashes in the site's order."""
    checked, vectors = check_samples(drawings, d_hash, artworks, a_hash, emb)
    return checked, vectors, calibration_pictures(drawings, d_hash, artworks, a_hash, checked)


def check_samples(drawings: list, d_hash: list[str], artworks: list, a_hash: list[str], emb: Embeddings
                  ) -> tuple[list[tuple[Path, str]], np.ndarray]:
    """Pictures the find page's model is checked on (path, content hash), with the site's vectors of them:
    drawings then artworks."""
    half = CHECK_SAMPLES // 2
    d_rows = list(range(0, len(drawings), max(1, len(drawings) // half)))[:half]
    a_rows = list(range(0, len(artworks), max(1, len(artworks) // half)))[:CHECK_SAMPLES - len(d_rows)]
    paths = [(drawings[i].path, d_hash[i]) for i in d_rows] + [(artworks[j].path, a_hash[j]) for j in a_rows]
    vectors = np.concatenate([emb.drawings.vectors[d_rows], emb.artworks.vectors[a_rows]])
    return paths, vectors


def calibration_pictures(drawings: list, d_hash: list[str], artworks: list, a_hash: list[str],
                         checked: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
    """Drawings and artworks (path, content hash), none of the ``checked`` ones, whose activations guide the
    rounding of the find page's model (CALIBRATION_SAMPLES in all at most): those whose ids hash lowest, so
    that adding pictures to the collection rarely changes the choice (and so the exported file, which is
    cached by it)."""
    left_out = {path for path, _ in checked}
    chosen = []
    for group, hashes in ((drawings, d_hash), (artworks, a_hash)):
        ranked = sorted((hashlib.sha256(x.id.encode("utf-8")).hexdigest(), x.path, h) for x, h in zip(group, hashes)
                        if x.path not in left_out)
        chosen += [(path, h) for _, path, h in ranked[:CALIBRATION_SAMPLES // 2]]
    return chosen
