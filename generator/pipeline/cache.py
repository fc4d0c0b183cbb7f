"""The content-keyed store under ``.sitegen-cache/``.

Keys come from picture content hashes and settings fingerprints, never from
"the file exists": a changed scan or model gives new keys. Every write is atomic,
and a damaged entry is reported and recomputed, never fatal.

Embeddings live in append-only part files (``embeddings/<model>/part-*.npz``), so
several machines can each compute a shard and the parts simply be copied
together (see the README on sharding).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generator.fsutil import release_pages, sha256_file, write_atomic, write_atomic_with

MAX_PARTS = 16


class Cache:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.warnings: list[str] = []
        self._folders: dict[tuple[str, str], Path] = {}   # (kind, first two letters) -> folder of files
        self.root.mkdir(parents=True, exist_ok=True)

    # ---------------------------------------------------------- content hashes
    def content_hashes(self, paths: list[Path]) -> list[str]:
        """SHA-256 of each file, reusing earlier hashes while size and modification time are unchanged."""
        stamp_file = self.root / "stamps.json"
        try:
            stamps = json.loads(stamp_file.read_text()) if stamp_file.exists() else {}
        except (OSError, ValueError):
            self.warnings.append(f"{stamp_file} was damaged; file hashes are computed again.")
            stamps = {}
        out, changed = [], False
        for path in paths:
            key = os.path.abspath(path)
            try:
                st = path.stat()
            except OSError:
                out.append("")
                continue
            old = stamps.get(key)
            if old and old[0] == st.st_size and old[1] == st.st_mtime_ns:
                out.append(old[2])
                continue
            try:
                digest = sha256_file(path)
            except OSError:
                out.append("")
                continue
            stamps[key] = [st.st_size, st.st_mtime_ns, digest]
            out.append(digest)
            changed = True
        if changed:
            write_atomic(stamp_file, json.dumps(stamps, separators=(",", ":"), sort_keys=True))
        return out

    # ---------------------------------------------------------- embeddings
    def _emb_dir(self, model_fp: str) -> Path:
        return self.root / "embeddings" / model_fp

    def has_embeddings(self, model_fp: str) -> bool:
        """Whether the cache holds vectors of this model (a part file of them), without reading any."""
        folder = self._emb_dir(model_fp)
        return folder.is_dir() and any(folder.glob("part-*.npz"))

    def load_embeddings(self, model_fp: str, wanted: list[str] | None = None,
                        meanwhile: Callable[[], Callable[[], object]] | None = None) -> dict[str, np.ndarray]:
        """Every cached vector for this model, by content hash; with ``wanted``, only those (see
        :func:`_load_wanted`: read in slices, one copy of the vectors in memory, not two; ``meanwhile``: work that
        adds parts, done while the parts already there are read)."""
        if wanted is not None:
            return _load_wanted(self._emb_dir(model_fp), wanted, self.warnings, meanwhile)
        found: dict[str, np.ndarray] = {}
        folder = self._emb_dir(model_fp)
        for part in sorted(folder.glob("part-*.npz")) if folder.is_dir() else []:
            try:
                with np.load(part, allow_pickle=False) as data:
                    keys, vecs = data["keys"], data["vectors"]
                if len(keys) != len(vecs) or vecs.ndim != 2:
                    raise ValueError("keys and vectors differ in length")
            except Exception as exc:
                _damaged(part, exc, self.warnings)
                continue
            for key, vec in zip(keys.tolist(), vecs):
                found[key] = vec
        return found

    def add_embeddings(self, model_fp: str, keys: list[str], vectors: np.ndarray) -> Path | None:
        """Store new vectors as one more part file (safe to run from several processes at once)."""
        if not keys:
            return None
        folder = self._emb_dir(model_fp)
        path = folder / f"part-{uuid.uuid4().hex}.npz"
        write_atomic(path, _npz_bytes(keys=np.array(keys), vectors=np.asarray(vectors, np.float32)))
        return path

    def stored_keys(self, model_fp: str) -> set[str]:
        """The hashes whose vectors the cache holds for this model, from the part files' lists of keys alone (the
        vectors are not read). A part whose list cannot be read is left out; one whose vectors turn out damaged
        is reported, and removed, when they are read (:meth:`load_embeddings`)."""
        keys: set[str] = set()
        folder = self._emb_dir(model_fp)
        for part in sorted(folder.glob("part-*.npz")) if folder.is_dir() else []:
            keys.update(_keys_or_none(part))   # damaged: reported (and removed) when its vectors are read
        return keys

    def compact_embeddings(self, model_fp: str) -> None:
        """Merge many small part files into one, so loading stays fast (the vectors of every part, by sorted hash;
        a hash in several parts keeps the vector of the last part, as when loading). The vectors are copied a
        slice at a time through a mapped table, never all in memory (1.8 GB after a first build of 350,000
        pictures, which stores them 256 at a time)."""
        folder = self._emb_dir(model_fp)
        parts = sorted(folder.glob("part-*.npz")) if folder.is_dir() else []
        if len(parts) <= MAX_PARTS:
            return
        parts = parts_to_merge(parts, [part.stat().st_size for part in parts])
        kept = sorted(set().union(*(_keys_or_none(part) for part in parts)))
        known = _load_wanted(folder, kept, self.warnings, only=parts)
        table = known.as_rows(kept)
        if table is None and known.found is not None:   # a part was damaged (and removed): the others' vectors
            kept = [k for k, good in zip(kept, known.found.tolist()) if good]
            known = _load_wanted(folder, kept, self.warnings, only=[part for part in parts if part.exists()])
            table = known.as_rows(kept)
        if table is None:
            kept = []
        new = None
        if kept:
            new = folder / f"part-{uuid.uuid4().hex}.npz"
            write_atomic_with(new, lambda fh: _write_npz_by_slices(fh, np.array(kept), table))
        for part in parts:
            if part != new:
                part.unlink(missing_ok=True)

    # ---------------------------------------------------------- derived arrays
    def get_arrays(self, kind: str, key: str) -> dict[str, np.ndarray] | None:
        path = self.root / kind / f"{key}.npz"
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        except Exception as exc:
            self.warnings.append(f"The cached {kind} {path.name} was damaged ({type(exc).__name__}); "
                                 "it is computed again.")
            path.unlink(missing_ok=True)
            return None

    def put_arrays(self, kind: str, key: str, **arrays: np.ndarray) -> None:
        write_atomic(self.root / kind / f"{key}.npz", _npz_bytes(**arrays))

    # ---------------------------------------------------------- files (thumbnails, display images)
    def file_path(self, kind: str, name: str) -> Path:
        # The name joined to its folder's path, made once per folder (a path parsed whole per picture took 2 s
        # for the 200,000 pictures of a build, and a third more memory: the parts are shared this way).
        folder = self._folders.get((kind, name[:2]))
        if folder is None:
            folder = self._folders[(kind, name[:2])] = Path(self._folder_place(kind, name))
        return folder / name

    def file_place(self, kind: str, name: str) -> str:
        """:meth:`file_path` as a string, with no path object made (350,000 of them held by the map's items took
        about 200 MB through a first build's pages)."""
        return f"{self._folder_place(kind, name)}/{name}"

    def _folder_place(self, kind: str, name: str) -> str:
        return f"{os.fspath(self.root)}/{kind}/{name[:2]}"

    def file_inodes(self, kind: str) -> dict[str, int]:
        """File name -> the file's inode number, for every file stored under ``kind``, as the folders' listings
        give them (no look at each file). Where a file system lists other numbers than it gives a file on its own
        (some layered ones do), a number here only fails to match, and the file is looked at after all."""
        found: dict[str, int] = {}
        try:
            with os.scandir(self.root / kind) as folders:
                for folder in folders:
                    if folder.is_dir(follow_symlinks=False):
                        with os.scandir(folder.path) as files:
                            found.update((f.name, f.inode()) for f in files)
        except FileNotFoundError:
            pass
        return found

    def file_names(self, kind: str) -> set[str]:
        """The names of every file stored under ``kind`` (one listing of its folders instead of a look at each
        file: 200,000 pictures are checked in a fraction of a second)."""
        names: set[str] = set()
        try:
            with os.scandir(self.root / kind) as folders:
                for folder in folders:
                    if folder.is_dir(follow_symlinks=False):
                        with os.scandir(folder.path) as files:
                            names.update(f.name for f in files if f.is_file())
        except FileNotFoundError:
            pass
        return names


class EmbeddingWriter:
    """Stores vectors as they arrive, as part files of at least ``every`` pictures or ``seconds`` apart.

    Used where vectors come back from other processes batch by batch: an interrupted run loses
    only the pictures not stored yet (call :meth:`flush` on the way out), and the folder does not
    fill with one small file per batch.
    """

    def __init__(self, cache: Cache, model_fp: str, every: int = 256, seconds: float = 10.0):
        self.cache, self.model_fp, self.every, self.seconds = cache, model_fp, every, seconds
        self._keys: list[str] = []
        self._vectors: list[np.ndarray] = []
        self._last = time.monotonic()

    def add(self, keys: list[str], vectors: np.ndarray) -> None:
        if len(keys) != len(vectors):
            raise ValueError("one vector per key")
        self._keys.extend(keys)
        self._vectors.extend(np.asarray(vectors, np.float32))
        if len(self._keys) >= self.every or time.monotonic() - self._last >= self.seconds:
            self.flush()

    def flush(self) -> None:
        if self._keys:
            self.cache.add_embeddings(self.model_fp, self._keys, np.stack(self._vectors))
        self._keys, self._vectors, self._last = [], [], time.monotonic()


class KnownVectors(dict):
    """Vectors by content hash (:meth:`Cache.load_embeddings` with ``wanted``); the vectors read from the cache
    are the rows of ``table`` (a read-only map of a file), row i that of the i-th hash of ``order``, so a
    caller wanting every one in that order can take ``table`` as it is instead of copying the rows."""

    table: np.ndarray | None = None
    order: list[str] = []
    found: np.ndarray | None = None   # per row of ``table``: whether its vector was read
    read = 0   # distinct hashes found in the cache

    def as_rows(self, hashes: list[str]) -> np.ndarray | None:
        """``table`` when it holds exactly the vectors of ``hashes``, in their order (each read from the cache,
        none added since), else None."""
        if (self.table is not None and self.found is not None and len(self) == self.read
                and len(self.table) == len(hashes) and bool(self.found.all()) and self.order == hashes):
            return self.table
        return None


#: Rows read at a time from a part file (8 MB of 1280 float32 numbers).
PART_SLICE = 1024
#: Bytes of a part file read at a time to check its vectors against their checksum.
CHECK_BLOCK = 8 << 20


def parts_to_merge(parts: list, sizes: list[int]) -> list:
    """The part files that :meth:`Cache.compact_embeddings` merges: all of them, or, when the largest holds at least
    three times as many bytes as all the others together (a first build's vectors, then a few pictures added at
    each rebuild), all but the largest, which is left as it is. Merging every part rewrote the largest each time
    (about 3 s at 100,000 pictures, every sixteenth build that adds drawings); the others grow to a third of it
    before it is rewritten with them. (A hash held by the largest part and by another is one picture's vector
    computed twice by the same model: which copy is read does not matter.)

    >>> parts_to_merge(["big", "a", "b"], [1000, 10, 20]), parts_to_merge(["big", "a", "b"], [100, 30, 20])
    (['a', 'b'], ['big', 'a', 'b'])
    """
    largest = max(range(len(parts)), key=sizes.__getitem__)
    if sizes[largest] >= 3 * (sum(sizes) - sizes[largest]):
        return [part for i, part in enumerate(parts) if i != largest]
    return list(parts)


def _keys_or_none(part: Path) -> list[str]:
    """The hashes a part file lists, or none when its list cannot be read (it is reported when its vectors are)."""
    try:
        return _part_keys(part).tolist()
    except Exception:
        return []


def _load_wanted(folder: Path, wanted: list[str], warnings: list[str],
                 meanwhile: Callable[[], Callable[[], object]] | None = None,
                 only: list[Path] | None = None) -> "KnownVectors":
    """The vectors of the ``wanted`` hashes in the part files of ``folder`` (a damaged part is said in ``warnings``
    and removed), gathered into a table whose row i holds the vector of ``wanted[i]`` (a hash listed twice has
    two rows; rows not found stay zeros; a hash in several parts takes the vector of the last part). A part
    file is never read whole (at 350,000 pictures its vectors are 1.8 GB): its vectors are mapped where they lie
    in the file (:func:`_open_part`) and the table is written a slice of rows at a time, in its order, to a
    file next to the parts, then mapped read-only: the build's stages read it a slice at a time and let the
    pages go (:func:`generator.fsutil.release_pages`), so the vectors are never all in memory. The file is
    removed as soon as it is mapped (the map stays readable until the last view of it goes), so nothing is
    left behind and the part files stay the only stored copy.

    ``meanwhile``: started once the part files on disk are listed (it embeds the pictures the cache lacks, in
    another process, and stores them as new parts); the function it returns waits for that work and is called
    once those parts are read (in every case: what it raised is raised here); the parts it added are read
    then. A rebuild that adds 100 pictures to 100,000 reads the 100,000 vectors while the 100 are embedded.
    ``only``: these part files of ``folder``, not every one (the parts being merged)."""
    order = list(wanted)
    rows_of: dict[str, list[int]] = {}
    for i, h in enumerate(order):
        rows_of.setdefault(h, []).append(i)
    found = KnownVectors()
    found.order = order
    _remove_stale_tables(folder)

    def parts() -> list[Path]:
        if only is not None:
            return sorted(only)
        return sorted(folder.glob("part-*.npz")) if folder.is_dir() else []

    path = folder / f"rows-{uuid.uuid4().hex}.npy.tmp"
    try:
        listed = parts()
        wait = meanwhile() if meanwhile is not None else None
        try:
            first = _open_parts(listed, None, warnings)
            sources = _Sources(first, rows_of, len(order))
            if first and order:
                with open(path, "wb") as fh:
                    _write_rows(fh, first, sources, first[0].dim)
        finally:
            if wait is not None:
                wait()
        # A part added meanwhile holds pictures no listed part held; read after them, as a later part is
        # (a hash in two parts keeps the vector of the part read last).
        every = first + _open_parts(sorted(set(parts()) - set(listed)), first[0].dim if first else None, warnings)
        sources.take(every[len(first):], len(first), rows_of)
        slow = [p for p, part in enumerate(every) if (part.mapped is None or p >= len(first)) and sources.uses(p)]
        if not path.exists() and slow:
            with open(path, "wb") as fh:   # zeros, where the rows below are written
                _table_header(fh, len(order), every[0].dim)
                fh.truncate(fh.tell() + len(order) * every[0].dim * 4)
        if not path.exists():
            return found
        if slow:
            table = np.load(path, mmap_mode="r+")
            for p in slow:
                _scatter(table, every[p], sources, p, warnings)
            del table
        # No flush to the disk: the file is read back through the same page cache (and removed below).
        found.table = np.load(path, mmap_mode="r")
    finally:
        try:
            path.unlink()   # the map keeps the file's pages until it is closed
        except OSError:
            pass
    found.found = sources.part >= 0
    rows = found.table.view(np.ndarray)    # plain views (a memmap view per hash costs more)
    for i in np.flatnonzero(found.found).tolist():
        if order[i] not in found:
            found[order[i]] = rows[i]
    found.read = len(found)
    return found


def _remove_stale_tables(folder: Path) -> None:
    """Tables left by a build stopped while writing one (or on a system that cannot remove a mapped file); a day
    old, so never the table of a build running now."""
    for old in folder.glob("rows-*.npy.tmp") if folder.is_dir() else []:
        try:
            if time.time() - old.stat().st_mtime > 86400:
                old.unlink()
        except OSError:
            pass


def _damaged(part: Path, exc: Exception, warnings: list[str]) -> None:
    """A part file that cannot be read: said, and removed, so that its pictures are embedded again."""
    warnings.append(f"The cached embeddings {part.name} were damaged ({type(exc).__name__}); "
                    "those pictures are computed again.")
    part.unlink(missing_ok=True)


@dataclass
class _OpenPart:
    path: Path
    keys: np.ndarray
    dim: int
    mapped: np.ndarray | None   # its vectors where they lie in the file; None: read in slices


def _open_parts(listed: list[Path], dim: int | None, warnings: list[str]) -> list[_OpenPart]:
    """Each readable part of ``listed`` opened (:func:`_open_part`); vectors of another length than ``dim`` (else
    than the first part's) count as damage."""
    out = []
    for part in listed:
        try:
            opened = _open_part(part)
            dim = opened.dim if dim is None else dim
            if opened.dim != dim:
                raise ValueError("vectors of another length")
            out.append(opened)
        except Exception as exc:
            _damaged(part, exc, warnings)
    return out


class _Sources:
    """For each row of the table: the part (its place in the list of opened parts, -1: none) and the row there that
    hold its vector, the last part holding a hash winning."""

    def __init__(self, opened: list[_OpenPart], rows_of: dict[str, list[int]], n: int):
        self.part, self.row = np.full(n, -1, np.int32), np.zeros(n, np.int64)
        self.take(opened, 0, rows_of)

    def take(self, opened: list[_OpenPart], first: int, rows_of: dict[str, list[int]]) -> None:
        for p, part in enumerate(opened, start=first):
            at = [(n, r) for n, k in enumerate(part.keys.tolist()) for r in rows_of.get(k, ())]
            if at:
                src, dst = (np.array(x, np.int64) for x in zip(*at))
                self.part[dst], self.row[dst] = p, src

    def uses(self, p: int) -> bool:
        return bool((self.part == p).any())


def _write_rows(fh, opened: list[_OpenPart], sources: _Sources, dim: int) -> None:
    """The table (header and rows, in order), a slice at a time, from the mapped parts; rows of other parts stay
    zeros here (:func:`_scatter` writes them)."""
    n = len(sources.part)
    _table_header(fh, n, dim)
    maps = [part.mapped for part in opened if part.mapped is not None]
    for lo in range(0, n, PART_SLICE):
        hi = min(n, lo + PART_SLICE)
        block = np.zeros((hi - lo, dim), np.float32)
        where = sources.part[lo:hi]
        for p in np.unique(where[where >= 0]).tolist():
            if opened[p].mapped is not None:
                mine = where == p
                block[mine] = opened[p].mapped[sources.row[lo:hi][mine]]
        fh.write(memoryview(block).cast("B"))   # its bytes, without a copy of them
        release_pages(*maps)


def _scatter(table: np.ndarray, part: _OpenPart, sources: _Sources, p: int, warnings: list[str]) -> None:
    """The rows of ``table`` whose vectors lie in ``part`` (the ``p``-th opened), read from it a slice at a time."""
    mine_all = sources.part == p
    try:
        start = 0
        for _, vecs in _part_slices(part.path):
            mine = np.flatnonzero(mine_all & (sources.row >= start) & (sources.row < start + len(vecs)))
            table[mine] = vecs[sources.row[mine] - start]
            start += len(vecs)
            release_pages(table)
    except Exception as exc:
        table[mine_all] = 0
        sources.part[mine_all] = -1
        _damaged(part.path, exc, warnings)


def _part_keys(part: Path) -> np.ndarray:
    """The hashes a part file lists (its vectors are not read)."""
    import zipfile

    with zipfile.ZipFile(part) as z, z.open("keys.npy") as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def _table_header(fh, rows: int, dim: int) -> None:
    """The header of a ``.npy`` file of ``rows`` x ``dim`` float32 numbers."""
    np.lib.format.write_array_header_2_0(fh, {"descr": "<f4", "fortran_order": False, "shape": (rows, dim)})


def _npy_header(f) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and type of the table of vectors whose ``.npy`` header ``f`` reads."""
    version = np.lib.format.read_magic(f)
    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                   else np.lib.format.read_array_header_2_0)
    shape, fortran, dtype = read_header(f)
    if len(shape) != 2 or fortran or dtype.hasobject:
        raise ValueError("not a table of vectors")
    return shape, dtype


def _open_part(part: Path) -> _OpenPart:
    """A part file's keys, and its vectors mapped where they lie in it when they are float32 stored without
    compression (as this cache writes them), checked against the archive's checksum; a part stored otherwise is
    read in slices. Raises for a part whose vectors do not fit its keys or its file."""
    import struct
    import zipfile
    import zlib

    with zipfile.ZipFile(part) as z:
        with z.open("keys.npy") as f:
            keys = np.lib.format.read_array(f, allow_pickle=False)
        info = z.getinfo("vectors.npy")
        with z.open(info) as f:
            shape, dtype = _npy_header(f)
    if shape[0] != len(keys):
        raise ValueError("keys and vectors differ in length")
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1 or dtype != np.float32 or not shape[0]:
        return _OpenPart(part, keys, int(shape[1]), None)
    with open(part, "rb", buffering=0) as fh:
        fh.seek(info.header_offset)
        local = fh.read(30)
        if len(local) != 30 or local[:4] != b"PK\x03\x04":
            raise ValueError("damaged entry")
        start = info.header_offset + 30 + sum(struct.unpack("<HH", local[26:30]))
        # The member's checksum, as reading it through the archive checks it: a block at a time into one buffer (a
        # map of the whole file would hold every page of it while the sum is made: 1.8 GB for 350,000 pictures).
        crc, left, block = 0, info.compress_size, bytearray(CHECK_BLOCK)
        fh.seek(start)
        while left:
            with memoryview(block)[:min(left, CHECK_BLOCK)] as view:
                n = fh.readinto(view)
                if not n:
                    raise ValueError("the file ends early")
                crc = zlib.crc32(view[:n], crc)
            left -= n
    if crc != info.CRC:
        raise ValueError("the vectors do not match their checksum")
    offset = start + info.compress_size - shape[0] * shape[1] * 4   # the rows end where the member does
    return _OpenPart(part, keys, int(shape[1]), np.memmap(part, np.float32, "r", offset, tuple(shape)))


def _part_slices(part: Path):
    """(keys, vectors) of a part file, ``PART_SLICE`` rows at a time, without reading its vectors whole."""
    import zipfile

    with zipfile.ZipFile(part) as z:
        with z.open("keys.npy") as f:
            keys = np.lib.format.read_array(f, allow_pickle=False)
        with z.open("vectors.npy") as f:
            shape, dtype = _npy_header(f)
            if len(keys) != shape[0]:
                raise ValueError("keys and vectors differ in length")
            row_bytes = shape[1] * dtype.itemsize
            for start in range(0, shape[0], PART_SLICE):
                n = min(PART_SLICE, shape[0] - start)
                raw = f.read(n * row_bytes)
                if len(raw) != n * row_bytes:
                    raise ValueError("the file ends early")
                yield keys[start:start + n], np.frombuffer(raw, dtype).reshape(n, shape[1]).astype(np.float32)


def _write_npz_by_slices(fh, keys: np.ndarray, vectors: np.ndarray) -> None:
    """An ``.npz`` of ``keys`` and ``vectors`` (float32) as ``np.savez`` writes it, the vectors a slice at a time
    (they may be a mapped table: its pages are let go after each slice)."""
    import zipfile

    vectors = np.asarray(vectors)
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
        with z.open("keys.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array(f, keys, allow_pickle=False)
        with z.open("vectors.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, np.lib.format.header_data_from_array_1_0(
                np.empty((0, vectors.shape[1]), np.float32)) | {"shape": (len(vectors), vectors.shape[1])})
            for start in range(0, len(vectors), PART_SLICE):
                f.write(np.ascontiguousarray(vectors[start:start + PART_SLICE], np.float32).tobytes())
                release_pages(vectors)


def _npz_bytes(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def feed_array_bytes(h, array: np.ndarray) -> None:
    """Add the bytes of ``array`` (C order) to the digest ``h``, a slice of rows at a time, each read where it is:
    the same digest as its ``tobytes()``, without a copy of it (the build's vectors are 1.8 GB at 350,000
    pictures, and may be a map of a file, whose pages are let go after each slice)."""
    rows = array.reshape(len(array), -1) if array.ndim > 1 and array.size else array.reshape(1, -1)
    step = max(1, (8 << 20) // max(1, rows[:1].nbytes))
    for start in range(0, len(rows), step):
        data = np.ascontiguousarray(rows[start:start + step])
        h.update(memoryview(data).cast("B") if not data.dtype.hasobject and data.size else data.tobytes())
        release_pages(array)


def array_key(*parts) -> str:
    """A cache key from arrays and strings."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(str(part.shape).encode())
            h.update(str(part.dtype).encode())
            feed_array_bytes(h, part)
        else:
            h.update(str(part).encode())
        h.update(b"|")
    return h.hexdigest()[:24]
