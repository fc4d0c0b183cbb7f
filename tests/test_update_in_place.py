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


def test_a_folder_that_becomes_a_file_and_a_file_in_a_new_folder_are_moved_in(tmp_path):
    out = _site(tmp_path)
    (out / "map" / "old").mkdir(parents=True)
    (out / "map" / "old" / "tile.txt").write_text("tile")
    staging = _staged(out, {"map/old": "now a file", "years/2020/page-2/index.html": "2020, page 2"})
    update_in_place(staging, out, ["map/old", "years/2020/page-2/index.html"], [])
    assert _tree(out) == {"index.html": "home", "drawings/a/index.html": "a", "drawings/b/index.html": "b",
                          "data/old.csv": "old", "map/old": "now a file",
                          "years/2020/page-2/index.html": "2020, page 2"}
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
             *(f"drawings/{i:03d}/index.html" for i in range(600))]   # parts of 256 folders: three
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
    monkeypatch.setattr(fsutil, "PARALLEL_WALK_FOLDERS", 4)   # 604 second-level folders: shared out when it can fork
    assert fsutil.walk_files(root, workers=1) == expected
    unpacked = []
    monkeypatch.setattr(fsutil, "_unpacked", lambda *rows, unpack=fsutil._unpacked: unpacked.append(1) or unpack(*rows))
    assert fsutil.walk_files(root, workers=2) == expected
    assert bool(unpacked) == fsutil.can_fork()   # a forked process's rows came back packed
    sizes = dict((rel, size) for rel, size, *_ in fsutil.walk_files(root))
    assert sizes["drawings/b/link.html"] == os.lstat(root / "drawings" / "b" / "link.html").st_size \
        != len("x" * names.index("a.html")), "a link is a file of its own, not followed"
    assert fsutil.walk_files(tmp_path / "none") == []


def test_pictures_already_in_the_site_are_kept_by_the_cache_listing_and_others_linked(tmp_path):
    """Updated in place, a picture that is already the cache's file is kept without its path being made; one whose
    listed number does not match (a file system that lists other numbers) is looked at and linked all the same."""
    import os
    from types import SimpleNamespace

    from generator.fsutil import linked_file_digest
    from generator.pipeline.cache import Cache
    from generator.pipeline.stages import PictureFiles
    from generator.site.images import write_pictures
    from generator.site.output import PreviousSite, SiteOutput

    cache = Cache(tmp_path / "cache")
    pictures = PictureFiles(cache, "tag")
    pictures.digests = {"d1": "aa11", "d2": "bb22"}
    for item in pictures.digests:
        for path in pictures[item]:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(path.name.encode())
    assert pictures.listing()("d1") == tuple(os.stat(p).st_ino for p in pictures["d1"])
    site, files = tmp_path / "site", {}
    for item in pictures.digests:   # the previous site: both drawings' pictures, linked from the cache
        for path, rel in zip(pictures[item], (f"images/drawings/{item}.thumb.webp", f"images/drawings/{item}.webp")):
            (site / rel).parent.mkdir(parents=True, exist_ok=True)
            os.link(path, site / rel)
            st = os.stat(site / rel)
            files[rel] = [st.st_size, st.st_mtime_ns, linked_file_digest(st.st_ino)]
    listed = pictures.listing()
    asked: list[str] = []

    class Pictures(dict):   # d2's thumbnail listed under another number; which items' paths were made
        def listing(self):
            def inodes(item_id):
                thumb, display = listed(item_id)
                return (thumb + 10**9 if item_id == "d2" else thumb), display
            return inodes

        def __getitem__(self, item_id):
            asked.append(item_id)
            return pictures[item_id]

    staging = tmp_path / "staging"
    out = SiteOutput(staging, title="t", csp="", previous=PreviousSite(site, {}, files, in_place=True))
    ctx = SimpleNamespace(site=SimpleNamespace(pictures=Pictures(pictures.digests), artworks=[],
                                               drawings=[SimpleNamespace(id="d1"), SimpleNamespace(id="d2")]),
                          image_base=None)
    write_pictures(ctx, out)
    assert asked == ["d2"]   # d1's paths never made; d2's looked at: the very file after all, so kept too
    assert sorted(out.kept) == sorted(files) and not (staging / "images").exists()
    # A picture that is not yet the site's file is linked into the staging folder.
    files.pop("images/drawings/d1.webp")
    out = SiteOutput(staging, title="t", csp="", previous=PreviousSite(site, {}, files, in_place=True))
    write_pictures(ctx, out)
    assert "images/drawings/d1.webp" not in out.kept
    assert os.stat(staging / "images/drawings/d1.webp").st_ino == os.stat(pictures["d1"][1]).st_ino
    # A new site keeps nothing, so the cache is not listed for it (a listing of 700,000 names held for nothing).
    class Unlisted(Pictures):
        def listing(self):
            raise AssertionError("listed for a new site")
    ctx.site.pictures = Unlisted(pictures.digests)
    fresh = tmp_path / "fresh"
    out = SiteOutput(fresh, title="t", csp="", previous=None)
    write_pictures(ctx, out)
    assert not out.kept and os.stat(fresh / "images/drawings/d2.webp").st_ino == os.stat(pictures["d2"][1]).st_ino


