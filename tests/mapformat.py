"""The reading side of the map's point chunks, as static/map.js reads them in the browser: the tests use it to
check what the build wrote (the build itself only writes them)."""

from __future__ import annotations

import base64

import numpy as np

from generator.contracts import QUANT


def dequantise(q) -> np.ndarray:
    return np.asarray(q, np.float64) / QUANT * 2.0 - 1.0


def decode_chunk(text: str, n: int, wide: list[bool]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """The inverse of :func:`generator.site.mapdata.encode_chunk`."""
    raw = base64.b64decode(text)
    qx = np.frombuffer(raw, "<u2", n, 0)
    qy = np.frombuffer(raw, "<u2", n, 2 * n)
    off, cols = 4 * n, []
    for w in wide:
        dt = "<u2" if w else "u1"
        cols.append(np.frombuffer(raw, dt, n, off))
        off += n * (2 if w else 1)
    assert off == len(raw), "chunk length does not match its point count"
    return qx, qy, cols
