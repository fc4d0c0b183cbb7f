"""Rebuilds do only what changed: a no-op build skips rendering; one new drawing is one new embedding."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.settings import BuildSettings
from generator.pipeline.stages import build

from .helpers import site_drawings, write_jpeg

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("incremental")
    for i in range(30):
        write_jpeg(root / "drawings" / f"2001_6-9_{i:04d}_FRA_R_C.jpg", (80, 60), seed=i)
    for i in range(12):
        write_jpeg(root / "artworks" / f"art_{i}.jpg", (80, 80), seed=100 + i)
    return root


@pytest.fixture()
def collection(pictures, tmp_path) -> Path:
    """A copy of the pictures of its own for each test, with no site or cache yet: no test depends on
    another having run before it."""
    import shutil

    for folder in ("drawings", "artworks"):
        shutil.copytree(pictures / folder, tmp_path / folder)
    return tmp_path


def _settings(root: Path) -> BuildSettings:
    return BuildSettings(drawings=root / "drawings", artworks=root / "artworks", out=root / "site",
                         cache=root / "cache")


def test_rebuilds_do_only_what_changed(collection):
    settings = _settings(collection)
    first = build(settings)
    assert first.computed["embeddings"] == 42 and first.computed["pages"] > 42
    page = settings.out / "drawings" / first_drawing(settings.out) / "index.html"
    stamp = page.stat().st_mtime_ns

    again = build(settings)
    assert again.computed["embeddings"] == 0 and again.computed["neighbours"] == 0
    assert again.computed["layout"] == 0 and again.computed["pages"] == 0, "nothing changed: no rendering"
    assert page.stat().st_mtime_ns == stamp
    assert (again.site_files, again.site_bytes) == (first.site_files, first.site_bytes)

    # A user edits the built site: the next build notices and writes it again.
    page.write_text("edited")
    fixed = build(settings)
    assert fixed.computed["pages"] > 0 and page.read_text() != "edited"

    # One new drawing: exactly one picture embedded, the pages that differ reported.
    write_jpeg(collection / "drawings" / "2002_6-9_9999_DEU_R_C.jpg", (80, 60), seed=999)
    added = build(settings)
    assert added.computed["embeddings"] == 1
    assert added.computed["pages"] > 0 and 0 < added.computed["files_changed"] < added.site_files
    assert added.drawings == first.drawings + 1


def test_with_nothing_changed_the_build_stops_at_once_and_reports_the_same(collection):
    """Before any stage, the build compares its inputs (files' sizes and times, settings, code) and its site on
    disk with the last finished build's: the same, and it reports again what that build reported. Any change
    to an input or to the site runs the stages again."""
    settings = _settings(collection)
    write_jpeg(collection / "drawings" / "scan 0001.jpg", (80, 60), seed=7)   # a problem for the report
    first = build(settings)
    again = build(settings)
    assert list(again.timings) == ["changes"], "no stage ran"
    assert set(again.computed) == set(first.computed) and not any(again.computed.values())
    assert again.problems == first.problems and again.problems
    assert again.lines()[:2] == first.lines()[:2]
    assert any("Nothing changed" in n for n in again.notes)

    def runs_stages(report) -> bool:
        return "collection" in report.timings

    # a picture touched (same content, new time): the stages run, and find nothing to compute
    drawing = sorted((collection / "drawings").glob("2001_*.jpg"))[0]
    t = drawing.stat().st_mtime_ns + 10**9
    os.utime(drawing, ns=(t, t))
    touched = build(settings)
    assert runs_stages(touched) and touched.computed["embeddings"] == 0 and touched.computed["pages"] == 0
    assert not runs_stages(build(settings))
    # a page of the built site removed: written again
    page = settings.out / "drawings" / first_drawing(settings.out) / "index.html"
    page.unlink()
    assert runs_stages(build(settings)) and page.is_file()
    # a picture of the built site replaced by a copy of itself (the same bytes, another file): it is checked by
    # the file it is (the cache's own, linked), not by its size and time, and the copy is noticed
    picture = sorted((settings.out / "images" / "drawings").glob("*.webp"))[0]
    linked = picture.stat().st_ino
    copy = picture.with_name("copy")
    copy.write_bytes(picture.read_bytes())
    os.replace(copy, picture)
    assert runs_stages(build(settings)) and picture.stat().st_ino == linked, "linked from the cache again"
    assert not runs_stages(build(settings))
    # a list of pairs given, a setting changed, a drawing added in a new folder
    pairs = collection / "pairs.csv"
    pairs.write_text("drawing,artwork\n2001_6-9_0000_FRA_R_C.jpg,art_0.jpg\n")
    with_pairs = build(settings.replace(pairs=pairs))
    assert runs_stages(with_pairs) and with_pairs.pairs == 1
    pairs.write_text("drawing,artwork\n2001_6-9_0001_FRA_R_C.jpg,art_1.jpg\n")
    assert runs_stages(build(settings.replace(pairs=pairs)))
    assert runs_stages(build(settings.replace(pairs=pairs, page_size=7)))
    write_jpeg(collection / "drawings" / "2003" / "2003_6-9_0500_ITA_R_C.jpg", (80, 60), seed=500)
    added = build(settings.replace(pairs=pairs, page_size=7))
    assert runs_stages(added) and added.drawings == first.drawings + 1
    assert not runs_stages(build(settings.replace(pairs=pairs, page_size=7)))


def test_changed_settings_render_again(collection):
    settings = _settings(collection)
    build(settings)
    retitled = build(settings.replace(title="Another title"))
    assert retitled.computed["pages"] > 0 and retitled.computed["embeddings"] == 0


def test_speed_settings_and_a_moved_cache_render_nothing(collection):
    """Batch size, device, precision and where the cache lives change how a site is made, never its pages."""
    import shutil

    from generator.ml.device import choose_device, choose_precision

    settings = _settings(collection)
    build(settings)
    moved = collection / "cache-moved"
    shutil.copytree(settings.cache, moved)
    device = choose_device("auto")
    again = build(settings.replace(cache=moved, batch_size=3, device=device, strict=True,
                                   precision=choose_precision("auto", device)))
    assert again.computed["embeddings"] == 0 and again.computed["pages"] == 0


def first_drawing(site: Path) -> str:
    return sorted(os.listdir(site / "drawings"))[0]


def test_adding_a_drawing_rerenders_only_changed_pages(tmp_path):
    """Unchanged pages are linked from the previous site; the result equals a build from scratch."""
    from generator.settings import BuildSettings
    from generator.pipeline.stages import build

    from .helpers import write_jpeg

    for i in range(30):
        write_jpeg(tmp_path / "d" / f"2001_6-9_{i:04d}_FRA_R_C.jpg", (48, 48), seed=i)
    for i in range(10):
        write_jpeg(tmp_path / "a" / f"art_{i}.jpg", (48, 48), seed=100 + i)
    settings = BuildSettings(drawings=tmp_path / "d", artworks=tmp_path / "a", out=tmp_path / "site",
                             cache=tmp_path / "cache", similar_drawings=2, artwork_drawings=3)
    first = build(settings)
    assert first.computed["pages_reused"] == 0
    import shutil

    shutil.copytree(tmp_path / "cache", tmp_path / "cache2")  # the same state, for a comparison build
    write_jpeg(tmp_path / "d" / "2019_18-25_0999_JPN_R_C.jpg", (48, 48), seed=999)
    folder, home = (tmp_path / "site").stat().st_ino, (tmp_path / "site" / "robots.txt").stat()
    second = build(settings)
    # Updated in place: the same folder (not a new one swapped in); a file written again with the same bytes
    # is left as it was.
    assert (tmp_path / "site").stat().st_ino == folder
    kept = (tmp_path / "site" / "robots.txt").stat()
    assert (kept.st_ino, kept.st_mtime_ns) == (home.st_ino, home.st_mtime_ns)
    assert second.computed["embeddings"] == 1
    assert second.computed["pages_reused"] > 0 and second.computed["pages"] > 0
    assert any("1 new drawing compared with the whole collection" in n for n in second.notes), second.notes   # not searched in full
    # The same build into an empty folder renders every page and searches every drawing again (the last
    # lists forgotten), and gives the same bytes.
    (tmp_path / "cache2" / "neighbours" / "last.json").unlink()
    scratch = build(settings.replace(out=tmp_path / "scratch", cache=tmp_path / "cache2"))
    assert scratch.computed["pages_reused"] == 0
    assert not any("compared with the whole collection" in n for n in scratch.notes)

    def tree(root):
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    assert tree(tmp_path / "site") == tree(tmp_path / "scratch")
    drawings = site_drawings(tmp_path / "site")
    assert len(drawings) == 31


def test_a_drawing_page_changes_with_what_it_shows_of_the_artworks(tmp_path):
    """A drawing page is kept by what it is made from: an artwork's new title (or artist) reaches every drawing page
    that shows it, updated in place, as a build from scratch would show it."""
    import csv

    for i in range(12):
        write_jpeg(tmp_path / "d" / f"2001_6-9_{i:04d}_FRA_R_C.jpg", (48, 48), seed=i)
    for i in range(4):
        write_jpeg(tmp_path / "a" / f"art_{i}.jpg", (48, 48), seed=100 + i)

    def artworks(title):
        with open(tmp_path / "artworks.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["file", "title", "artist"])
            w.writerows([[f"art_{i}.jpg", title if i == 0 else f"Painting {i}", "Someone"] for i in range(4)])

    artworks("The Old Title")
    settings = BuildSettings(drawings=tmp_path / "d", artworks=tmp_path / "a", artworks_csv=tmp_path / "artworks.csv",
                             out=tmp_path / "site", cache=tmp_path / "cache")
    build(settings)
    pages = sorted((tmp_path / "site" / "drawings").glob("*/index.html"))
    assert any("The Old Title" in p.read_text() for p in pages)
    artworks("A New Title")
    again = build(settings)
    assert again.computed["embeddings"] == 0 and again.computed["pages"] > 0
    assert not any("The Old Title" in p.read_text() for p in pages)
    scratch = build(settings.replace(out=tmp_path / "scratch"))
    for p in pages:
        assert p.read_bytes() == (tmp_path / "scratch" / p.relative_to(tmp_path / "site")).read_bytes(), p


def test_vectors_found_damaged_in_the_cache_are_computed_again(collection):
    """The build knows which pictures the cache holds from its lists of keys and reads the vectors once, at the
    end: a part whose list reads but whose vectors are damaged is reported, and its pictures embedded again."""
    settings = _settings(collection)
    build(settings)
    part = max((settings.cache / "embeddings").rglob("part-*.npz"), key=lambda p: p.stat().st_size)
    raw = bytearray(part.read_bytes())
    raw[len(raw) // 2] ^= 0xFF   # inside the vectors: the list of keys, at the start, still reads
    part.write_bytes(bytes(raw))
    write_jpeg(collection / "drawings" / "2002_6-9_9998_DEU_R_C.jpg", (80, 60), seed=998)
    again = build(settings)
    assert again.computed["embeddings"] == 43   # the 42 of the damaged part and the new drawing
    assert again.drawings == 31 and not [p for p in again.problems if p.kind == "image"]
    assert any(part.name in w for w in again.warnings)


def test_lists_stored_under_another_key_for_the_same_drawings_are_not_searched_again(collection, monkeypatch):
    """The neighbour lists of the very same drawings, found through the last build's record under a key made
    another way (an older version's), are taken as they are: no search of the whole collection."""
    import json

    import generator.ml.neighbours as neighbours

    settings = _settings(collection)
    first = build(settings)
    record = settings.cache / "neighbours" / "last.json"
    last = json.loads(record.read_text())
    (settings.cache / "neighbours" / f"{last['key']}.npz").rename(settings.cache / "neighbours" / "older-key.npz")
    record.write_text(json.dumps({**last, "key": "older-key"}))

    def searched(*args, **kwargs):
        raise AssertionError("the whole collection was searched again")
    monkeypatch.setattr(neighbours, "top_k_without", searched)
    again = build(settings.replace(title="Another title"))   # pages again; the lists from the older key
    assert again.computed["neighbours"] == 1 and again.computed["embeddings"] == 0
    assert again.drawings == first.drawings
    assert json.loads(record.read_text())["key"] == last["key"]   # stored under this version's key again


def test_a_rebuild_embeds_new_drawings_with_the_network_loaded_while_the_collection_was_read(tmp_path):
    """In a process that has not loaded the network library (as `sitegen build` starts), a rebuild's new drawing is
    embedded by the process that loaded the network meanwhile, not in the embedding stage's turn; its vector is
    the one a build from scratch computes."""
    import subprocess
    import sys
    import textwrap

    for i in range(20):
        write_jpeg(tmp_path / "d" / f"2001_6-9_{i:04d}_FRA_R_C.jpg", (48, 48), seed=i)
    for i in range(6):
        write_jpeg(tmp_path / "a" / f"art_{i}.jpg", (48, 48), seed=100 + i)
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
        from tests.helpers import write_jpeg
        import generator.pipeline.stages as stages
        from generator.pipeline.cache import Cache
        from generator.settings import BuildSettings

        root = Path({str(tmp_path)!r})
        settings = BuildSettings(drawings=root / "d", artworks=root / "a", out=root / "site", cache=root / "cache",
                                 find_page=False)
        stages.build(settings)
        write_jpeg(root / "d" / "2019_18-25_0999_JPN_R_C.jpg", (48, 48), seed=999)

        def in_turn(*args, **kwargs):
            raise AssertionError("the network was loaded in the embedding stage's turn")
        stages._embed_beside, embed_beside = in_turn, stages._embed_beside
        added = stages.build(settings)
        assert added.computed["embeddings"] == 1 and "torch" not in sys.modules, added.computed
        stages._embed_beside = embed_beside
        fresh = settings.replace(out=root / "scratch", cache=root / "cache2")
        stages.build(fresh)
        key = stages.embedding_key(settings)[0]
        new = Cache(settings.cache).content_hashes([root / "d" / "2019_18-25_0999_JPN_R_C.jpg"])
        mine, theirs = (Cache(c).load_embeddings(key, wanted=new).as_rows(new) for c in (settings.cache, fresh.cache))
        assert mine.tobytes() == theirs.tobytes()
        print("embedded beforehand")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "embedded beforehand" in done.stdout, done.stderr[-3000:]


def test_a_rebuild_adding_drawings_makes_the_map_sheets_while_the_groups_are_made(collection):
    """In a process that has not loaded the network library (as `sitegen build` starts), a rebuild that places a few
    new drawings into the last map computes the groups in a forked process while this one makes the pictures and
    the map's new picture sheets; the pages' stage then finds every sheet made (none made again by the process
    that writes the map), and the site is the same as from a build that runs its stages in turn."""
    import subprocess
    import sys
    import textwrap

    from generator.forks import can_fork, usable_cores

    if usable_cores() < 2 or not can_fork():
        pytest.skip("the groups are made beside the pictures only on two cores or more, where processes fork")
    script = textwrap.dedent(f"""
        import os
        import shutil
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
        from tests.helpers import write_jpeg
        import generator.pipeline.stages as stages
        from generator.pipeline import atlas
        from generator.settings import BuildSettings

        root = Path({str(collection)!r})
        settings = BuildSettings(drawings=root / "drawings", artworks=root / "artworks", out=root / "site",
                                 cache=root / "cache", find_page=False)
        stages.build(settings)
        shutil.copytree(root / "cache", root / "cache-copy")
        write_jpeg(root / "drawings" / "2003_10-13_0777_BRA_R_C.jpg", (80, 60), seed=777)
        log = root / "sheets.log"
        make_sheets = atlas._make_sheets

        def logged(parts, level, workers):   # which process made sheets (a forked one appends to the same file)
            if parts:
                with open(log, "a") as fh:
                    fh.write(f"{{os.getpid()}} {{len(parts)}}\\n")
            return make_sheets(parts, level, workers)
        atlas._make_sheets = logged
        again = list(stages.build(settings).timings)
        assert again.index("pictures") < again.index("groups"), again
        made = [line.split() for line in log.read_text().splitlines()]
        assert made and {{int(pid) for pid, _ in made}} == {{os.getpid()}}, made
        # In turn, from the same cache: the same site.
        atlas._make_sheets = make_sheets
        stages.map_beside = lambda *args: None
        turn = list(stages.build(settings.replace(out=root / "in-turn", cache=root / "cache-copy")).timings)
        assert turn.index("groups") < turn.index("pictures"), turn

        def tree(top):
            return {{p.relative_to(top).as_posix(): p.read_bytes() for p in sorted(top.rglob("*")) if p.is_file()}}
        assert tree(root / "site") == tree(root / "in-turn")
        print("made beforehand")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "made beforehand" in done.stdout, done.stderr[-3000:]
