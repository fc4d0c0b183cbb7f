"""The first build's memory savings change no result: vectors read from the cache in slices into a read-only map
of a file, views instead of copies, every stage reading that map a slice at a time and letting its pages go, the
groups' sums and normalising by chunks (benchmarks/README.md gives the memory they save). Where Linux lets a
process read and reset its peak memory, a stage walking a mapped table is checked to hold a part of it only."""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from generator.contracts import Embedded, Embeddings, row_digests
from generator.ml import groups, layout
from generator.ml.neighbours import top_k
from generator.pipeline import cache as cache_module
from generator.pipeline.cache import Cache, KnownVectors, array_key


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
    # Not every wanted hash found: no table of the rows as they are.
    assert got.as_rows(wanted) is None
    assert got.table.shape == (5, 8) and not got.found[2] and not got.table[2].any()
    assert np.array_equal(got.table[[0, 1, 3, 4]], v[[9, 3, 3, 0]])
    order = ["k10", "k01", "k05"]
    exact = c.load_embeddings("m", wanted=order)
    assert np.array_equal(exact.as_rows(order), v[[10, 1, 5]])
    assert exact.as_rows(["k01", "k10", "k05"]) is None     # another order
    exact["k04"] = v[4]                                      # a vector computed since
    assert exact.as_rows(order) is None
    twice = ["k02", "k08", "k02"]                            # the same picture twice: two rows
    assert np.array_equal(c.load_embeddings("m", wanted=twice).as_rows(twice), v[[2, 8, 2]])


