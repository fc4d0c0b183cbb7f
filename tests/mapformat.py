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


def item_ids(folder) -> list[str]:
    """The ids of the map's points (a map of chunks, not tiled), in point order, as static/map/data.js spells them:
    an artwork's id is written after its artist's prefix (``artwork_id_prefix``, by the artist column)."""
    import json
    import re

    def payload(path):
        text = path.read_text(encoding="utf-8").strip()
        start = text.index("]=", text.index(")[")) + 2 if text.startswith("(") else text.index("=") + 1
        return json.loads(text[start:].rstrip(";"))

    meta = payload(folder / "meta.js")
    assert "tiles" not in meta, "a tiled map: its points come one file a tile"
    names = [f["name"] for f in meta["facets"]]
    wide = [f["wide"] for f in meta["facets"]]
    n, kinds, artists = meta["count"], [], []
    for c in range(meta["chunks"]):
        size = min(meta["chunk_size"], n - c * meta["chunk_size"])
        _, _, cols = decode_chunk(payload(folder / f"points-{c:03d}.js"), size, wide)
        kinds += [meta["facets"][0]["values"][k] for k in cols[names.index("kind")]]
        artists += cols[names.index("artist")].tolist()
    ids = []
    for c in range(meta["label_chunks"]):
        ids += payload(folder / f"labels-{c:03d}.js")["ids"]
    assert len(ids) == len(kinds) == n
    return [meta["artwork_id_prefix"][a] + i if k == "a" else i for i, k, a in zip(ids, kinds, artists)]