def test_writers_run_beside_the_others_leave_what_they_would_in_turn(tmp_path):
    """Writers run in a forked process meanwhile leave the same files, pages, keys, problems and counts, in the same
    order, as when every writer runs in its turn; a writer after them reads what they wrote; an error comes back."""
    import pytest

    from generator.site.output import SiteOutput
    from generator.site.pages import run_writers

    def writer(name, reads=None):
        def write(ctx, out):
            if reads:   # lists what was written before it, as the data download does
                (out.root / f"{name}.txt").write_text(",".join(sorted(p.name for p in out.root.glob("*.txt"))))
            for n in range(3):
                page = f"{name}/{n}/index.html"
                (out.root / page).parent.mkdir(parents=True, exist_ok=True)
                (out.root / page).write_text(f"{name} {n}")
                out.pages.append(page)
                out.page_keys[page] = f"key-{name}-{n}"
            out.kept.append(f"{name}.css")
            out.problems.append((name, "a problem"))
            out.reused += len(name)
            (out.root / f"{name}.txt").write_text(name) if not reads else None
        write.__name__ = name
        return write

    writers = (writer("a"), writer("bb"), writer("ccc"), writer("dddd"), writer("last", reads=True))

    def run(folder, side):
        out = SiteOutput(tmp_path / folder, title="t", csp="")
        out.root.mkdir()
        run_writers(writers, None, out, side)
        files = {p.relative_to(out.root).as_posix(): p.read_text() for p in sorted(out.root.rglob("*")) if p.is_file()}
        return out.pages, list(out.page_keys.items()), out.kept, out.problems, out.reused, files

    in_turn = run("in-turn", ())
    assert run("beside", (writers[1], writers[3])) == in_turn
    assert in_turn[-1]["last.txt"] == "a.txt,bb.txt,ccc.txt,dddd.txt"

    def broken(ctx, out):
        raise ValueError("a broken writer")
    with pytest.raises(ValueError, match="a broken writer"):
        run_writers((writers[0], broken, writers[2]), None, SiteOutput(tmp_path / "x", title="t", csp=""), (broken,))


def test_the_record_of_the_site_reads_back_and_a_damaged_one_reads_as_none(tmp_path):
    """The record a build leaves of its site (files, page keys) reads back as written; a record cut short, one
    of another format or one from an earlier version (JSON) reads as no record, so the next build renders the
    site whole instead of stopping or trusting it."""
    import marshal

    from generator.pipeline.incremental import STATE_FORMAT, _load_state

    state = {"fingerprint": "f", "out": str(tmp_path), "files": {"index.html": [10, 123456789, "ab"]},
             "pages": {"index.html": "k"}, "problems": [["a.jpg", "unreadable", "replace it", "image"]]}
    path = tmp_path / "site-state.bin"
    path.write_bytes(STATE_FORMAT + marshal.dumps(state, 4))
    assert _load_state(path) == state
    whole = path.read_bytes()
    for damaged in (whole[:len(whole) // 2], whole[len(STATE_FORMAT):], json.dumps(state).encode(), b""):
        path.write_bytes(damaged)
        assert _load_state(path) == {}
    assert _load_state(tmp_path / "none.bin") == {}
