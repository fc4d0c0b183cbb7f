"""A build with nothing to do: its inputs are those of the last finished build and its site is still on disk.

Before any stage runs, the build takes a stamp of everything it reads (:func:`inputs_stamp`): the path, size
and modification time of every file under the drawings' and artworks' folders and of every other file a setting
names (the artworks' list, the pairs, the review decisions, the countries' table, the model's weights), every
setting, the code, templates and static files, and the versions of the libraries that compute the pictures'
vectors and the map. A file's content is trusted unchanged while its size and time are, as for the cached
hashes of the pictures (``Cache.content_hashes``) and as version control tools do.

When the stamp is the one recorded by the last finished build into this output folder, and the site on disk
(and the folder of display pictures, with ``--image-base-url``) still has the sizes and times that build left,
the build is over: it reports again what the last one reported (the same counts and problems), with nothing
computed. Anything else runs the stages as usual; each of them still reuses what it can.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from importlib import metadata
from pathlib import Path

from generator.fsutil import is_picture, write_atomic
from generator.inputs.problems import Problem
from generator.pipeline.cache import array_key
from generator.pipeline.incremental import assets_digest, found_files
from generator.pipeline.report import BuildReport
from generator.settings import BuildSettings

#: Libraries whose version can change the vectors, the neighbours, the map or the pages.
LIBRARIES = ("torch", "torchvision", "timm", "numpy", "pillow", "opencv-contrib-python-headless", "umap-learn",
             "scikit-learn", "jinja2", "babel", "onnx", "onnxruntime")
#: Raised when the record's layout changes: an old record is then never trusted.
VERSION = 2

_REPORT_FIELDS = ("drawings", "artworks", "pairs", "verso_skipped", "warnings", "notes", "site_bytes", "site_files",
                  "embedded_line")


def _tree(h, root: Path) -> None:
    """Every file below ``root``, in a fixed order: its path, size and modification time (links not followed,
    as a link leaving the folder is refused by the collection anyway and its target is stamped where it is)."""
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            h.update(f"unreadable {folder} {exc.errno}\n".encode())
            continue
        subfolders = []
        for e in entries:
            try:
                if e.is_dir(follow_symlinks=False):
                    subfolders.append(Path(e.path))
                    h.update(f"d {e.path}\n".encode())
                    continue
                st = e.stat()   # a link: its target's size and time (a linked folder's own files are stamped
                                # where they lie when inside the folder; the collection refuses them elsewhere)
            except OSError:
                h.update(f"? {e.path}\n".encode())
                continue
            h.update(f"f {e.path} {st.st_size} {st.st_mtime_ns}\n".encode())
        stack.extend(reversed(subfolders))


def _file(h, path: Path) -> None:
    try:
        st = os.stat(path)
        h.update(f"file {os.path.abspath(path)} {st.st_size} {st.st_mtime_ns} {st.st_ino}\n".encode())
    except OSError as exc:
        h.update(f"file {os.path.abspath(path)} missing {exc.errno}\n".encode())


def _versions() -> str:
    found = []
    for name in LIBRARIES:
        try:
            found.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name}=-")
    return ",".join(found)


def inputs_stamp(settings: BuildSettings) -> str:
    """A digest of everything the build reads (see the module's text)."""
    h = hashlib.sha256(f"inputs-v{VERSION}\n{settings.fingerprint()}\n{assets_digest()}\n{_versions()}\n".encode())
    for value in (getattr(settings, f.name) for f in dataclasses.fields(settings)):
        for path in (value if isinstance(value, tuple) else (value,)):
            if isinstance(path, Path) and path not in (settings.out, settings.cache):
                if path.is_dir() and path in (settings.drawings, settings.artworks):
                    h.update(f"tree {os.path.abspath(path)}\n".encode())
                    _tree(h, Path(os.path.abspath(path)))
                else:
                    _file(h, path)
    model = Path(str(settings.model))
    if model.suffix == ".pt":
        _file(h, model)
    return h.hexdigest()


def output_stamp(settings: BuildSettings, images_out: Path | None, site_files: dict | None = None) -> str:
    """A digest of the sizes and times of every file the build wrote (of a picture, the file it is: see
    :func:`generator.fsutil.linked_file_digest`). ``site_files``: the site's manifest when the build has just made
    it (the same rows a walk through the site would find; one walk fewer)."""
    h = hashlib.sha256(b"output-v3\n")
    for root, rows in ((settings.out, site_files), (images_out, None)):
        if root is not None:
            rows = found_files(root) if rows is None else rows   # a picture's row ends with the file it is
            lines = [f"{rel} {rows[rel][2]}\n" if is_picture(rel) else f"{rel} {rows[rel][0]} {rows[rel][1]}\n"
                     for rel in sorted(rows)]
            h.update(f"tree {os.path.abspath(root)}\n".encode())
            h.update("".join(lines).encode())
    return h.hexdigest()


def _record_file(settings: BuildSettings) -> Path:
    return settings.cache / f"last-build-{array_key(os.path.abspath(settings.out))[:12]}.json"


def unchanged_report(settings: BuildSettings, stamp: str) -> BuildReport | None:
    """The last finished build's report, when ``stamp`` is its inputs' stamp and its site is still on disk."""
    try:
        record = json.loads(_record_file(settings).read_text())
    except (OSError, ValueError):
        return None
    if record.get("version") != VERSION or record.get("inputs") != stamp:
        return None
    images_out = Path(record["images_out"]) if record.get("images_out") else None
    if record.get("output") != output_stamp(settings, images_out):
        return None
    report = BuildReport(out=settings.out, images_out=images_out, **{k: record[k] for k in _REPORT_FIELDS})
    report.problems = [Problem(*p) for p in record["problems"]]
    report.computed = {k: 0 for k in record["computed"]}
    return report


def record_build(settings: BuildSettings, stamp: str, report: BuildReport) -> None:
    """Remember a finished build: its inputs' stamp, its site's stamp and its report."""
    record = {"version": VERSION, "inputs": stamp,
              "output": output_stamp(settings, report.images_out, report.site_manifest),
              "images_out": str(report.images_out) if report.images_out else None,
              "problems": [[p.file, p.reason, p.fix, p.kind, p.skipped] for p in report.problems],
              "computed": sorted(report.computed), **{k: getattr(report, k) for k in _REPORT_FIELDS}}
    write_atomic(_record_file(settings), json.dumps(record, ensure_ascii=False))
