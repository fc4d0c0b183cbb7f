"""A site updated in place: only the changed files are moved in, and an update stopped half way is finished."""

from __future__ import annotations

import json
from pathlib import Path

from generator.fsutil import UPDATE_LIST, recover_interrupted, staging_folder, update_in_place


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def _site(root: Path) -> Path:
    out = root / "site"
    for rel, text in {"index.html": "home", "drawings/a/index.html": "a", "drawings/b/index.html": "b",
                      "data/old.csv": "old"}.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    return out


def _staged(out: Path, files: dict[str, str]) -> Path:
    staging = staging_folder(out)
    for rel, text in files.items():
        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
        (staging / rel).write_text(text)
    return staging


def test_only_the_listed_files_move_and_removed_folders_go(tmp_path):
    out = _site(tmp_path)
    untouched = (out / "drawings" / "a" / "index.html").stat()
    staging = _staged(out, {"index.html": "new home", "drawings/c/index.html": "c"})
    update_in_place(staging, out, ["drawings/c/index.html", "index.html"], ["data/old.csv", "drawings/b/index.html"])
    assert _tree(out) == {"index.html": "new home", "drawings/a/index.html": "a", "drawings/c/index.html": "c"}
    assert not (out / "drawings" / "b").exists() and not (out / "data").exists(), "emptied folders are removed"
    kept = (out / "drawings" / "a" / "index.html").stat()
    assert (kept.st_ino, kept.st_mtime_ns) == (untouched.st_ino, untouched.st_mtime_ns), "an unchanged page stays"
    assert not staging.exists()


def test_an_update_stopped_half_way_is_finished_by_the_next_build(tmp_path):
    out = _site(tmp_path)
    staging = _staged(out, {"index.html": "new home", "drawings/c/index.html": "c"})
    moves, removes = ["drawings/c/index.html", "index.html"], ["drawings/b/index.html"]
    # As a build killed after its list was written and its first file moved would leave it.
    (staging / UPDATE_LIST).write_text(json.dumps({"moves": moves, "removes": removes}))
    (out / "drawings" / "b" / "index.html").unlink()
    (out / "drawings" / "c").mkdir()
    (staging / "drawings" / "c" / "index.html").rename(out / "drawings" / "c" / "index.html")
    dead = staging.with_name(staging.name.rsplit("-", 1)[0] + "-999999999")   # no such process
    staging.rename(dead)
    recover_interrupted(out)
    assert _tree(out) == {"index.html": "new home", "drawings/a/index.html": "a", "drawings/c/index.html": "c",
                          "data/old.csv": "old"}
    assert not dead.exists()


def test_a_staging_folder_without_its_list_is_only_removed(tmp_path):
    out = _site(tmp_path)
    staging = _staged(out, {"index.html": "half written"})
    dead = staging.with_name(staging.name.rsplit("-", 1)[0] + "-999999999")
    staging.rename(dead)
    recover_interrupted(out)
    assert _tree(out)["index.html"] == "home" and not dead.exists()


def test_the_site_is_walked_by_several_processes_as_by_one_in_the_order_of_its_paths(tmp_path, monkeypatch):
    import os

    from generator import fsutil

    root = tmp_path / "site"
    names = ["index.html", "a.html", "images/drawings/x.webp", "images/drawings/y.thumb.webp", "images/top.txt",
             "drawings/b-c/index.html", "drawings/b.html", "drawings/b/index.html", "drawings/b/deep/er/f.json",
             *(f"drawings/{i:03d}/index.html" for i in range(40))]
    for n, rel in enumerate(names):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x" * n)
    os.symlink(root / "a.html", root / "drawings" / "b" / "link.html")
    expected = []
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            expected.append((os.path.relpath(path, root).replace(os.sep, "/"), st.st_size, st.st_mtime_ns, st.st_ino))
    expected.sort()
    monkeypatch.setattr(fsutil, "PARALLEL_WALK_FOLDERS", 4)   # 44 second-level folders: shared out when it can fork
    assert fsutil.walk_files(root, workers=1) == expected
    assert fsutil.walk_files(root, workers=2) == expected
    sizes = dict((rel, size) for rel, size, *_ in fsutil.walk_files(root))
    assert sizes["drawings/b/link.html"] == os.lstat(root / "drawings" / "b" / "link.html").st_size \
        != len("x" * names.index("a.html")), "a link is a file of its own, not followed"
    assert fsutil.walk_files(tmp_path / "none") == []
