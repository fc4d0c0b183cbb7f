"""Exact top-k cosine search, in blocks so memory stays flat whatever the collection size.

How it is fast and still exact
------------------------------
1. A *candidate pass* multiplies the vectors in tiles (a block of queries against a
   chunk of the gallery) and keeps, for every query, the ``C`` best gallery rows by an
   approximate score. Where the CPU has native bfloat16 arithmetic (AVX512-BF16, AMX)
   the tiles are multiplied in bfloat16 (about 2.5x the float32 rate on the machines
   we measured); elsewhere, and for a few queries (``FEW_QUERIES``), in float32 (see
   ``generator.ml.device``).
2. The candidates are *re-scored exactly* (float64 dot products of the float32
   vectors), rounded to 6 decimals and ordered by (similarity desc, gallery index asc),
   so the order is deterministic and independent of BLAS blocking or thread count.
3. Each query's result is *certified*: the rounding error of the approximate pass is
   bounded per query (Cauchy-Schwarz on the bfloat16 rounding of both sides, plus
   the float32 accumulation and output rounding). Any gallery row left out of the
   candidates scored at most ``t`` approximately, so at most ``t + eps`` exactly,
   where ``t`` is the worst kept candidate. If the k-th exact score beats
   ``t + eps``, nothing left out can enter the top k. Queries that fail the check
   (near-ties, duplicates) are redone with many more float32 candidates and, if they
   still fail, by a float64 brute force over the whole gallery.

Memory: one tile of scores (``block`` x ``chunk``) and the running candidates (n x C)
(the vectors may be a read-only map of a file: each block is copied out of it and its pages let go);
the gallery is converted chunk by chunk and the queries block by block (converting a
block again for every gallery chunk costs about 1 % of the multiplications; a bfloat16
copy of all queries and its float32 round trip would cost 3 GB for 250,000 artworks
searched against the drawings).
"""

from __future__ import annotations

import numpy as np

from generator.fsutil import is_mapped, release_pages
from generator.ml.device import choose_precision

#: Queries per tile and gallery rows per tile; 1024 x 16384 scores (32 MB in bfloat16)
#: keep the matrix multiply efficient and the memory small.
QUERY_BLOCK = 1024
GALLERY_CHUNK = 16384
#: Fewer queries than this take the float32 pass even where bfloat16 is native: the whole gallery is converted
#: for any number of queries, which costs more than the faster products save when they are few (100 queries
#: against 100,000 drawings: 2.8 s in bfloat16, 1.3 s in float32, on an AMD EPYC with AVX512-BF16; about
#: even at 1,000). The result is the same either way. They are searched with plain arrays, without loading the
#: network library (2 s of the 4 s a rebuild's search for 100 new drawings took: see :func:`_candidates_few`).
FEW_QUERIES = 512
#: Decimals kept in similarities: near-ties below this are broken by the lower index.
DECIMALS = 6
_U32 = 2.0 ** -24  # unit round-off of float32
_U_BF16 = 2.0 ** -8  # unit round-off of bfloat16 (8-bit significand)


