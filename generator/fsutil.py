"""File-system helpers: atomic writes, links, the staging swap and path-safety checks."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from generator.errors import UnsafePathError

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


def _previous(out: Path) -> Path:
    return out.parent / f".{out.name}.previous"


@contextmanager
def staged(out: str | Path) -> Iterator[Path]:
    """A fresh staging folder beside ``out``; swapped in for ``out`` when the block ends without error.

    The swap is two renames, so a crash leaves one complete folder (:func:`recover_interrupted`
    puts the previous one back); on an error the staging folder is removed and ``out`` is untouched.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.building-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    try:
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


def recover_interrupted(out: str | Path) -> None:
    """Undo what a killed build left: restore the previous folder, remove dead staging folders."""
    out = Path(out)
    old = _previous(out)
    if old.is_dir() and not out.exists():
        os.replace(old, out)  # killed between the two renames of the swap
    for stale in out.parent.glob(f".{out.name}.building-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
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