def test_parts_stored_compressed_or_holding_a_hash_twice_are_read_as_a_whole_load_reads_them(tmp_path, monkeypatch):
    # Vectors are read where they lie in parts stored as this cache writes them; a part stored compressed (written
    # by another tool, copied in from another machine) is read in slices; a hash in two parts takes the vector of
    # the last part, as loading every vector does.
    monkeypatch.setattr(cache_module, "PART_SLICE", 2)
    folder = tmp_path / "embeddings" / "m"
    folder.mkdir(parents=True)
    v = _vectors(9, 8, seed=7)
    np.savez(folder / "part-1.npz", keys=np.array(["a", "b", "c"]), vectors=v[:3])
    np.savez_compressed(folder / "part-2.npz", keys=np.array(["d", "b", "e"]), vectors=v[3:6])
    np.savez(folder / "part-3.npz", keys=np.array(["f", "e", "g"]), vectors=v[6:9])
    c = Cache(tmp_path)
    everything = c.load_embeddings("m")
    order = ["g", "e", "d", "b", "a", "c", "f", "missing"]
    got = c.load_embeddings("m", wanted=order)
    assert sorted(got) == sorted(everything) and not c.warnings
    assert all(np.array_equal(got[k], everything[k]) for k in everything)
    assert np.array_equal(got.table[:7], v[[8, 7, 3, 4, 0, 2, 6]])   # b from part 2, e from part 3
    assert got.found.tolist() == [True] * 7 + [False] and not got.table[7].any()
    # A flipped byte inside the vectors of a part read where they lie: found by the checksum, reported.
    raw = bytearray((folder / "part-3.npz").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (folder / "part-3.npz").write_bytes(bytes(raw))
    again = c.load_embeddings("m", wanted=order)
    assert sorted(again) == ["a", "b", "c", "d", "e"] and np.array_equal(again["e"], v[5])
    assert any("part-3.npz" in w and "damaged" in w for w in c.warnings)


def test_vectors_added_while_the_cached_ones_are_read_are_read_after_them(tmp_path):
    # A rebuild reads the cached vectors while a forked process embeds the new pictures into new parts: the parts
    # there when the work starts are read first, the work's parts after it ends; the same table as a load after.
    c = Cache(tmp_path)
    v = _vectors(12, 8, seed=4)
    keys = [f"k{i:02d}" for i in range(12)]
    c.add_embeddings("m", keys[:8], v[:8])
    seen = []

    def embed():
        seen.append(len(list((tmp_path / "embeddings" / "m").glob("part-*.npz"))))

        def done():
            c.add_embeddings("m", keys[8:], v[8:])   # stored by the time the work's end is waited for
            return "embedded"
        return done
    wanted = keys[::-1] + ["nope"]
    got = c.load_embeddings("m", wanted=wanted, meanwhile=embed)
    assert seen == [1]
    assert np.array_equal(got.table[:12], v[::-1]) and not got.found[12]
    assert np.array_equal(c.load_embeddings("m", wanted=wanted).table, got.table)

    def broken():
        def fails():
            raise ValueError("the embedding failed")
        return fails
    with pytest.raises(ValueError, match="the embedding failed"):
        c.load_embeddings("m", wanted=keys, meanwhile=broken)
    assert not list((tmp_path / "embeddings" / "m").glob("rows-*"))   # no table left behind


def test_merging_parts_keeps_every_vector(tmp_path):
    c = Cache(tmp_path)
    v = _vectors(50, 8, seed=2)
    expected = {}
    for i in range(cache_module.MAX_PARTS + 3):     # parts of 4, each sharing a hash with the one before
        rows = [(3 * i + j) % 50 for j in range(4)]
        keys = [f"k{r:02d}" for r in rows]
        c.add_embeddings("m", keys, v[rows])
        expected.update(zip(keys, v[rows]))
    damaged = c.add_embeddings("m", ["z1", "z2"], _vectors(2, 8, seed=3))
    damaged.write_bytes(damaged.read_bytes()[:-30])
    c.compact_embeddings("m")
    parts = list((tmp_path / "embeddings" / "m").glob("part-*.npz"))
    assert len(parts) == 1 and not list((tmp_path / "embeddings" / "m").glob("rows-*"))
    merged = c.load_embeddings("m")
    assert sorted(merged) == sorted(expected)
    assert all(np.array_equal(merged[k], expected[k]) for k in expected)
    with np.load(parts[0]) as data:
        assert data["keys"].tolist() == sorted(expected) and data["vectors"].dtype == np.float32
    assert any(damaged.name in w for w in c.warnings)


def test_the_table_is_a_read_only_map_and_the_cache_keeps_only_its_parts(tmp_path):
    c = Cache(tmp_path)
    v = _vectors(20, 16)
    keys = [f"k{i:02d}" for i in range(20)]
    first = c.add_embeddings("m", keys[:12], v[:12])
    second = c.add_embeddings("m", keys[12:], v[12:])
    before = {p: p.read_bytes() for p in (first, second)}
    order = keys[::-1]
    table = c.load_embeddings("m", wanted=order).as_rows(order)
    assert isinstance(table, np.memmap) and not table.flags.writeable
    assert np.array_equal(table, v[::-1])
    with pytest.raises(ValueError):
        table[0, 0] = 1
    # The table's file is gone from the cache once mapped (on systems that allow it); the parts are untouched;
    # a table a stopped build left a day ago is removed, a newer one (another build's) left alone.
    stale, recent = first.parent / "rows-old.npy.tmp", first.parent / "rows-new.npy.tmp"
    for path in (stale, recent):
        path.write_bytes(b"x")
    os.utime(stale, (time.time() - 2 * 86400,) * 2)
    c.load_embeddings("m", wanted=order)
    assert not stale.exists() and recent.exists()
    recent.unlink()
    left = sorted(p.name for p in first.parent.iterdir())
    assert left == sorted([first.name, second.name]) or sys.platform == "win32"
    assert {p: p.read_bytes() for p in (first, second)} == before


def _build_rows(tmp_path, monkeypatch, hashes, v, stored):
    """embed_items and published_items over a cache holding the ``stored`` rows of ``v`` (by hash)."""
    from generator.pipeline import stages
    from generator.pipeline.report import BuildReport
    from generator.settings import BuildSettings

    settings = BuildSettings(drawings=tmp_path / "d", artworks=tmp_path / "a", out=tmp_path / "site",
                             cache=tmp_path / "cache")
    cache = Cache(settings.cache)
    key = stages.embedding_key(settings)[0]
    cache.add_embeddings(key, [hashes[i] for i in stored], v[stored])
    paths = [tmp_path / f"p{i}.jpg" for i in range(len(hashes))]
    run = stages.MissingEmbeddings(cache.load_embeddings(key, wanted=[h for h in hashes if h]), [], "test", 0,
                                   len(stored), key)
    monkeypatch.setattr(stages, "compute_missing_embeddings", lambda *args, **kw: run)
    embedded = stages.embed_items(paths, hashes, cache, settings, lambda *a: (lambda n: None),
                                  BuildReport(out=settings.out))
    coll = SimpleNamespace(drawings=[SimpleNamespace(id=f"d{i}") for i in range(4)],
                           artworks=[SimpleNamespace(id=f"a{i}") for i in range(len(hashes) - 4)], pairs=[])
    return embedded, stages.published_items(coll, hashes, embedded, settings)


def test_the_published_vectors_are_the_rows_of_the_readable_pictures(tmp_path, monkeypatch):
    v = _vectors(9, 8, seed=4)
    hashes = [f"h{i}" for i in range(9)]
    embedded, items = _build_rows(tmp_path / "all", monkeypatch, hashes, v, list(range(9)))
    assert embedded.ok.all() and np.array_equal(items.embeddings.joined(), v)
    assert np.shares_memory(items.embeddings.joined(), embedded.rows)   # views of one map, not copies
    # One drawing unreadable, one artwork's vector missing: the others' rows, in order, still a map.
    hashes[1] = ""
    embedded, items = _build_rows(tmp_path / "some", monkeypatch, hashes, v, [0, 2, 3, 4, 5, 6, 8])
    assert embedded.ok.tolist() == [True, False, True, True, True, True, True, False, True]
    assert isinstance(embedded.rows, np.memmap)
    assert np.array_equal(items.embeddings.drawings.vectors, v[[0, 2, 3]])
    assert np.array_equal(items.embeddings.artworks.vectors, v[[4, 5, 6, 8]])


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


def _mapped(tmp_path: Path, v: np.ndarray) -> np.ndarray:
    """``v`` as the build holds its vectors: a read-only map of a file."""
    path = tmp_path / "table.npy"
    np.save(path, v)
    return np.load(path, mmap_mode="r")


def test_every_stage_gives_the_same_bytes_from_a_mapped_table(tmp_path, monkeypatch):
    rng = np.random.default_rng(5)
    v = rng.standard_normal((700, 24)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    mapped = _mapped(tmp_path, v)
    # A copy in memory against the map, with slices small enough to cut the table many times.
    monkeypatch.setattr(groups, "CHUNK", 64)
    for a, b in zip(top_k(v[:300], v, 7, block=64, chunk=128), top_k(mapped[:300], mapped, 7, block=64, chunk=128)):
        assert np.array_equal(a, b)
    for a, b in zip(top_k(v, v, 5, exclude_self=True, block=50), top_k(mapped, mapped, 5, exclude_self=True,
                                                                          block=50)):
        assert np.array_equal(a, b)
    rows = layout.sample_rows(700, 500, 1)
    assert np.array_equal(layout._pca(v, 10, block=96, rows=rows), layout._pca(mapped, 10, block=96, rows=rows))
    assert np.array_equal(layout._pca(v, 10, block=96), layout._pca(mapped, 10, block=96))
    (tmp_path / "longer").mkdir()
    assert np.array_equal(groups.normalised(v * 3), groups.normalised(_mapped(tmp_path / "longer", v * 3)))
    assert np.array_equal(row_digests(v), row_digests(mapped))
    assert np.array_equal(row_digests(v), [int.from_bytes(hashlib.blake2b(r.tobytes(), digest_size=8).digest(),
                                                          "little") for r in v])
    from generator.ml.findindex import compact_index
    a, b = compact_index(v[300:], v[:300]), compact_index(mapped[300:], mapped[:300])
    for field in ("mean", "axes", "scales", "codes"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert (a.overlap, a.queries) == (b.overlap, b.queries)
    both = Embeddings(Embedded([str(i) for i in range(300)], mapped[:300]),
                      Embedded([str(i) for i in range(400)], mapped[300:])).joined()
    assert np.shares_memory(both, mapped) and array_key(both, 42) == array_key(v, 42)


def test_the_principal_axes_are_those_of_the_sampled_rows_gathered_whole(monkeypatch):
    """The map's PCA fits its sample a block at a time; the projection is the one of the rows gathered into one
    array, with numpy's own mean of them (the way it was computed before)."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5000, 40)).astype(np.float32)
    rows = layout.sample_rows(5000, 3100, 2)
    fit = x[rows]
    mean = fit.mean(axis=0, dtype=np.float64)
    cov = np.zeros((40, 40))
    for start in range(0, len(fit), 1000):
        chunk = fit[start:start + 1000].astype(np.float64) - mean
        cov += chunk.T @ chunk
    values, vectors = np.linalg.eigh(cov)
    axes = vectors[:, np.argsort(values)[::-1][:6]]
    signs = np.sign(axes[np.argmax(np.abs(axes), axis=0), np.arange(6)])
    axes = (axes * np.where(signs == 0, 1, signs)).astype(np.float32)
    expected = (x - mean.astype(np.float32)) @ axes
    assert np.array_equal(layout._pca(x, 6, block=1000, rows=rows), expected)


def test_placing_items_by_cells_gives_the_same_cells_whatever_the_block():
    """The nearest cell centre of each item is scored a block of items at a time; smaller blocks (less memory)
    choose the same cells, and the map's items land at the same places."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((20_000, 50)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    centres = x[layout.sample_rows(len(x), 141, 3)].astype(np.float64)
    whole = layout._best_cells(x, centres, block=65536)
    for block in (8192, 1000, 7):
        assert np.array_equal(layout._best_cells(x, centres, block=block), whole), block


def test_cluster_sums_by_chunks_are_the_bytes_of_one_reduceat(monkeypatch):
    from generator.ml import findindex

    rng = np.random.default_rng(9)
    x = rng.standard_normal((5000, 12)).astype(np.float32)
    for clusters in (1, 3, 40, 900):
        assign = rng.integers(0, clusters, len(x))
        order = np.argsort(assign, kind="stable")
        counts = np.bincount(assign, minlength=clusters + 2)      # two clusters left empty
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        whole = np.add.reduceat(x[order].astype(np.float64), starts[counts > 0], axis=0)
        for rows in (16384, 100, 1):
            monkeypatch.setattr(findindex, "SUM_ROWS", rows)
            assert np.array_equal(findindex.cluster_sums(x, order, counts), whole), (clusters, rows)


def test_the_find_index_is_the_same_scored_in_pieces(monkeypatch):
    """The find page's index measures its agreement a piece of each block of queries at a time: the same
    index as whole blocks (a block of one query, which the BLAS multiplies another way, is never cut out)."""
    from generator.ml import findindex

    monkeypatch.setattr(findindex, "BLOCK_PIECES", 8)
    # blocks of 5 queries cut in pieces of 2, the piece of 1 left at the end of a block joined to the one before
    assert list(findindex.query_blocks(7, findindex.MEASURE_CELLS // 5)) == [(0, 2), (2, 5), (5, 7)]
    assert list(findindex.query_blocks(11, findindex.MEASURE_CELLS // 5))[-1] == (10, 11)   # alone, as before
    rng = np.random.default_rng(10)
    artworks = rng.standard_normal((3000, 32)).astype(np.float32)
    drawings = rng.standard_normal((601, 32)).astype(np.float32)
    monkeypatch.setattr(findindex, "MEASURE_CELLS", 3000 * 40)     # blocks of 40 queries
    monkeypatch.setattr(findindex, "GROUPED_FROM", 2000)           # grouped in parts too
    results = []
    for pieces in (1, 3, 8):
        monkeypatch.setattr(findindex, "BLOCK_PIECES", pieces)
        results.append(findindex.compact_index(artworks, drawings))
    for other in results[1:]:
        for field in ("mean", "axes", "scales", "codes", "centres"):
            assert np.array_equal(getattr(results[0], field), getattr(other, field)), field
        assert (results[0].overlap, results[0].probe, [p.tolist() for p in results[0].parts]) == \
            (other.overlap, other.probe, [p.tolist() for p in other.parts])


def _peak_growth_mb(fn) -> float:
    """How far this process's peak memory rose above its memory before ``fn`` ran (Linux)."""
    def status(field):
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith(field)) / 1024
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pytest.skip("this system does not let a process reset its peak memory")
    start = status("VmRSS:")
    fn()
    return status("VmHWM:") - start


def _check_held(tmp_path, steps: dict) -> None:
    n, d = 200_000, 512
    table = _mapped(tmp_path, np.random.default_rng(7).standard_normal((n, d), dtype=np.float32))
    size_mb = table.nbytes / 2 ** 20                      # 391 MB; a step's own work is about 100 MB
    top_k(table[:300], table[:5000], 5, block=256, chunk=4096)   # torch's own first-use memory, not measured
    layout._pca(table[:5000], 8, block=4096)
    for name, step in steps.items():
        grew = _peak_growth_mb(lambda: step(table))
        assert grew < size_mb / 2, f"{name}: {grew:.0f} MB held while reading a {size_mb:.0f} MB table"


needs_proc = pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc")


@needs_proc
def test_walking_a_mapped_table_holds_a_part_of_it_not_all(tmp_path):
    """The vectors' table is a map of a file: a stage that reads all of it rises by far less than its size
    (without letting the pages go, every page read stays in the process: the whole table)."""
    _check_held(tmp_path, {
        "search": lambda t: top_k(t[:500], t, 5, block=256, chunk=4096),
        "map's axes": lambda t: layout._pca(t, 8, block=4096, rows=layout.sample_rows(len(t), 30_000, 1)),
        "fingerprint": lambda t: array_key(t), "row digests": lambda t: row_digests(t)})


@needs_proc
@pytest.mark.slow
def test_searching_for_every_row_of_a_mapped_table_holds_a_part_of_it(tmp_path):
    """The same for the queries' side of the search (the artworks' search for their drawings)."""
    _check_held(tmp_path, {"search (queries)": lambda t: top_k(t, t[:300], 5, block=256, chunk=4096)})


def _resident_mb() -> float:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists() or not sys.platform.startswith("linux"),
                    reason="needs Linux's /proc and its C library")
def test_memory_freed_by_a_stage_goes_back_to_the_system_between_stages():
    """Arrays a stage made and freed are kept by the C library (after a large array is freed, those a little
    smaller are taken from its own heap, and stay there once freed): a build's memory would keep every stage's
    leftovers. Between stages they are handed back."""
    from generator.fsutil import return_free_memory

    freed = np.ones(4_000_000)   # 32 MB freed: the library then keeps arrays of a few MB in its heap
    del freed
    arrays = [np.ones(250_000) for _ in range(100)]   # 100 arrays of 2 MB
    kept = arrays[::25]
    del arrays
    held = _resident_mb()
    return_free_memory()
    assert held - _resident_mb() > 100, "the 192 MB freed stayed in the process"
    assert len(kept) == 4


@pytest.mark.skipif(not __import__("generator.forks").forks.can_fork(), reason="the system cannot fork")
def test_work_in_a_fork_sends_back_its_result_or_its_error_and_leaves_what_it_loaded_behind():
    from generator.errors import ModelError
    from generator.forks import in_a_fork

    loaded = "sitegen_test_loaded_by_the_task"

    def task():
        sys.modules[loaded] = sys   # as a library the task imports would be
        return os.getpid(), np.arange(3)

    pid, numbers = in_a_fork(task)
    assert pid != os.getpid() and numbers.tolist() == [0, 1, 2] and loaded not in sys.modules

    def fails():
        raise ModelError("The weights file w.pth does not exist.")

    with pytest.raises(ModelError, match="w.pth"):
        in_a_fork(fails)


@pytest.mark.skipif(not __import__("generator.forks").forks.can_fork(), reason="the system cannot fork")
def test_a_process_forked_beside_or_made_ready_sends_its_result_or_its_error():
    import time

    from generator.errors import ModelError
    from generator.forks import Prepared, beside

    wait = beside(lambda: (os.getpid(), np.arange(100_000)))   # more than a pipe holds at once
    pid, numbers = wait()
    assert pid != os.getpid() and numbers.sum() == 99_999 * 100_000 // 2

    def fails():
        raise ModelError("The weights file w.pth does not exist.")
    with pytest.raises(ModelError, match="w.pth"):
        beside(fails)()

    ready = Prepared(lambda: ("loaded", os.getpid()), lambda state, request: (state, request * 2))
    (word, pid), doubled = ready.ask(21)
    assert word == "loaded" and pid != os.getpid() and doubled == 42
    ready.close()   # asked already: nothing left to end
    with pytest.raises(ModelError, match="w.pth"):   # its setup's error, said when it is asked
        Prepared(fails, lambda state, request: request).ask(1)
    slow = Prepared(lambda: time.sleep(60), lambda state, request: request)
    start = time.perf_counter()
    slow.close()   # never asked: ended in the middle of its setup, at once
    assert time.perf_counter() - start < 10


@pytest.mark.skipif(not __import__("generator.forks").forks.can_fork(), reason="the system cannot fork")
def test_the_prepared_process_sees_when_its_answer_is_awaited():
    """A rebuild's network process runs on one core while the build reads the cached vectors, on all once the build
    waits for it: the flag it looks at is set when, and only when, the answer is awaited."""
    import time

    from generator.forks import Prepared, shared_flag

    waited, looked = shared_flag(), shared_flag()

    def work(state, request):
        before = waited.value
        looked.value = 1
        deadline = time.monotonic() + 30
        while not waited.value and time.monotonic() < deadline:
            time.sleep(0.01)
        return before, waited.value

    ready = Prepared(lambda: None, work, waited)
    answer = ready.ask_later("go")
    deadline = time.monotonic() + 30
    while not looked.value and time.monotonic() < deadline:   # the work has begun, the answer not yet awaited
        time.sleep(0.01)
    assert looked.value and not waited.value
    assert answer() == (0, 1) and waited.value == 1


def test_the_network_takes_every_core_once_the_build_waits():
    torch = pytest.importorskip("torch")
    from generator.forks import shared_flag
    from generator.pipeline.stages import _one_core_until

    cores, ticks, waited = torch.get_num_threads(), [], shared_flag()
    try:
        torch.set_num_threads(2)
        tick = _one_core_until(waited, ticks.append)
        assert torch.get_num_threads() == 1
        tick(16)
        assert torch.get_num_threads() == 1
        waited.value = 1
        tick(16)
        assert torch.get_num_threads() == 2 and ticks == [16, 16]
        torch.set_num_threads(2)
        _one_core_until(waited, ticks.append)   # already waited for: every core from the start
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(cores)


@pytest.mark.skipif(not __import__("generator.forks").forks.can_fork(), reason="the system cannot fork")
def test_work_shared_out_is_taken_by_this_process_and_forked_ones_and_comes_back_in_order():
    """This process takes parts too (one fewer forked process copying its memory), each part is run once, the
    results come back in the order of the parts, and an error of a part, here or in a forked process, is raised."""
    import time

    from generator.errors import ModelError
    from generator.forks import in_forks

    def task(lo, hi):
        time.sleep(0.01)   # long enough for every process to take parts
        return os.getpid(), list(range(lo, hi))

    done = in_forks(task, 1000, 2, 10)
    assert [i for _, part in done for i in part] == list(range(1000))
    pids = {pid for pid, _ in done}
    assert os.getpid() in pids and len(pids) == 2   # this process and one forked process
    assert in_forks(task, 5, 4, 10) == [(os.getpid(), [0, 1, 2, 3, 4])]   # one part: nothing forked

    here = os.getpid()
    for where in ("here", "in a forked process"):
        def fails(lo, hi):
            time.sleep(0.01)
            if (os.getpid() == here) == (where == "here"):
                raise ModelError(f"a part failed {where}")
            return lo
        with pytest.raises(ModelError, match=f"a part failed {where}"):
            in_forks(fails, 1000, 2, 10)


@pytest.mark.skipif(not __import__("generator.forks").forks.can_fork(), reason="the system cannot fork")
def test_stages_run_apart_only_while_the_network_library_is_not_loaded(monkeypatch):
    from generator.pipeline.stages import apart

    monkeypatch.delitem(sys.modules, "torch", raising=False)
    assert apart(os.getpid) != os.getpid()
    monkeypatch.setitem(sys.modules, "torch", sys)   # loaded: a fork after its threads ran may hang
    assert apart(os.getpid) == os.getpid()


def test_the_pictures_count_for_the_fingerprint_by_their_names_without_making_their_paths(tmp_path, monkeypatch):
    from generator.pipeline.stages import PictureFiles
    from generator.site.context import picture_names

    files = PictureFiles(Cache(tmp_path / "cache"), "w320")
    files.digests = {"2009_14-17_1234_DEU_R_C": "ab12", "Claude_Monet_3": "cd34"}
    as_paths = {item_id: files[item_id] for item_id in files}
    monkeypatch.setattr(PictureFiles, "files", lambda *a: pytest.fail("paths made for the fingerprint"))
    assert sorted(picture_names(files)) == sorted(picture_names(as_paths))
    assert ("Claude_Monet_3", "cd34-w320-t.webp", "cd34-w320-d.webp") in list(picture_names(files))


def test_a_process_that_keeps_its_freed_memory_embeds_the_same_vectors():
    """The embedding processes keep the memory they free for their next allocations (no page made anew for every
    layer of every batch): the vectors are the same, bit for bit. Run in a process of its own, as the build does."""
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from generator.settings import BuildSettings\n"
        "from generator.ml.model import load_model\n"
        "from generator.ml.embed import embed_arrays, prepare_model\n"
        "from generator.fsutil import keep_freed_memory\n"
        "s = BuildSettings(drawings='d', artworks='a')\n"
        "m = load_model(s.model, s.weights); net = prepare_model(m, 'cpu', 'fp32')\n"
        "x = np.random.default_rng(0).integers(0, 255, (4, m.input_size, m.input_size, 3), dtype=np.uint8)\n"
        "before = embed_arrays(net, x, 'cpu', 'fp32')\n"
        "kept = keep_freed_memory()\n"
        "after = [embed_arrays(net, x, 'cpu', 'fp32') for _ in range(2)]\n"
        "import sys; sys.stdout.write(f'{kept} {all((a.tobytes() == before.tobytes()) for a in after)}')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    kept, same = out.split()
    assert same == "True"
    import ctypes
    import os

    glibc = os.name == "posix" and hasattr(ctypes.CDLL(None), "mallopt")
    assert kept == str(glibc)


def test_merging_leaves_a_part_much_larger_than_the_others_as_it_is(tmp_path):
    """After a first build, one part holds most vectors and each rebuild adds a small one: the small ones are merged
    together, the large one is neither read whole nor written again, and every vector is kept."""
    c = Cache(tmp_path)
    v = _vectors(200, 256, seed=4)
    big = c.add_embeddings("m", [f"k{i:03d}" for i in range(150)], v[:150])
    before = big.stat()
    for i in range(cache_module.MAX_PARTS):   # small parts of 2
        c.add_embeddings("m", [f"k{150 + 2 * i + j:03d}" for j in range(2)], v[150 + 2 * i:152 + 2 * i])
    c.compact_embeddings("m")
    parts = sorted((tmp_path / "embeddings" / "m").glob("part-*.npz"))
    assert len(parts) == 2 and big in parts
    after = big.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), "the large part untouched"
    merged = c.load_embeddings("m")
    n = 150 + 2 * cache_module.MAX_PARTS
    assert sorted(merged) == [f"k{i:03d}" for i in range(n)]
    assert all(np.array_equal(merged[f"k{i:03d}"], v[i]) for i in range(n))