def top_k(queries: np.ndarray, gallery: np.ndarray, k: int, *, block: int = QUERY_BLOCK,
          chunk: int = GALLERY_CHUNK, exclude_self: bool = False, precision: str = "auto",
          candidates: int | None = None, stats: dict | None = None,
          skip: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each query row, the ``k`` most similar gallery rows (indices, similarities), best first.

    Vectors are L2-normalised, so the dot product is the cosine similarity. Similarities
    are exact (float64 of the float32 vectors) rounded to 6 decimals; ties are broken by
    the lower gallery index, so results are deterministic. With ``exclude_self``
    (queries == gallery) a row never lists itself. ``precision`` is the arithmetic of
    the candidate pass ("auto", "bf16", "fp32"); the result is the same for all three. ``skip``: gallery rows
    that no query lists (increasing), as if they were not in the gallery, whose rows keep their numbers.

    >>> q = np.eye(3, dtype=np.float32)
    >>> idx, sim = top_k(q, q, 2, exclude_self=True)
    >>> idx.shape, float(sim[0, 0])
    ((3, 2), 0.0)
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    gallery = np.ascontiguousarray(gallery, dtype=np.float32)
    n, m = len(queries), len(gallery)
    skip = np.zeros(0, np.int64) if skip is None else np.asarray(skip, np.int64)
    k = max(0, min(k, m - len(skip) - (1 if exclude_self else 0)))
    out_idx = np.zeros((n, k), np.int64)
    out_sim = np.zeros((n, k), np.float32)
    if k == 0 or n == 0:
        return out_idx, out_sim
    if precision == "auto":
        precision = "fp32" if n < FEW_QUERIES else choose_precision("auto", "cpu", workload="matmul")
    plain = n < FEW_QUERIES and precision == "fp32"
    c = min(m, candidates or (k + max(16, k)))
    cand, bound, keep = (_candidates_few if plain else _candidates)(queries, gallery, c, k, precision, block, chunk,
                                                                    exclude_self, skip=skip)
    ok = _rescore(queries, gallery, cand, bound, keep, k, exclude_self, out_idx, out_sim, plain=plain, skip=skip)
    redo = np.flatnonzero(~ok)
    if stats is not None:
        stats.update(precision=precision, candidates=c, uncertified=int(len(redo)))
    if len(redo) and c < m:
        # Near-ties: many more candidates, scored in float32 (a far smaller error bound).
        c2 = min(m, max(4 * c, 256))
        sub_idx, sub_sim = out_idx[redo], out_sim[redo]
        plain = len(redo) < FEW_QUERIES
        cand2, bound2, keep2 = (_candidates_few if plain else _candidates)(queries[redo], gallery, c2, k, "fp32",
                                                                           block, chunk, exclude_self, row_offset=redo,
                                                                           skip=skip)
        ok2 = _rescore(queries[redo], gallery, cand2, bound2, keep2, k, exclude_self, sub_idx, sub_sim,
                       row_offset=redo, plain=plain, skip=skip)
        out_idx[redo], out_sim[redo] = sub_idx, sub_sim
        redo = redo[~ok2]
    for i in redo:  # still ambiguous (e.g. hundreds of duplicates): brute force in float64
        out_idx[i], out_sim[i] = _brute_force_row(queries[i], gallery, k, i if exclude_self else -1, chunk, skip)
    return out_idx, out_sim


def _candidates(queries, gallery, c, k, precision, block, chunk, exclude_self, row_offset=None, skip=()):
    """The ``c`` best gallery rows per query by the approximate score, and a per-query
    bound ``t + eps`` that no row outside the candidates can exceed exactly."""
    import torch   # here: a few queries are searched without it (_candidates_few)

    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    n, m = len(queries), len(gallery)
    exact = dtype == torch.float32   # the vectors as they are: no rounding error to bound
    q_norm = torch.empty(n, dtype=torch.float64)
    q_err = torch.empty(n, dtype=torch.float64)
    for q0 in range(0, n, block):   # by blocks: no copy of all queries (see the module's note on memory)
        q32 = torch.from_numpy(np.array(queries[q0:q0 + block]))
        qf = q32.to(dtype).float()
        q_norm[q0:q0 + block] = torch.linalg.vector_norm(qf, dim=1).double()
        q_err[q0:q0 + block] = 0.0 if exact else torch.linalg.vector_norm(q32 - qf, dim=1).double()
        release_pages(queries)
    best_v = torch.full((n, c), -torch.inf, dtype=dtype)
    best_i = torch.full((n, c), -1, dtype=torch.int64)  # -1: no candidate yet
    g_norm_max = g_err_max = 0.0
    rows = None if row_offset is None else torch.from_numpy(np.asarray(row_offset, np.int64))
    for g0 in range(0, m, chunk):
        g32 = torch.from_numpy(np.array(gallery[g0:g0 + chunk]))   # a copy: the vectors may be a map of a file
        release_pages(gallery)
        gd = g32.to(dtype)
        g_norm_max = max(g_norm_max, float(torch.linalg.vector_norm(gd.float(), dim=1).max()))
        if not exact:
            g_err_max = max(g_err_max, float(torch.linalg.vector_norm(g32 - gd.float(), dim=1).max()))
        gdt = gd.T
        skipped = torch.from_numpy(_in_slice(skip, g0, len(g32)))   # the same columns for every block of queries
        for q0 in range(0, n, block):
            s = torch.from_numpy(np.array(queries[q0:q0 + block])).to(dtype) @ gdt
            release_pages(queries)
            if exclude_self:
                qi = torch.arange(q0, q0 + len(s)) if rows is None else rows[q0:q0 + len(s)]
                hit = (qi >= g0) & (qi < g0 + len(g32))
                s[torch.nonzero(hit).squeeze(1), (qi[hit] - g0)] = -torch.inf
            if len(skipped):
                s[:, skipped] = -torch.inf
            v, i = torch.topk(s, min(c, s.shape[1]), dim=1, sorted=False)
            v = torch.cat([best_v[q0:q0 + block], v], dim=1)
            i = torch.cat([best_i[q0:q0 + block], i + g0], dim=1)
            v, pos = torch.topk(v, c, dim=1, sorted=False)
            best_v[q0:q0 + block] = v
            best_i[q0:q0 + block] = torch.gather(i, 1, pos)
    best_v, order = torch.sort(best_v.float(), dim=1, descending=True)
    best_i = torch.gather(best_i, 1, order)
    t = best_v[:, -1].double()
    d = queries.shape[1]
    u = _U32 if dtype == torch.float32 else _U_BF16
    # |q.g - q'.g'| <= |q-q'||g| + |q'||g-g'|  (Cauchy-Schwarz), then float32 accumulation of d
    # terms (relative 2 d u32 of |q'||g'|), then the rounding of the output to the tile's type.
    g_max = g_norm_max + g_err_max
    eps = q_err * g_max + q_norm * g_err_max + _f32_error(d, q_norm, g_max)
    eps = eps + (0.0 if dtype == torch.float32 else u) * t.abs() + 1e-30
    return (best_i.numpy(), *_bound_and_keep(best_v.numpy(), eps.numpy(), k, c, m))


def _candidates_few(queries, gallery, c, k, precision, block, chunk, exclude_self, row_offset=None, skip=()):
    """:func:`_candidates` for a few queries, in float32 with plain arrays: the candidates and bounds the float32
    pass gives (the order of equal approximate scores aside, which the exact scores settle), without the network
    library, whose loading took half of a rebuild's search for 100 new drawings."""
    assert precision == "fp32", "a few queries are searched in float32"
    n, m = len(queries), len(gallery)
    q = np.array(queries, np.float32)   # a few rows: one copy
    q_norm = np.linalg.norm(q, axis=1).astype(np.float64)
    best_v = np.full((n, c), -np.inf, np.float32)
    best_i = np.full((n, c), -1, np.int64)  # -1: no candidate yet
    g_norm_max = 0.0
    rows = np.arange(n) if row_offset is None else np.asarray(row_offset, np.int64)
    for g0 in range(0, m, chunk):
        g = np.asarray(gallery[g0:g0 + chunk], np.float32)   # the table's own rows where it is float32: no copy
        g_norm_max = max(g_norm_max, float(np.sqrt(np.einsum("ij,ij->i", g, g).max())))
        s = q @ g.T
        del g
        release_pages(gallery)   # the vectors may be a map of a file: its pages read here are let go
        if exclude_self:
            hit = np.flatnonzero((rows >= g0) & (rows < g0 + s.shape[1]))
            s[hit, rows[hit] - g0] = -np.inf
        s[:, _in_slice(skip, g0, s.shape[1])] = -np.inf
        v, i = best_columns(s, min(c, s.shape[1]))
        v, pos = best_columns(np.concatenate([best_v, v], axis=1), c)
        best_i = np.take_along_axis(np.concatenate([best_i, i + g0], axis=1), pos, axis=1)
        best_v = v
    order = np.argsort(-best_v, axis=1, kind="stable")
    best_v, best_i = np.take_along_axis(best_v, order, axis=1), np.take_along_axis(best_i, order, axis=1)
    # As in _candidates, the vectors as they are (no rounding of them to bound): the float32 accumulation of d terms.
    return (best_i, *_bound_and_keep(best_v, _f32_error(q.shape[1], q_norm, g_norm_max) + 1e-30, k, c, m))


def _f32_error(d: int, a_norm, b_norm):
    """The most a float32 product of two vectors of ``d`` numbers (of lengths at most ``a_norm`` and ``b_norm``) can
    differ from the exact one: the float32 accumulation of ``d`` terms, and the rounding of the result."""
    return 2 * d * _U32 * a_norm * b_norm


def _in_slice(rows, start: int, length: int) -> np.ndarray:
    """The ``rows`` (increasing) that fall in the slice of ``length`` rows from ``start``, counted from it."""
    rows = np.asarray(rows, np.int64)
    return rows[np.searchsorted(rows, start):np.searchsorted(rows, start + length)] - start


def _bound_and_keep(best_v: np.ndarray, eps: np.ndarray, k: int, c: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """From each query's candidates' approximate scores (best first) and its error bound ``eps``: the score no row
    left out can exceed exactly, and how many candidates may reach the exact top ``k``."""
    bound = best_v[:, -1].astype(np.float64) + eps
    if c >= m:
        bound[:] = -np.inf  # every row is a candidate: nothing was left out
    # Only candidates within 2 eps of the k-th approximate score can reach the exact top k.
    kth = best_v[:, min(k, c) - 1].astype(np.float64)
    keep = (best_v.astype(np.float64) >= (kth - 2 * eps - 2e-6)[:, None]).sum(axis=1)
    return bound, keep


def best_columns(s: np.ndarray, c: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``c`` highest values of each row of ``s`` and their columns, in no particular order."""
    if c >= s.shape[1]:
        return s, np.broadcast_to(np.arange(s.shape[1]), s.shape)
    cols = np.argpartition(s, s.shape[1] - c, axis=1)[:, s.shape[1] - c:]
    return np.take_along_axis(s, cols, axis=1), cols


def _rescore(queries, gallery, cand, bound, keep, k, exclude_self, out_idx, out_sim, row_offset=None,
             sub: int = 128, plain: bool = False, skip=()) -> np.ndarray:
    """Exact scores of the candidates; fills the outputs and returns which rows are certified. ``plain``: with plain
    arrays (a few queries), else with the network library's batched products."""
    if not plain:
        import torch
    n = len(queries)
    ok = np.zeros(n, bool)
    rows = np.arange(n) if row_offset is None else np.asarray(row_offset)
    for r0 in range(0, n, sub):
        ci = cand[r0:r0 + sub, :max(k, int(keep[r0:r0 + sub].max()))]  # sorted best first
        q = np.array(queries[r0:r0 + sub], np.float64)[:, :, None]                      # b x d x 1
        g = _gather(gallery, np.maximum(ci, 0).reshape(-1)).astype(np.float64).reshape(len(ci), ci.shape[1], -1)
        release_pages(queries)
        exact = (np.matmul(g, q) if plain else torch.bmm(torch.from_numpy(g), torch.from_numpy(q)).numpy())[:, :, 0]
        key = np.round(exact, DECIMALS)
        key[ci < 0] = -np.inf
        if exclude_self:
            key[ci == rows[r0:r0 + sub, None]] = -np.inf
        if len(skip):
            key[np.isin(ci, skip)] = -np.inf
        order = np.lexsort((ci, -key), axis=1)[:, :k]
        top_key = np.take_along_axis(key, order, axis=1)
        out_idx[r0:r0 + sub] = np.take_along_axis(ci, order, axis=1)
        out_sim[r0:r0 + sub] = top_key
        # Rounded to 6 decimals an excluded row could gain 5e-7: demand a clear margin.
        ok[r0:r0 + sub] = top_key[:, -1] > bound[r0:r0 + sub] + 10.0 ** -DECIMALS
    return ok


def _gather(vectors: np.ndarray, rows: np.ndarray, step: int = 32) -> np.ndarray:
    """``vectors[rows]``, letting the pages of a mapped table go every ``step`` rows: reading one row from a map
    brings in the pages around it too (about 600 KB here), so a few thousand scattered rows would hold hundreds
    of MB."""
    if not is_mapped(vectors):
        return vectors[rows]
    out = np.empty((len(rows), vectors.shape[1]), vectors.dtype)
    for s in range(0, len(rows), step):
        out[s:s + step] = vectors[rows[s:s + step]]
        release_pages(vectors)
    return out


def _brute_force_row(query, gallery, k, self_index, chunk, skip=()):
    q = query.astype(np.float64)
    keys = []
    for g0 in range(0, len(gallery), chunk):
        keys.append(np.round(gallery[g0:g0 + chunk].astype(np.float64) @ q, DECIMALS))
        release_pages(gallery)
    key = np.concatenate(keys)
    if self_index >= 0:
        key[self_index] = -np.inf
    key[np.asarray(skip, np.int64)] = -np.inf
    order = np.lexsort((np.arange(len(key)), -key))[:k]
    return order, key[order].astype(np.float32)


def top_k_without(queries: np.ndarray, gallery: np.ndarray, k: int, banned, *,
                  exclude_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """:func:`top_k` leaving out the banned (query row, gallery row) pairs: the next rows move up.

    Only the queries with banned rows are searched again, ``k`` plus their number of banned
    rows deep (the search is exact, so their other rows are the same), so leaving them out
    still leaves ``k`` (while the gallery has that many rows).
    """
    per_row: dict[int, set[int]] = {}
    for q, g in banned:
        per_row.setdefault(int(q), set()).add(int(g))
    idx, sim = top_k(queries, gallery, k, exclude_self=exclude_self)
    if not per_row:
        return idx, sim
    if exclude_self:
        raise ValueError("leaving out pairs is not supported together with exclude_self")
    rows = np.array(sorted(per_row), dtype=np.int64)
    extra = max(len(v) for v in per_row.values())
    deep_i, deep_s = top_k(queries[rows], gallery, k + extra)
    sub_i, sub_s = drop_banned(deep_i, deep_s, {n: per_row[int(r)] for n, r in enumerate(rows)}, k)
    width = sub_i.shape[1]
    idx, sim = idx[:, :width].copy(), sim[:, :width].copy()
    idx[rows], sim[rows] = sub_i, sub_s
    return idx, sim


def drop_banned(idx: np.ndarray, sim: np.ndarray, banned: dict[int, set[int]], k: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """The first ``k`` columns of each row that are not banned for it, in their order.

    >>> idx = np.array([[4, 2, 7], [1, 2, 3]]); sim = np.array([[.9, .8, .7], [.6, .5, .4]])
    >>> i, s = drop_banned(idx, sim, {0: {2}}, 2)
    >>> i.tolist(), s.tolist()
    ([[4, 7], [1, 2]], [[0.9, 0.7], [0.6, 0.5]])
    """
    mask = np.zeros(idx.shape, bool)
    for row, cols in banned.items():
        mask[row] = np.isin(idx[row], list(cols))
    width = min(k, idx.shape[1] - int(mask.sum(axis=1).max(initial=0)))
    order = np.argsort(mask, axis=1, kind="stable")[:, :width]
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(sim, order, axis=1)


# ---------------------------------------------------------------- a few rows more

def exact_similarity(queries: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """Every query against every gallery row, as the search scores them: float64 products of the float32
    vectors rounded to ``DECIMALS`` (queries x gallery, float64). The result is dense: for blocks of rows."""
    q = np.asarray(queries, np.float32).astype(np.float64)
    return np.round(q @ np.asarray(gallery, np.float32).astype(np.float64).T, DECIMALS)


def merge_top_k(idx: np.ndarray, sim: np.ndarray, more_idx: np.ndarray, more_sim: np.ndarray,
                k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's best ``k`` of its list (``idx``/``sim``) and of more rows (``more_idx``: gallery rows, the
    same for every row, or one list per row; ``more_sim``: their similarities), in the search's order
    (similarity desc, then the lower gallery row). A search's top k over a gallery plus some rows is exactly
    this merge of its top k over the gallery with those rows' scores.

    >>> i, s = merge_top_k(np.array([[3, 1]]), np.array([[.9, .5]]), np.array([2]), np.array([[.5]]), 2)
    >>> i.tolist(), s.astype(float).round(6).tolist()
    ([[3, 1]], [[0.9, 0.5]])
    >>> merge_top_k(np.array([[3, 1]]), np.array([[.9, .5]]), np.array([0]), np.array([[.5]]), 2)[0].tolist()
    [[3, 0]]
    """
    n = len(idx)
    more_idx = np.broadcast_to(np.asarray(more_idx, np.int64), (n, np.asarray(more_idx).shape[-1]))
    all_idx = np.concatenate([np.asarray(idx, np.int64), more_idx], axis=1)
    key = np.round(np.concatenate([np.asarray(sim, np.float64), np.asarray(more_sim, np.float64)], axis=1),
                   DECIMALS)
    key[all_idx < 0] = -np.inf
    order = np.lexsort((all_idx, -key), axis=1)[:, :k]
    return (np.take_along_axis(all_idx, order, axis=1),
            np.take_along_axis(key, order, axis=1).astype(np.float32))


def extend_neighbours(prev_lists: tuple[np.ndarray, ...], old_rows: np.ndarray, drawings: np.ndarray,
                      artworks: np.ndarray, top: int, similar: int, of_artwork: int) -> tuple[np.ndarray, ...] | None:
    """The neighbour lists of a collection that gained drawings, from the lists of the collection before
    (``prev_lists``: artworks, similarity, drawings, similarity, of_artwork, similarity, as the neighbours
    stage stores them) without searching the whole collection again: the new drawings are searched against
    the artworks and all drawings, and each old drawing's and artwork's list only meets the new drawings.
    The result is what a full search gives (same order, same ties).

    ``old_rows``: the row now of each drawing of the previous collection, increasing (the artworks and their
    vectors the same, no left-out pair involving a new drawing: the caller checks). None when the previous
    lists are too short for the new sizes (a collection smaller than a list): search again in full."""
    a_idx, a_sim, d_idx, d_sim, o_idx, o_sim = (np.asarray(x) for x in prev_lists)
    n = len(drawings)
    new = np.setdiff1d(np.arange(n), old_rows)
    k_d, k_o = min(similar, n - 1), min(of_artwork, n)
    if (a_idx.shape[1], d_idx.shape[1], o_idx.shape[1]) != (min(top, len(artworks)), k_d, k_o):
        return None   # lists cut short by a smaller collection: not deep enough for this one
    old_rows = np.asarray(old_rows, np.int64)

    def moved(idx):   # rows of the previous collection -> rows now (holes stay -1)
        return np.where(idx >= 0, old_rows[np.maximum(idx, 0)], -1)

    out_a_idx = np.zeros((n, a_idx.shape[1]), np.int64)
    out_a_sim = np.zeros((n, a_idx.shape[1]), np.float32)
    out_a_idx[old_rows], out_a_sim[old_rows] = a_idx, a_sim
    out_a_idx[new], out_a_sim[new] = top_k(drawings[new], artworks, a_idx.shape[1])
    out_d_idx = np.zeros((n, k_d), np.int64)
    out_d_sim = np.zeros((n, k_d), np.float32)
    # The old drawings' lists meet the new drawings, and the new drawings' own lists (every drawing but themselves)
    # come from the same products of every drawing with the new ones.
    out_d_idx[old_rows], out_d_sim[old_rows], out_d_idx[new], out_d_sim[new] = _meet(
        drawings, old_rows, moved(d_idx), d_sim, drawings[new], new, k_d, own=True)
    o_i, o_s = _meet(artworks, np.arange(len(artworks)), moved(o_idx), o_sim, drawings[new], new, k_o)
    return out_a_idx, out_a_sim, out_d_idx, out_d_sim, o_i, o_s


def _meet(vectors: np.ndarray, rows: np.ndarray, idx: np.ndarray, sim: np.ndarray, new_vectors: np.ndarray,
          new: np.ndarray, k: int, block: int = 8192, own: bool = False) -> tuple[np.ndarray, ...]:
    """The lists (``idx``/``sim``) of the ``rows`` of ``vectors`` (increasing), each merged with the new gallery
    rows (``new``, their vectors ``new_vectors``), a slice of the table at a time (only a slice's scores against
    them are held).

    With ``own`` (``rows`` and ``new`` together being every row of ``vectors``), also the new rows' own lists:
    their ``k`` best among every row but themselves, from the same scores (and those of the new rows with each
    other), in the search's order: what :func:`top_k` with ``exclude_self`` gives them, without a second pass over
    the collection.

    Each slice is first scored in float32, whose error is bounded by :func:`_f32_error`; only its rows that a
    new row may enter (a float32 score within the bound of the row's last listed similarity), and those that may
    be among a new row's ``k`` best (within twice the bound of the ``k``-th best float32 score seen so far), are
    scored exactly. The others keep their lists: a new row cannot enter them, nor they the new rows' lists."""
    idx = np.asarray(idx, np.int64)
    out_i = idx.copy()
    out_s = np.round(np.asarray(sim, np.float64), DECIMALS).astype(np.float32)   # as a merge gives them
    # The score a new row must reach to enter each list (any row with a hole in its list is merged whatever).
    last = np.where((idx < 0).any(axis=1), -np.inf, out_s[:, k - 1].astype(np.float64)) if k else \
        np.full(len(rows), np.inf)
    mine_i = np.zeros((len(new), 0), np.int64)   # the new rows' best so far
    mine_s = np.zeros((len(new), 0), np.float64)
    new32 = np.ascontiguousarray(new_vectors, np.float32)
    new_norm = float(np.linalg.norm(new32, axis=1).max()) if len(new) else 0.0
    best32 = np.full((max(k, 1), len(new)), -np.inf, np.float32)   # the k best float32 scores of each new row
    row_norm = 0.0
    for lo in range(0, len(vectors) if len(new) else 0, block):   # the table's own slices: no copy of them
        at = np.arange(*np.searchsorted(rows, [lo, lo + block]))   # the rows of this slice
        if not len(at):
            continue
        part = np.asarray(vectors[lo:lo + block], np.float32)
        row_norm = max(row_norm, float(np.sqrt(np.einsum("ij,ij->i", part, part).max())))
        eps = _f32_error(part.shape[1], row_norm, new_norm) + 10.0 ** -DECIMALS   # and the rounding to 6 decimals
        approx = (part @ new32.T)[rows[at] - lo]
        pick = approx.max(axis=1) + eps >= last[at]
        if own and k:
            best32 = np.partition(np.concatenate([best32, approx]), len(approx), axis=0)[len(approx):]
            pick |= (approx >= best32.min(axis=0) - 2 * eps).any(axis=1)
        at = at[pick]
        if len(at):
            scores = exact_similarity(part[rows[at] - lo], new32)
            out_i[at], out_s[at] = merge_top_k(idx[at], sim[at], new, scores, k)
            if own:
                mine_i, mine_s = merge_top_k(mine_i, mine_s, *_best_columns_with_ties(scores.T, rows[at], k), k)
        del part
        release_pages(vectors)
    if not own:
        return out_i, out_s
    if not len(new):
        return out_i, out_s, np.zeros((0, k), np.int64), np.zeros((0, k), np.float32)
    among = exact_similarity(new_vectors, new_vectors)
    np.fill_diagonal(among, -np.inf)   # a row never lists itself
    mine_i, mine_s = merge_top_k(mine_i, mine_s, *_best_columns_with_ties(among, new, k), k)
    assert mine_i.shape == (len(new), k), "fewer rows than a list holds"
    return out_i, out_s, mine_i, mine_s


def _best_columns_with_ties(key: np.ndarray, cols: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``key`` (scores of the gallery rows ``cols``, rounded as the search rounds them), the
    columns that can be among its ``k`` best in the search's order: every one scoring at least its ``k``-th best
    score, those tied with it included (the lower row wins a tie, whichever of them a partial sort would keep).
    Returns each row's gallery rows and their scores, padded with -1 and -inf.

    >>> i, s = _best_columns_with_ties(np.array([[1., 1., 1., .5], [.2, .9, .1, .3]]), np.array([30, 20, 10, 0]), 2)
    >>> i.tolist(), s.tolist()
    ([[30, 20, 10], [20, 0, -1]], [[1.0, 1.0, 1.0], [0.9, 0.3, -inf]])
    """
    m = key.shape[1]
    if k == 0:
        return np.zeros((len(key), 0), np.int64), np.zeros((len(key), 0))
    if m <= k:
        return np.broadcast_to(np.asarray(cols, np.int64), key.shape), key
    kth = np.partition(key, m - k, axis=1)[:, m - k]
    keep = key >= kth[:, None]
    counts = keep.sum(axis=1)
    r, c = np.nonzero(keep)   # by row, then column
    at = np.arange(len(r)) - np.repeat(np.cumsum(counts) - counts, counts)
    out_i = np.full((len(key), int(counts.max())), -1, np.int64)
    out_k = np.full(out_i.shape, -np.inf)
    out_i[r, at] = np.asarray(cols, np.int64)[c]
    out_k[r, at] = key[r, c]
    return out_i, out_k
