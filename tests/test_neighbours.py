"""Exactness of the blocked top-k search against a brute-force float64 numpy reference."""

import numpy as np
import pytest

from generator.ml.device import cpu_precision
from generator.ml.neighbours import exact_similarity, extend_neighbours, top_k, top_k_without

from .helpers import network_library_loaded_by


def reference(q, g, k, exclude_self=False):
    s = np.round(q.astype(np.float64) @ g.astype(np.float64).T, 6)
    if exclude_self:
        np.fill_diagonal(s, -np.inf)
    order = np.lexsort((np.broadcast_to(np.arange(len(g)), s.shape), -s), axis=1)[:, :k]
    return order, np.take_along_axis(s, order, axis=1).astype(np.float32)


def unit(rng, n, d):
    x = rng.standard_normal((n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def vectors():
    rng = np.random.default_rng(0)
    q, g = unit(rng, 700, 96), unit(rng, 3000, 96)
    g[10:40] = g[500]            # thirty duplicates: ties broken by the lower index
    g[41] = -g[42]
    q[0] = g[500]                # a query whose best 30 matches tie exactly
    q[1] = g[7]
    q[2:20] = q[20]              # duplicate queries
    # A clustered cloud, as real embeddings are: near-ties among the candidates.
    centre = unit(rng, 1, 96)
    g[1000:1400] = unit(np.random.default_rng(1), 400, 96) * 0.05 + centre
    g[1000:1400] /= np.linalg.norm(g[1000:1400], axis=1, keepdims=True)
    q[100:150] = centre + unit(rng, 50, 96) * 0.01
    q[100:150] /= np.linalg.norm(q[100:150], axis=1, keepdims=True)
    return q, g


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("block,chunk", [pytest.param(64, 256, marks=pytest.mark.slow), (1024, 16384),
                                         pytest.param(7, 1000, marks=pytest.mark.slow)])  # small blocks: many passes
def test_top_k_equals_brute_force(vectors, precision, block, chunk):
    q, g = vectors
    stats = {}
    idx, sim = top_k(q, g, 10, block=block, chunk=chunk, precision=precision, stats=stats)
    ref_idx, ref_sim = reference(q, g, 10)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(sim, ref_sim)
    assert stats["precision"] == precision


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_exclude_self_equals_brute_force(vectors, precision):
    q, _ = vectors
    idx, sim = top_k(q, q, 6, block=100, chunk=256, exclude_self=True, precision=precision)
    ref_idx, ref_sim = reference(q, q, 6, exclude_self=True)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(sim, ref_sim)
    assert not (idx == np.arange(len(q))[:, None]).any()


def test_few_candidates_fall_back_and_stay_exact(vectors):
    """Too few candidates for the ties: the certificate fails and the rows are redone."""
    q, g = vectors
    stats = {}
    idx, sim = top_k(q, g, 10, candidates=11, precision="bf16", stats=stats)
    assert stats["uncertified"] > 0
    ref_idx, ref_sim = reference(q, g, 10)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(sim, ref_sim)


def test_small_and_empty_cases():
    rng = np.random.default_rng(3)
    g = unit(rng, 5, 8)
    idx, sim = top_k(g, g, 10, exclude_self=True)
    assert idx.shape == (5, 4)
    np.testing.assert_array_equal(idx, reference(g, g, 4, True)[0])
    assert top_k(np.zeros((0, 8), np.float32), g, 3)[0].shape == (0, 3)


def test_auto_precision_is_the_processors_not_a_timing(monkeypatch):
    from generator.ml import neighbours

    monkeypatch.setattr(neighbours, "FEW_QUERIES", 10)
    rng = np.random.default_rng(5)
    q, g = unit(rng, 20, 16), unit(rng, 50, 16)
    stats: dict = {}
    idx, sim = top_k(q, g, 5, stats=stats)
    assert stats["precision"] == cpu_precision("matmul")
    for precision in ("fp32", "bf16"):
        other = top_k(q, g, 5, precision=precision)
        np.testing.assert_array_equal(other[0], idx)
        np.testing.assert_array_equal(other[1], sim)
    # Fewer queries than FEW_QUERIES: float32 on every processor, the same lists.
    few: dict = {}
    np.testing.assert_array_equal(top_k(q[:9], g, 5, stats=few)[1], sim[:9])
    assert few["precision"] == "fp32"


def _lists(d, a, top, similar, of_artwork):
    return (*top_k(d, a, top), *top_k(d, d, similar, exclude_self=True), *top_k(a, d, of_artwork))


def test_extended_lists_equal_a_full_search(vectors):
    """A collection that gains drawings (between and after the old ones, duplicates of old ones among them):
    the old lists extended equal a search of the whole collection, ties included."""
    import functools
    from generator.ml import neighbours

    q, g = vectors
    drawings, artworks = q[:400].copy(), g[:300]
    drawings[390:] = drawings[5]                 # ten duplicates: ties everywhere they are listed
    new = np.array([0, 7, 8, 150, 151, 390, 391, 399])
    old_rows = np.setdiff1d(np.arange(len(drawings)), new)
    prev = _lists(drawings[old_rows], artworks, 10, 6, 12)
    scored = []   # rows scored exactly against the new drawings: only those whose lists they may enter

    def counted(rows, gallery):
        scored.append(len(rows))
        return exact_similarity(rows, gallery)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(neighbours, "exact_similarity", counted)
        got = extend_neighbours(prev, old_rows, drawings, artworks, 10, 6, 12)
    want = _lists(drawings, artworks, 10, 6, 12)
    assert got is not None
    for x, y in zip(got, want):
        assert x.shape == y.shape and np.array_equal(x, y)
    assert 0 < sum(scored) < (len(old_rows) + len(artworks)) / 2, scored
    # The collection a few rows at a time (the new drawings' own lists gathered block by block, ties across blocks),
    # and no new drawing at all: the same lists.
    whole = neighbours._meet
    for block in (3, 64):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(neighbours, "_meet", functools.partial(whole, block=block))
            by_blocks = extend_neighbours(prev, old_rows, drawings, artworks, 10, 6, 12)
        for x, y in zip(by_blocks, want):
            assert x.shape == y.shape and np.array_equal(x, y)
    # A rebuild extends the lists of a few new drawings with the matrix library on one core: the same lists.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        one_core = extend_neighbours(prev, old_rows, drawings, artworks, 10, 6, 12)
    for x, y in zip(one_core, want):
        assert x.shape == y.shape and np.array_equal(x, y)
    same = extend_neighbours(want, np.arange(len(drawings)), drawings, artworks, 10, 6, 12)
    for x, y in zip(same, want):
        assert x.shape == y.shape and np.array_equal(x, y)
    # lists shorter than the new size asks for (a collection smaller than a list): searched again in full
    small = np.arange(5)
    assert extend_neighbours(_lists(drawings[small], artworks, 10, 6, 12), small, drawings[:9], artworks, 10, 6,
                             12) is None


@pytest.mark.parametrize("candidates", [None, 11])   # 11: too few for the ties, the rows redone
def test_a_few_queries_are_searched_exactly_with_plain_arrays(vectors, candidates):
    """Fewer queries than FEW_QUERIES take the float32 pass in plain arrays: the same lists as the reference,
    duplicates, exact ties and the clustered near-ties included, with and without the queries themselves."""
    from generator.ml.neighbours import FEW_QUERIES

    q, g = vectors
    few = q[:FEW_QUERIES - 1]
    stats = {}
    idx, sim = top_k(few, g, 10, chunk=1000, candidates=candidates, stats=stats)
    ref_idx, ref_sim = reference(few, g, 10)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(sim, ref_sim)
    assert stats["precision"] == "fp32" and (candidates is None or stats["uncertified"] > 0)
    idx, sim = top_k(few, few, 6, chunk=256, exclude_self=True, candidates=candidates)
    ref_idx, ref_sim = reference(few, few, 6, exclude_self=True)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(sim, ref_sim)


def test_a_few_queries_do_not_load_the_network_library():
    """A rebuild that adds a few drawings searches them in a forked process; loading the network library there took
    half of its time. Run in a fresh process, as the build's is."""
    code = ("import numpy as np\n"
            "from generator.ml.neighbours import extend_neighbours, top_k\n"
            "x = np.random.default_rng(4).normal(size=(600, 16)).astype(np.float32)\n"
            "x /= np.linalg.norm(x, axis=1, keepdims=True)\n"
            "d, a = x[:500], x[500:]\n"
            "old = np.arange(480)\n"
            "prev = (*top_k(d[old], a, 5), *top_k(d[old], d[old], 4, exclude_self=True), *top_k(a, d[old], 3))\n"
            "lists = extend_neighbours(prev, old, d, a, 5, 4, 3)\n"
            "assert lists is not None and lists[0].shape == (500, 5)\n")
    assert not network_library_loaded_by(code)


@pytest.mark.parametrize("n, candidates", [(40, None), (40, 11), (600, None)])   # a few and many queries
def test_skipped_rows_are_never_listed_and_the_others_keep_their_numbers(vectors, n, candidates):
    """Gallery rows skipped by a search (the map's new items, when they are placed among the others) are listed
    by no query: the lists are those of the gallery without them, duplicates and ties included, the rows
    keeping their numbers, whichever pass finds them (11 candidates: too few for the ties, rows searched again)."""
    q, g = vectors
    skip = np.array([3, 10, 11, 500, 1000, 1001, 2999])   # duplicates of the best matches of some queries among them
    kept = np.setdiff1d(np.arange(len(g)), skip)
    idx, sim = top_k(q[:n], g, 10, candidates=candidates, skip=skip)
    ref_idx, ref_sim = reference(q[:n], g[kept], 10)
    np.testing.assert_array_equal(idx, kept[ref_idx])
    np.testing.assert_array_equal(sim, ref_sim)
    assert not np.isin(idx, skip).any()
