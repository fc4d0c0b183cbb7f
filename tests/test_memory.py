"""The first build's memory savings change no result: vectors read from the cache in slices, views instead of
copies, the groups' sums and normalising by chunks (benchmarks/README.md gives the memory they save)."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix

from generator.contracts import Embedded, Embeddings
from generator.ml import groups
from generator.pipeline import cache as cache_module
from generator.pipeline.cache import Cache, KnownVectors


def _vectors(n: int, d: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


def test_wanted_vectors_are_read_in_slices_as_the_whole_part_gives_them(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "PART_SLICE", 3)   # several slices per part, one cut inside each
    c = Cache(tmp_path)
    v = _vectors(11)
    keys = [f"k{i:02d}" for i in range(11)]
    c.add_embeddings("m", keys[:7], v[:7])
    c.add_embeddings("m", keys[7:], v[7:])
    everything = c.load_embeddings("m")
    wanted = ["k09", "k03", "nope", "k03", "k00"]
    got = c.load_embeddings("m", wanted=wanted)
    assert isinstance(got, KnownVectors) and sorted(got) == ["k00", "k03", "k09"]
    for k in got:
        assert np.array_equal(got[k], everything[k])
    # Not every wanted hash found, or one repeated: the caller copies rows as before.
    assert got.as_rows(wanted) is None
    order = ["k10", "k01", "k05"]
    exact = c.load_embeddings("m", wanted=order)
    assert np.array_equal(exact.as_rows(order), v[[10, 1, 5]])
    assert exact.as_rows(["k01", "k10", "k05"]) is None     # another order
    exact["k04"] = v[4]                                      # a vector computed since
    assert exact.as_rows(order) is None


def test_a_damaged_part_is_reported_and_its_vectors_computed_again(tmp_path):
    c = Cache(tmp_path)
    good = c.add_embeddings("m", ["a", "b"], _vectors(2))
    bad = c.add_embeddings("m", ["c", "d"], _vectors(2, seed=1))
    bad.write_bytes(bad.read_bytes()[:-40])   # cut short
    got = c.load_embeddings("m", wanted=["a", "c", "b", "d"])
    assert sorted(got) == ["a", "b"] and good.is_file() and not bad.exists()
    assert any("damaged" in w for w in c.warnings)


def test_the_map_input_is_a_view_when_the_rows_follow_each_other():
    rows = _vectors(10)
    joined = Embeddings(Embedded(list("abcdef"), rows[:6]), Embedded(list("ghij"), rows[6:])).joined()
    assert np.shares_memory(joined, rows) and np.array_equal(joined, rows) and not joined.flags.writeable
    kept = np.ones(10, bool)
    kept[2] = False
    apart = Embeddings(Embedded(list("abcde"), rows[:6][kept[:6]]), Embedded(list("ghij"), rows[6:]))
    assert np.array_equal(apart.joined(), rows[kept])
    other = Embeddings(Embedded(list("ab"), rows[:2]), Embedded(list("cd"), _vectors(2, seed=3)))
    assert not np.shares_memory(other.joined(), rows) and np.array_equal(other.joined()[:2], rows[:2])


def test_group_sums_by_chunks_are_the_bytes_of_one_product(monkeypatch):
    monkeypatch.setattr(groups, "CHUNK", 50)
    rng = np.random.default_rng(2)
    v = rng.standard_normal((3000, 16)).astype(np.float32)
    for k in (0, 1, 7, 400):
        labels = rng.integers(-1, k, len(v)) if k else -np.ones(len(v), int)
        rows = np.flatnonzero(labels >= 0)
        whole = csr_matrix((np.ones(len(rows)), (labels[rows], rows)), shape=(k, len(v))) @ v.astype(np.float64)
        assert np.array_equal(groups._sums(v, labels, k), np.asarray(whole)), k


def test_normalising_by_chunks_gives_the_same_bytes(monkeypatch):
    monkeypatch.setattr(groups, "CHUNK", 7)
    v = _vectors(40)
    v[3] = 0
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    expected = (v / np.where(norms > 0, norms, 1)).astype(np.float32)
    assert np.array_equal(groups.normalised(v), expected)
    copy = v.copy()
    assert groups.normalised(copy, overwrite=True) is copy and np.array_equal(copy, expected)
