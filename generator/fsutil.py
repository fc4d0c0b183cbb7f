"""File-system helpers: atomic writes, links, the staging swap, updates in place and path-safety checks."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from array import array
from operator import itemgetter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from generator.errors import UnsafePathError
from generator.forks import can_fork, in_forks, usable_cores

# mkstemp creates files readable by their owner only; published files must be readable by a web server.
_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK


def write_atomic(path: str | Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, so readers never see half a file."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    write_atomic_with(path, lambda fh: fh.write(data))


def write_atomic_with(path: str | Path, write) -> None:
    """Call ``write(binary_file)`` on a temporary file, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def is_within(child: str | Path, parent: str | Path) -> bool:
    """True when ``child`` is ``parent`` or lies below it (after resolving links).

    >>> is_within("/a/b/c", "/a/b"), is_within("/a/bc", "/a/b"), is_within("/a/b/../../etc", "/a/b")
    (True, False, False)
    """
    child_r = Path(os.path.realpath(child))
    parent_r = Path(os.path.realpath(parent))
    return child_r == parent_r or parent_r in child_r.parents


def resolve_inside(base: str | Path, relative: str, what: str) -> Path:
    """Resolve a path named in a CSV against ``base``, refusing anything that escapes it."""
    rel = relative.replace("\\", "/")
    if rel.startswith("/") or (len(rel) > 1 and rel[1] == ":"):
        raise UnsafePathError(f"{what}: '{relative}' is an absolute path. Name files relative to {base}.")
    candidate = Path(base) / rel
    if not is_within(candidate, base):
        raise UnsafePathError(f"{what}: '{relative}' points outside {base}. Name files relative to that folder.")
    return candidate


def check_output_folder(out: str | Path, inputs: list[str | Path]) -> None:
    """Refuse an output folder that is, contains, or lies inside an input folder (nothing is deleted first)."""
    for inp in inputs:
        if inp is None:
            continue
        if is_within(inp, out):
            raise UnsafePathError(
                f"The output folder {out} contains the input folder {inp}; building there would delete it. "
                "Choose an output folder outside your collection, for example --out site.")
        if is_within(out, inp) and Path(inp).is_dir():
            raise UnsafePathError(
                f"The output folder {out} lies inside the input folder {inp}; the site would be scanned as "
                "part of the collection. Choose an output folder outside it, for example --out site.")
    home = Path.home()
    if Path(os.path.realpath(out)) in (Path("/"), home.resolve()):
        raise UnsafePathError(f"Refusing to use {out} as the output folder: it would replace {out}. Use --out site.")


def link_or_copy(src: str | Path, dest: str | Path) -> None:
    """Hard-link ``src`` to ``dest`` (no extra disk space), or copy it where links are refused.

    The copy keeps the file's times, so a file recorded by size and time is still recognised.
    """
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


#: A tree with at least this many folders at its second level is walked by two processes (a site of 100,000
#: drawings has a folder for each drawing's page: one process spent 3.6 s opening and reading them and looking at
#: their 310,000 files, two 2.6 s).
PARALLEL_WALK_FOLDERS = 2000


def walk_files(root: str | Path, *, workers: int | None = None,
               pictures_by_inode: bool = False) -> list[tuple[str, int, int, int]]:
    """(path relative to ``root`` with ``/``, size, modification time in nanoseconds, inode) of every file below
    ``root``, sorted by path; [] when ``root`` is not a folder. Links are not followed: a link is a file of its
    own size and time. The inode is the number the folder lists (no file is opened or looked at for it).

    ``pictures_by_inode``: a picture's size and time are not looked up (-1, -1 in their place): the file it is
    stands for it (see :func:`linked_file_digest`). A site of 100,000 drawings has 214,000 pictures among its
    325,000 files: looking at each took most of a walk's time besides reading the folders.

    The folders of the second level are shared out to this process and forked ones when there are many. All the
    paths below one folder follow each other in the sorted list (they begin with its path), so each process returns
    its folders' files already in order and the parts only need merging.
    """
    root = os.fspath(root)
    if not os.path.isdir(root):
        return []
    rows: list[tuple[str, int, int, int]] = []   # the files of the top two levels
    folders: list = []   # the second level's folders: (path on disk, path in the tree + "/"), by first-level folder
    for entry, rel in _entries(root, ""):
        if entry.is_dir(follow_symlinks=False):
            here = []
            for sub, sub_rel in _entries(entry.path, rel + "/"):
                if sub.is_dir(follow_symlinks=False):
                    here.append((sub.path, sub_rel + "/"))
                else:
                    rows.append(_file_row(sub, sub_rel, pictures_by_inode))
            # A folder with few sister folders first: those tend to be the large ones (a site's pictures: 200,000
            # files in one folder), the thousands of small ones (a folder per page) after, so that no large folder
            # is left for the end while the other processes wait.
            folders.append((len(here), sorted(here, key=_SECOND)))
        else:
            rows.append(_file_row(entry, rel, pictures_by_inode))
    folders = [folder for _, group in sorted(folders, key=_FIRST) for folder in group]

    here = os.getpid()

    def part(lo: int, hi: int) -> list[tuple[str, int, int, int]] | tuple[bytes, array]:
        found: list[tuple[str, int, int, int]] = []
        for path, rel in folders[lo:hi]:
            found += sorted(_rows_below(path, rel, pictures_by_inode), key=_FIRST)
        return found if os.getpid() == here else _packed(found)

    if workers is None:
        workers = min(2, usable_cores())
    if workers > 1 and len(folders) >= PARALLEL_WALK_FOLDERS and can_fork():
        for found in in_forks(part, len(folders), workers, 256):
            rows += found if isinstance(found, list) else _unpacked(*found)
    else:
        rows += part(0, len(folders))
    rows.sort(key=_FIRST)   # long runs already in order: merged, not sorted again
    return rows


_FIRST, _SECOND = itemgetter(0), itemgetter(1)


def _entries(folder: str, prefix: str):
    with os.scandir(folder) as it:
        return [(e, prefix + e.name) for e in it]


def _file_row(entry: os.DirEntry, rel: str, pictures_by_inode: bool = False) -> tuple[str, int, int, int]:
    if pictures_by_inode and is_picture(rel):
        return rel, -1, -1, entry.inode()
    st = entry.stat(follow_symlinks=False)
    return rel, st.st_size, st.st_mtime_ns, entry.inode()


def is_picture(rel: str) -> bool:
    """Whether a file of a built site is one of its pictures (see :func:`linked_file_digest`).

    >>> is_picture("images/drawings/2009_14-17_1234_DEU.thumb.webp"), is_picture("drawings/x/index.html")
    (True, False)
    """
    return rel.endswith(".webp")


def _packed(rows: list[tuple[str, int, int, int]]) -> tuple[bytes, array]:
    """Rows sent back by a forked process as two blocks (paths, numbers): a million rows as Python tuples sent
    whole, and the copies made on the way, took a few hundred megabytes more at the end of a first build."""
    numbers = array("q")
    for _, size, mtime, inode in rows:
        numbers.extend((size, mtime, inode))
    return "\0".join(rel for rel, *_ in rows).encode("utf-8", "surrogateescape"), numbers


def _unpacked(paths: bytes, numbers: array) -> list[tuple[str, int, int, int]]:
    if not numbers:
        return []
    return list(zip(paths.decode("utf-8", "surrogateescape").split("\0"), numbers[0::3], numbers[1::3],
                    numbers[2::3]))


def _rows_below(folder: str, prefix: str, pictures_by_inode: bool = False) -> list[tuple[str, int, int, int]]:
    rows, stack = [], [(folder, prefix)]
    while stack:
        here, rel = stack.pop()
        with os.scandir(here) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    stack.append((e.path, f"{rel}{e.name}/"))
                else:
                    rows.append(_file_row(e, rel + e.name, pictures_by_inode))
    return rows


def linked_file_digest(inode: int) -> str:
    """What stands for the content of a published picture in a site's manifest: the file it is (its inode).
    Pictures are hard links into the build cache, named by their content, so the same file is the same picture.
    A rebuild checks the site's pictures by this alone, not by their sizes and times: a picture replaced or
    removed is noticed, one written over where it lies is not (it is the cache's own file too)."""
    return f"i{inode}"


def _previous(out: Path) -> Path:
    return out.parent / f".{out.name}.previous"


@contextmanager
def staged(out: str | Path) -> Iterator[Path]:
    """A fresh staging folder beside ``out``; swapped in for ``out`` when the block ends without error.

    The swap is two renames, so a crash leaves one complete folder (:func:`recover_interrupted`
    puts the previous one back); on an error the staging folder is removed and ``out`` is untouched.
    """
    out = Path(out)
    staging = out.parent / f".{out.name}.building-{os.getpid()}"
    try:
        staging = staging_folder(out)
        yield staging
        old = _previous(out)
        if old.exists():
            shutil.rmtree(old)
        if out.exists():
            os.replace(out, old)
        os.replace(staging, out)
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def staging_folder(out: str | Path) -> Path:
    """A fresh, empty staging folder beside ``out`` (the one :func:`staged` and :func:`update_in_place` use)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.building-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    return staging


#: The list of an update in place, written into its staging folder before the first file moves.
UPDATE_LIST = ".sitegen-update.json"


def update_in_place(staging: Path, out: Path, moves: list[str], removes: list[str]) -> None:
    """Bring ``out`` up to date from ``staging``: delete the files ``removes`` from ``out`` and move the files
    ``moves`` (paths relative to both folders) from ``staging`` into it, then remove ``staging``.

    Each file is replaced by a rename, so a reader never sees half a file, and only the files that changed are
    touched (a site of 300,000 files gaining 100 drawings moves a few thousand). Both lists are written into the
    staging folder first: a build killed half way is finished by :func:`recover_interrupted`.
    """
    write_atomic(Path(staging) / UPDATE_LIST, json.dumps({"moves": moves, "removes": removes}))
    _apply_update(Path(staging), Path(out), moves, removes)
    shutil.rmtree(staging)   # what is left of it: the folders emptied as their files moved are gone already


def _apply_update(staging: Path, out: Path, moves: list[str], removes: list[str]) -> None:
    emptied = set()
    for rel in removes:   # first, so that a file that becomes a folder (or the reverse) makes way
        dest = out / rel
        try:
            if dest.is_dir() and not dest.is_symlink():
                shutil.rmtree(dest)
            else:
                dest.unlink()
        except FileNotFoundError:
            pass
        emptied.update(p for p in Path(rel).parents if str(p) != ".")
    # One rename a file where its folder is there (most of them), and the staging folder each file leaves, once
    # empty, removed at once: 4,200 files moved in 0.8 s instead of 1.2 s with the staging folder's removal
    # after (a page is a folder of its own there).
    top = str(staging)
    for rel in moves:
        src, dest = os.path.join(top, rel), os.path.join(out, rel)
        try:
            os.replace(src, dest)
        except FileNotFoundError:
            if not os.path.lexists(src):
                continue   # moved before the build was stopped
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            os.replace(src, dest)
        except OSError as exc:   # a folder becomes a file (IsADirectoryError, or ENOTEMPTY on some systems)
            if not os.path.isdir(dest) or os.path.islink(dest):
                raise exc
            shutil.rmtree(dest)
            os.replace(src, dest)
        folder = os.path.dirname(src)
        if folder != top:
            try:
                os.rmdir(folder)
            except OSError:
                pass   # other files still to move from it
    for folder in sorted(emptied, key=lambda p: len(p.parts), reverse=True):
        try:
            os.rmdir(out / folder)   # only when the removals left it empty
        except OSError:
            pass


def recover_interrupted(out: str | Path) -> None:
    """Undo what a killed build left: restore the previous folder, finish an update in place that had begun,
    remove dead staging folders."""
    out = Path(out)
    old = _previous(out)
    if old.is_dir() and not out.exists():
        os.replace(old, out)  # killed between the two renames of the swap
    for stale in out.parent.glob(f".{out.name}.building-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            listed = stale / UPDATE_LIST
            if listed.is_file() and out.is_dir():
                try:
                    todo = json.loads(listed.read_text())
                except (OSError, ValueError):
                    todo = None
                if todo is not None:   # killed while moving the files in: finish
                    _apply_update(stale, out, todo["moves"], todo["removes"])
            shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_pages(*arrays) -> None:
    """Let go of the pages this process has read of memory-mapped arrays (views of them included); an array
    in memory is left alone.

    The build's vectors are a read-only table on disk (350,000 pictures are 1.8 GB): a stage that walks them
    slice by slice calls this after each slice, so it holds one slice, not every page it has read so far. The
    pages stay in the system's file cache, and reading them again maps them again (nothing is lost)."""
    import mmap

    if not hasattr(mmap, "MADV_DONTNEED"):
        return
    seen: set[int] = set()
    for array in arrays:
        mapped = _file_map(array)
        if mapped is not None and id(mapped) not in seen:
            seen.add(id(mapped))
            mapped.madvise(mmap.MADV_DONTNEED)


def return_free_memory() -> None:
    """Hand the memory this process has freed back to the system (the C library's ``malloc_trim``, where there is
    one: Linux with glibc). The library keeps freed blocks for later use, and after a stage's large arrays are
    freed it can hold hundreds of megabytes nobody uses, counted in the build's memory until the end; a build
    calls this between its stages. Elsewhere it does nothing."""
    trim = _c_library("malloc_trim")
    if trim is not None:
        trim(0)


def _c_library(name: str):
    """The C library's function ``name`` from the symbols the process already has (no file looked for), or None
    where there is none (not Linux with glibc)."""
    if os.name != "posix":
        return None
    import ctypes

    try:
        return getattr(ctypes.CDLL(None), name, None)
    except (OSError, TypeError):
        return None


def keep_freed_memory() -> bool:
    """Have the C library keep the memory this process frees for its next allocations, large blocks included,
    instead of handing them back to the system at once (glibc's ``mallopt``; elsewhere nothing is done: False).

    A network's forward pass allocates and frees tens of megabytes for each layer. Handed back and asked for again,
    every page of them was made anew by the system: 1.48 million page faults for 112 pictures of 280 pixels, half of
    the time of embedding them (3.1 s against 1.4-1.5 s for the same vectors, bit for bit). Only for a process
    that embeds pictures and then ends: its memory stays at its peak until then."""
    mallopt = _c_library("mallopt")
    if mallopt is None:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3   # glibc's names for the two settings
    return bool(mallopt(m_mmap_threshold, 1 << 30)) and bool(mallopt(m_trim_threshold, 1 << 30))


def is_mapped(array) -> bool:
    """Whether ``array`` is (a view of) a map of a file whose pages :func:`release_pages` lets go."""
    return _file_map(array) is not None


def _file_map(array):
    base, depth = array, 0
    while base is not None and depth < 32:
        mapped = getattr(base, "_mmap", None)
        if mapped is not None:
            # Never a copy-on-write map ("c"): its pages hold the only copy of what was written to them.
            return mapped if getattr(base, "mode", "c") != "c" and not mapped.closed else None
        base, depth = getattr(base, "base", None), depth + 1
    return None
