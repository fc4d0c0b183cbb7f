"""Does sitegen scale to the real archive? One table, one command.

    python benchmarks/bench_scale.py [--drawings 100000 --artworks 250000] [--quick]
                                     [--stages neighbours,layout,find_index,render] [--full-neighbours]

Every stage runs in its own process, so its peak RSS (``resource.getrusage``) is its
own. Inputs are synthetic (normalised random vectors; a clustered cloud for the map;
fake drawings and artworks whose pictures are two tiny real WebP files), so no
collection or model is needed.

* neighbours: exact top-10 drawing -> artwork, sitegen's ``top_k`` against faiss-cpu's
  exact ``IndexFlatIP`` on the same vectors (same run, ratio printed), on a scaled case
  (20k x 50k by default; the work is n x m, so time extrapolates linearly in n x m).
  faiss is not a dependency of sitegen: ``pip install -e '.[bench]'`` installs it.
  The full-size memory case holds all 100k + 250k vectors and times a slice of the
  queries; ``--full-neighbours`` runs all of them (about 6 minutes here).
* layout: seeded UMAP (PCA to 50 first) of drawings + artworks' share of 110k points,
  then placing 100 new points into that map.
* find_index: the find page's index of every artwork (vectors that vary along 96
  directions, as a network's do), made and written as the build does: time, peak RSS,
  parts, how many a query reads, bytes written.
* build_setup, build_embeddings, build_neighbours, build_layout, build_groups, build_find_index: a first
  build's stages as ``build`` runs them, from a cache holding every picture's vector (``build_setup`` writes it
  once under ``--tmp``: network-like vectors of all drawings and artworks in one part file). Each stage's own
  result is computed again (its cached result removed first; ``build_groups`` reads the neighbour lists of a
  ``build_neighbours`` run); the peak of reading the vectors and the peak of the stage alone are printed apart
  (``VmHWM``, reset through ``/proc/self/clear_refs`` between them). The results stay in the case's cache
  (``find-index.npz`` beside it), to compare the bytes of two versions of the code. ``build_merge`` cuts the
  case's vectors into parts of 256 (as a build that embeds its pictures stores them) and merges them again.
* build: the whole first build end to end (``bench_rebuild.py --first-only`` on a generated collection of
  this size, kept under ``--tmp``): each stage's time and peak memory, the site's megabytes by kind.
* Every run prints the yardstick of ``yardstick.py`` at its start and end (plain Python and matrix products timed
  in the same run) and each time divided by its plain-Python time: the figure to compare between machines.
* render: pages per second for the synthetic site through ``render.Renderer``
  (thumbnails are hard links and timed separately as "pictures"), and the site's size:
  pages and data against the 400 MB budget, the artworks' own pages apart.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench_rebuild import peak_since_last_mb  # noqa: E402  (this folder is on the path when run as a script)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def unit_vectors(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, d), np.float32)
    for s in range(0, n, 16384):  # in slices: no float64 copy of the whole array
        x = rng.standard_normal((min(16384, n - s), d), dtype=np.float32)
        out[s:s + len(x)] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def timed(fn, repeat: int = 1):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


# ------------------------------------------------------------------ stages (each in a child process)

def stage_neighbours(a) -> list[dict]:
    import faiss
    import torch

    from generator.ml.neighbours import top_k

    rows = []
    n, m, d = a.nb_drawings, a.nb_artworks, a.dim
    q, g = unit_vectors(n, d, 1), unit_vectors(m, d, 2)
    stats: dict = {}
    t_ours, (idx, sim) = timed(lambda: top_k(q, g, 10, stats=stats), a.repeat)
    faiss.omp_set_num_threads(torch.get_num_threads())
    index = faiss.IndexFlatIP(d)
    index.add(g)
    t_faiss, (f_sim, f_idx) = timed(lambda: index.search(q, 10), a.repeat)
    agree = float(np.mean(np.sort(f_idx, 1) == np.sort(idx, 1)))
    pairs = n * m
    full = a.drawings * a.artworks
    rows.append(dict(stage="neighbours top-10 (sitegen)", size=f"{n:,} x {m:,} x {d}", secs=t_ours,
                     rate=f"{pairs / t_ours / 1e6:.0f} M pairs/s", rss=peak_rss_mb(),
                     target=f"<= faiss ({t_faiss:.1f} s)", met=t_ours <= t_faiss,
                     note=f"{stats.get('precision')} candidates, {stats.get('uncertified')} rows re-checked; "
                          f"faiss/sitegen = {t_faiss / t_ours:.2f}x; same top-10 sets as faiss: {agree:.4%}"))
    rows.append(dict(stage="neighbours top-10 (faiss IndexFlatIP)", size=f"{n:,} x {m:,} x {d}", secs=t_faiss,
                     rate=f"{pairs / t_faiss / 1e6:.0f} M pairs/s", rss=peak_rss_mb(), target="reference",
                     met=None, note=""))
    rows.append(dict(stage="neighbours extrapolated", size=f"{a.drawings:,} x {a.artworks:,}",
                     secs=t_ours * full / pairs, rate="", rss=None, target="", met=None,
                     note=f"faiss extrapolated {t_faiss * full / pairs:.0f} s; the build also runs "
                          "drawing->drawing and artwork->drawing: x"
                          f"{(a.drawings * a.artworks * 2 + a.drawings ** 2) / full:.1f} this"))
    return rows


def stage_neighbours_full(a) -> list[dict]:
    """All vectors of the real size in memory; a slice of the queries (or all) timed."""
    from generator.ml.neighbours import top_k

    n, m, d = a.drawings, a.artworks, a.dim
    q, g = unit_vectors(n, d, 3), unit_vectors(m, d, 4)
    part = n if a.full_neighbours else min(n, a.full_slice)
    t, _ = timed(lambda: top_k(q[:part], g, 10))
    est = t * n / part
    return [dict(stage="neighbours full-size memory", size=f"{part:,} of {n:,} x {m:,} x {d}", secs=t,
                 rate=f"{part * m / t / 1e6:.0f} M pairs/s", rss=peak_rss_mb(), target="RSS < 4 GB",
                 met=peak_rss_mb() < 4096, note=f"all {n:,} queries: {est:.0f} s"
                                                 + (" (measured)" if part == n else " (extrapolated)"))]


def clustered(n: int, d: int, seed: int, clusters: int = 200) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, d)).astype(np.float32)
    x = centres[rng.integers(0, clusters, n)] + 0.8 * rng.standard_normal((n, d), dtype=np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def latent_vectors(sizes: list[int], d: int, seed: int, directions: int = 96,
                   clusters: int = 500) -> list[np.ndarray]:
    """Sets of unit vectors (one of each size) that vary along the same ``directions`` directions (clusters in a
    small space mapped into ``d`` numbers, plus noise), as a network's do; made a slice at a time (a million
    are 5 GB, with no drafts)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, directions), dtype=np.float32)
    mixing = rng.standard_normal((directions, d), dtype=np.float32) / np.sqrt(directions)
    sets = []
    for n in sizes:
        out = np.empty((n, d), np.float32)
        for s in range(0, n, 65536):
            m = min(65536, n - s)
            latent = centres[rng.integers(0, clusters, m)] + 0.7 * rng.standard_normal((m, directions),
                                                                                         dtype=np.float32)
            v = latent @ mixing + 0.15 * rng.standard_normal((m, d), dtype=np.float32)
            out[s:s + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
        sets.append(out)
    return sets


def stage_find_index(a) -> list[dict]:
    """The find page's index of every artwork, as the build makes and writes it (labels included)."""
    from generator.contracts import CompactIndex
    from generator.ml.findindex import compact_index
    from generator.site.findpage import write_index_files
    from generator.site.output import SiteOutput

    n, d = a.artworks, a.dim
    vectors = latent_vectors([n, a.drawings], d, 8)   # the artworks', then the drawings'
    t, index = timed(lambda: compact_index(*vectors))
    assert isinstance(index, CompactIndex)
    vectors = None   # (the vectors freed)
    rss_index = peak_rss_mb()
    with tempfile.TemporaryDirectory(dir=a.tmp) as tmp:
        rows = [[f"a{j:07d}", f"Artwork {j}", f"Artist {j % 50}", str(1500 + j % 400),
                 f"artworks/a{j:07d}/index.html", f"images/artworks/a{j:07d}.thumb.webp"] for j in range(n)]
        out = SiteOutput(Path(tmp), title="bench", csp="")
        t_write, (projection, entry) = timed(lambda: write_index_files(out, index, rows))
        files = list((Path(tmp) / "find").iterdir())
        size = sum(f.stat().st_size for f in files)
        labels = sum(f.stat().st_size for f in files if f.name.startswith("labels-"))
    probe = entry["probe"]
    parts = len(entry["parts"])
    return [dict(stage="find page index (projection, parts, agreement)", size=f"{n:,} artworks x {d}", secs=t,
                 rate=f"{n / t:,.0f} artworks/s", rss=rss_index, target="", met=None,
                 note=f"{index.dims} numbers each; {parts:,} parts, a query reads {probe}; top-10 agreement "
                      f"{index.overlap:.1%} on {index.queries} drawings"),
            dict(stage="find page index written (codes, labels)", size=f"{len(files):,} files", secs=t_write,
                 rate="", rss=peak_rss_mb(), target="", met=None,
                 note=f"{size / 1e6:,.0f} MB, of which labels {labels / 1e6:,.0f} MB (counted with the artworks; "
                      "a visitor downloads only what a query reads)")]


def stage_layout(a) -> list[dict]:
    from generator.ml.layout import compute_layout, update_layout

    n = a.layout_points
    x = clustered(n + 100, a.dim, 5)
    t, lay = timed(lambda: compute_layout(x[:n], seed=42))
    rows = [dict(stage="layout (PCA 50 + seeded UMAP)", size=f"{n:,} points", secs=t,
                 rate=f"{n / t:,.0f} points/s", rss=peak_rss_mb(), target="< 600 s", met=t < 600, note=lay.method)]
    from generator.ml.layout import row_digests

    state = {"digests": row_digests(x[:n]), "coords": lay.coords, "method": np.array("UMAP"), "placed": np.array(0)}
    t2, (lay2, _, placed) = timed(lambda: update_layout(x, state, seed=42))
    rows.append(dict(stage="layout + 100 new points (placed)", size=f"{n + 100:,} points", secs=t2, rate="",
                     rss=peak_rss_mb(), target="no full UMAP", met=placed == 100,
                     note=f"{placed} placed by k-NN; in [-1,1]: {bool(np.abs(lay2.coords).max() <= 1)}"))
    return rows


def synthetic_site(n_d: int, n_a: int, folder: Path):
    """Site data of ``n_d`` drawings with IMAJ names and ``n_a`` artworks, random neighbours and map, every
    item's pictures the same two tiny WebP files."""
    from PIL import Image

    from generator.contracts import Embedded, Embeddings, Neighbours
    from generator.inputs.collection import Artwork, Drawing, DrawingName
    from generator.inputs.countries import load_countries
    from generator.settings import BuildSettings
    from generator.site.context import SiteData

    thumb, display = folder / "t.webp", folder / "d.webp"
    Image.new("RGB", (32, 40), (200, 120, 40)).save(thumb, "WEBP")
    Image.new("RGB", (64, 80), (40, 120, 200)).save(display, "WEBP")
    rng = np.random.default_rng(7)
    countries = ["ARG", "BRA", "DEU", "FRA", "IND", "JPN", "KEN", "MEX", "POL", "TUR", "USA", "VNM"]
    ages = ["6-9", "10-13", "14-17"]
    drawings = []
    for i in range(n_d):
        name = DrawingName(year=2000 + i % 20, age_group=ages[i % 3], number=f"{i:06d}",
                           country=countries[i % len(countries)], variant=None, side="R", quality="C")
        rel = f"{name.year}_{name.age_group}_{name.number}_{name.country}_R_C.jpg"
        drawings.append(Drawing(id=name.drawing_id, path=folder / rel, rel=rel, name=name))
    artworks = [Artwork(id=f"artist_{j % 50}_{j}", path=folder / f"a{j}.jpg", rel=f"Artist_{j % 50}/a{j}.jpg",
                        title=f"Artwork {j}", artist=f"Artist {j % 50}", year=str(1500 + j % 400))
                for j in range(n_a)]
    nb = Neighbours(rng.integers(0, n_a, (n_d, 10)), np.sort(rng.random((n_d, 10), np.float32))[:, ::-1].copy(),
                    rng.integers(0, n_d, (n_d, 6)), np.sort(rng.random((n_d, 6), np.float32))[:, ::-1].copy(),
                    rng.integers(0, n_d, (n_a, 12)), np.sort(rng.random((n_a, 12), np.float32))[:, ::-1].copy())
    pairs = [(drawings[i].id, artworks[i % n_a].id) for i in range(0, n_d, 50)]
    pictures = {it.id: (thumb, display) for it in drawings + artworks}
    embeddings = Embeddings(Embedded([d.id for d in drawings], np.zeros((n_d, 4), np.float32)),
                            Embedded([x.id for x in artworks], np.zeros((n_a, 4), np.float32)))
    settings = BuildSettings(out=folder / "site", cache=folder / "cache", find_page=False)
    return SiteData(settings=settings, drawings=drawings, artworks=artworks, pairs=pairs,
                    countries=load_countries(None), artists={}, neighbours=nb,
                    coords=rng.uniform(-1, 1, (n_d + n_a, 2)).astype(np.float32), layout_method="UMAP",
                    pictures=pictures, model_source="synthetic", model_name="synthetic", embeddings=embeddings)


def stage_render(a) -> list[dict]:
    """The whole site written as the build writes it (the map's arrangement and picture sheets, the discoveries,
    every page and data file), without the find page (the find_index stage measures its index)."""
    from generator.pipeline.derive import derive
    from generator.pipeline.incremental import manifest as _manifest
    from generator.site.output import render_workers
    from generator.site.pages import render_site

    with tempfile.TemporaryDirectory(dir=a.tmp) as tmp:
        tmp = Path(tmp)
        site = synthetic_site(a.render_drawings, a.render_artworks, tmp)
        out = tmp / "staging"
        out.mkdir()
        t_pages, result = timed(lambda: render_site(site, out, prepare=derive))
        n_pages = len(result.pages)
        files = _manifest(out)
        size = sum(v[0] for v in files.values())
        by_folder: dict[str, int] = {}
        for rel, row in files.items():
            top = rel.split("/", 1)[0] if "/" in rel else "(top)"
            by_folder[top] = by_folder.get(top, 0) + row[0]
        t_man, _ = timed(lambda: _manifest(out))
    # The 400 MB budget is for the drawings' pages and data; the artworks' own pages, and the pictures, apart.
    pictures, artwork_pages = by_folder.pop("images", 0), by_folder.pop("artworks", 0)
    rest = sum(by_folder.values())
    folders = ", ".join(f"{k} {v / 1e6:,.1f}" for k, v in sorted(by_folder.items(), key=lambda kv: -kv[1])[:6])
    return [dict(stage="render the site (map, pages, data)", size=f"{a.render_drawings:,} d + {a.render_artworks:,} a",
                 secs=t_pages, rate=f"{n_pages / t_pages:,.0f} pages/s", rss=peak_rss_mb(),
                 target=">= 2,000 pages/s", met=n_pages / t_pages >= 2000,
                 note=f"{n_pages:,} pages, {render_workers()} render worker(s); site {len(files):,} files, "
                      f"{size / 1e6:,.0f} MB (pictures are hard links; map sheets made from the same two pictures)"),
            dict(stage="site size: pages + data without the artworks' pages", size=f"{len(files):,} files",
                 secs=float("nan"), rate="", rss=None, target="<= 400 MB", met=rest <= 400e6,
                 note=f"{rest / 1e6:,.1f} MB ({folders} MB); artworks' pages {artwork_pages / 1e6:,.1f} MB; "
                      f"pictures {pictures / 1e6:,.1f} MB (two tiny WebP files, linked)"),
            dict(stage="no-op check (site manifest walk)", size=f"{len(files):,} files", secs=t_man,
                 rate=f"{len(files) / t_man:,.0f} files/s", rss=None, target="part of < 30 s no-op", met=None,
                 note="")]


# ------------------------------------------------------------------ a first build's stages, from a cache

def _build_case(a) -> Path:
    """The folder of a synthetic first build: a cache holding every picture's vector (one part file, as after
    ``sitegen embed`` and a merge), made once per size under ``--tmp``."""
    return Path(a.tmp or tempfile.gettempdir()) / f"sitegen-first-build-{a.drawings}x{a.artworks}x{a.dim}"


def _build_inputs(a):
    from types import SimpleNamespace

    from generator.inputs.collection import Artwork, Drawing, DrawingName
    from generator.settings import BuildSettings

    root = _build_case(a)
    settings = BuildSettings(drawings=root / "drawings", artworks=root / "artworks", out=root / "site",
                             cache=root / "cache")
    countries = ["ARG", "BRA", "DEU", "FRA", "IND", "JPN", "KEN", "MEX", "POL", "TUR", "USA", "VNM"]
    ages = ["6-9", "10-13", "14-17"]
    drawings = []
    for i in range(a.drawings):
        name = DrawingName(year=2000 + i % 20, age_group=ages[i % 3], number=f"{i:06d}",
                           country=countries[i % len(countries)], variant=None, side="R", quality="C")
        rel = f"{name.year}_{name.age_group}_{name.number}_{name.country}_R_C.jpg"
        drawings.append(Drawing(id=name.drawing_id, path=root / "drawings" / rel, rel=rel, name=name))
    artworks = [Artwork(id=f"artist_{j % 50}_{j}", path=root / "artworks" / f"a{j}.jpg",
                        rel=f"Artist_{j % 50}/a{j}.jpg", title=f"Artwork {j}", artist=f"Artist {j % 50}",
                        year=str(1500 + j % 400)) for j in range(a.artworks)]
    hashes = [f"{i:064x}" for i in range(a.drawings + a.artworks)]
    coll = SimpleNamespace(drawings=drawings, artworks=artworks, pairs=[])
    return settings, coll, hashes


def stage_build_setup(a) -> list[dict]:
    """Writes the synthetic case's cache (skipped when it is there): network-like vectors, one part file."""
    from generator.pipeline.stages import embedding_key

    settings, coll, hashes = _build_inputs(a)
    folder = settings.cache / "embeddings" / embedding_key(settings)[0]
    part = folder / "part-0.npz"
    if not part.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        d, g = latent_vectors([a.drawings, a.artworks], a.dim, 9)
        np.savez(folder / "part-0.tmp.npz", keys=np.array(hashes), vectors=np.concatenate([d, g]))
        os.replace(folder / "part-0.tmp.npz", part)
    return [dict(stage="first build: cache written", size=f"{a.drawings:,} d + {a.artworks:,} a x {a.dim}",
                 secs=float("nan"), rate="", rss=peak_rss_mb(), target="", met=None, note=str(part))]


def stage_build_merge(a) -> list[dict]:
    """Merging the many part files a first build that embeds its pictures leaves (one per 256 pictures) into
    one, as the embedding stage does after embedding: peak of the merge alone, and whether the merged part holds
    the case's vectors (same hashes, same bytes)."""

    from generator.pipeline.cache import Cache, _part_slices
    from generator.pipeline.stages import SAVE_EVERY, embedding_key

    settings, _, _ = _build_inputs(a)
    key = embedding_key(settings)[0]
    source = settings.cache / "embeddings" / key / "part-0.npz"
    root = _build_case(a) / "merge-cache"
    shutil.rmtree(root, ignore_errors=True)
    cache = Cache(root)
    for keys, vecs in _part_slices(source):
        for s in range(0, len(keys), SAVE_EVERY):
            cache.add_embeddings(key, keys[s:s + SAVE_EVERY].tolist(), vecs[s:s + SAVE_EVERY])
    parts = len(list((root / "embeddings" / key).glob("part-*.npz")))
    peak_since_last_mb()
    t0 = time.perf_counter()
    cache.compact_embeddings(key)
    t = time.perf_counter() - t0
    rss = peak_since_last_mb()
    merged = list((root / "embeddings" / key).glob("part-*.npz"))
    same = len(merged) == 1
    if same:
        with np.load(source) as a_part, np.load(merged[0]) as b_part:
            order = np.argsort(a_part["keys"])
            same = (np.array_equal(a_part["keys"][order], b_part["keys"])
                    and all(np.array_equal(a_part["vectors"][order[s:s + 16384]], b_part["vectors"][s:s + 16384])
                            for s in range(0, len(order), 16384)))
    shutil.rmtree(root, ignore_errors=True)
    return [dict(stage="first build: merging the cache's parts", size=f"{parts:,} parts", secs=t, rate="", rss=rss,
                 target="<= 2 GB", met=None if rss is None else rss <= 2048,
                 note=f"peak of the merge alone; the merged part holds the same vectors: {same}")]


def _build_stage(a, which: str) -> list[dict]:
    """A first build's stages up to ``which`` from the synthetic case's cache, as ``build`` runs them; the
    stage's own result is computed again (its cached result removed first), those before it read from the
    cache. The peak of the vectors' reading and of the stage alone are given apart."""

    from generator.pipeline import stages
    from generator.pipeline.progress import no_progress
    from generator.pipeline.report import BuildReport

    settings, coll, hashes = _build_inputs(a)
    folder = {"neighbours": "neighbours", "layout": "layout", "groups": "groups"}.get(which)
    if folder:
        shutil.rmtree(settings.cache / folder, ignore_errors=True)
    report = BuildReport(out=settings.out)
    paths = [d.path for d in coll.drawings] + [x.path for x in coll.artworks]
    peak_since_last_mb()
    t0 = time.perf_counter()
    embedded = stages.embed_items(paths, hashes, stages.Cache(settings.cache), settings, no_progress, report)
    items = stages.published_items(coll, hashes, embedded, settings)
    t_read = time.perf_counter() - t0
    rss_read = peak_since_last_mb()
    cache = stages.Cache(settings.cache)
    rows = [dict(stage="first build: vectors read from the cache", size=f"{len(paths):,} x {a.dim}", secs=t_read,
                 rate="", rss=rss_read, target="", met=None, note="peak of this step")]
    if which == "embeddings":
        return rows
    nb = None
    if which == "groups":
        nb, _ = stages.find_neighbours(items.embeddings, cache, settings, report)
        peak_since_last_mb()
    t0 = time.perf_counter()
    if which == "neighbours":
        stages.find_neighbours(items.embeddings, cache, settings, report)
    elif which == "layout":
        stages.place_on_map(items.embeddings, cache, settings, report)
    elif which == "groups":
        stages.group_drawings(items, nb, cache, report)
    elif which == "find_index":   # the find page's index, as the pages stage makes it (derive.find_index)
        from generator.ml.findindex import compact_index
        index = compact_index(items.embeddings.artworks.vectors, items.embeddings.drawings.vectors)
        np.savez(_build_case(a) / "find-index.npz", mean=index.mean, axes=index.axes, scales=index.scales,
                 codes=index.codes, overlap=index.overlap, queries=index.queries, probe=index.probe,
                 parts=np.concatenate([np.asarray(p, np.int64) for p in index.parts]) if index.parts else [],
                 centres=index.centres if index.centres is not None else [])
    t = time.perf_counter() - t0
    rss = peak_since_last_mb()
    rows.append(dict(stage=f"first build: {which}", size=f"{a.drawings:,} d + {a.artworks:,} a", secs=t, rate="",
                     rss=rss, target="<= 2 GB", met=None if rss is None else max(rss, rss_read or 0) <= 2048,
                     note="peak of this step alone (the vectors read before it; met?: this step and the reading)"))
    return rows


def stage_build(a) -> list[dict]:
    """The whole first build end to end, as ``sitegen build`` runs it, on a generated collection of this size
    (``bench_rebuild.py --first-only``: tiny distinct JPEGs, the cache pre-filled with grouped synthetic vectors
    keyed by the files' hashes, so everything but the network runs: hashing, neighbours, layout, groups,
    pictures, pages). One row per stage: its time and the peak of the build's process during it; the forked
    page workers' own peak apart; the site's megabytes by kind. The collection is kept under ``--tmp`` and used
    again by the next run of the same size (only the build is timed)."""
    root = Path(a.tmp or tempfile.gettempdir()) / f"sitegen-end-to-end-{a.drawings}x{a.artworks}"
    argv = [sys.executable, str(REPO / "benchmarks" / "bench_rebuild.py"), "--drawings", str(a.drawings),
            "--artworks", str(a.artworks), "--first-only", "--keep", "--root", str(root)]
    if (root / "cache").is_dir():
        shutil.rmtree(root / "site", ignore_errors=True)   # a first build again, from the kept vectors
        for kept in (root / "cache").iterdir():   # all but the pre-filled vectors: hashing included
            if kept.name != "embeddings":
                shutil.rmtree(kept) if kept.is_dir() else kept.unlink()
        argv.append("--reuse")
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    size = f"{r['drawings']:,} d + {r['artworks']:,} a"
    together = r.get("tree_peak_mb_between", {})
    rows = [dict(stage=f"end to end: {stage}", size=size, secs=secs, rate="",
                 rss=r["peak_rss_mb_between"].get(stage), target="", met=None,
                 note="" if stage not in together else f"with its forked processes, shared pages once: "
                                                       f"{together[stage]:,.0f} MB")
            for stage, secs in r["timings"].items()]
    kinds = r["site_mb_by_kind"]
    peak = max(r["peak_rss_mb"], r.get("tree_peak_mb") or 0)
    rows.append(dict(stage="end to end: the whole first build", size=size, secs=r["wall_s"],
                     rate=f"{r['site_files']:,} files", rss=r["peak_rss_mb"], target="<= 2 GB",
                     met=peak <= 2048,
                     note=(f"the build's process; with its forked processes, shared pages counted once (sampled "
                           f"every 0.5 s): {r.get('tree_peak_mb') or 0:,.0f} MB (met?: the higher of the two); "
                           f"network library loaded in the build's process: {'yes' if r.get('torch_loaded') else 'no'}; "
                           f"forked processes' own peak {r['children_peak_rss_mb']:,.0f} MB; "
                           f"site MB by kind {json.dumps(kinds)}; pages + data without the artworks' pages "
                           f"{kinds['pages'] - kinds.get('artworks pages', 0) + kinds['data']:.1f} MB (target 400 MB; "
                           f"the artworks' pages {kinds.get('artworks pages', 0):.1f} MB apart); the find page is not "
                           f"built (synthetic vectors: see find_index)")))
    return rows


STAGES = {"neighbours": stage_neighbours, "neighbours_full": stage_neighbours_full, "layout": stage_layout,
          "find_index": stage_find_index, "render": stage_render, "build_setup": stage_build_setup,
          "build_merge": stage_build_merge, "build": stage_build,
          **{f"build_{w}": (lambda a, w=w: _build_stage(a, w)) for w in ("embeddings", "neighbours", "layout",
                                                                         "groups", "find_index")}}


# ------------------------------------------------------------------ driver

def run_child(stage: str, argv: list[str]) -> list[dict]:
    proc = subprocess.run([sys.executable, __file__, "--child", stage, *argv], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        return [dict(stage=stage, size="", secs=float("nan"), rate="", rss=None, target="", met=False,
                     note=f"failed (exit {proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}")]
    rows = json.loads(proc.stdout.strip().splitlines()[-1])
    load = os.getloadavg()[0]  # other work on the machine inflates the times: say how much there was
    for r in rows:
        r["note"] = (r.get("note") or "") + f" [load average {load:.1f} at the end]"
    return rows


def print_table(rows: list[dict], file=None, python_s: float | None = None) -> None:
    """The rows as a table; with ``python_s`` (the yardstick's plain-Python time of this run), each time also
    in yardsticks, the figure to compare between machines."""
    head = ["stage", "size", "time", "rate", "peak RSS", "target", "met?"] + (["time / yardstick"] if python_s else [])
    body = [[r["stage"], r["size"], f"{r['secs']:.1f} s" if r["secs"] == r["secs"] else "", r["rate"],
             "" if r["rss"] is None else f"{r['rss']:,.0f} MB", r["target"],
             "" if r["met"] is None else ("yes" if r["met"] else "NO")]
            + ([f"{r['secs'] / python_s:,.1f}" if r["secs"] == r["secs"] else ""] if python_s else []) for r in rows]
    print("| " + " | ".join(head) + " |", file=file)
    print("|" + "|".join("---" for _ in head) + "|", file=file)
    for b in body:
        print("| " + " | ".join(b) + " |", file=file)
    notes = [(r["stage"], r["note"]) for r in rows if r.get("note")]
    for stage, note in notes:
        print(f"- {stage}: {note}", file=file)
    if file is not None:
        file.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--drawings", type=int, default=100_000)
    ap.add_argument("--artworks", type=int, default=250_000)
    ap.add_argument("--dim", type=int, default=1280)
    ap.add_argument("--quick", action="store_true", help="reduced sizes, under 2 minutes")
    ap.add_argument("--stages", default="neighbours,neighbours_full,layout,find_index,render")
    ap.add_argument("--nb-drawings", type=int, default=20_000, help="scaled neighbours case (queries)")
    ap.add_argument("--nb-artworks", type=int, default=50_000, help="scaled neighbours case (gallery)")
    ap.add_argument("--full-neighbours", action="store_true", help="time all queries of the full-size case")
    ap.add_argument("--full-slice", type=int, default=4096)
    ap.add_argument("--layout-points", type=int, default=110_000)
    ap.add_argument("--render-drawings", type=int, default=None)
    ap.add_argument("--render-artworks", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--tmp", default=None, help="folder for the synthetic site (default: system temp)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.quick:
        a.drawings, a.artworks = min(a.drawings, 10_000), min(a.artworks, 25_000)
        a.nb_drawings, a.nb_artworks, a.layout_points, a.full_slice = 4_000, 10_000, 10_000, 1024
    a.nb_drawings, a.nb_artworks = min(a.nb_drawings, a.drawings), min(a.nb_artworks, a.artworks)
    a.render_drawings = a.render_drawings or a.drawings
    a.render_artworks = a.render_artworks or min(a.artworks, 8_500 if a.quick else a.artworks)
    if a.child:
        import torch
        torch.set_num_threads(max(1, os.cpu_count() or 1))
        print(json.dumps(STAGES[a.child](a)))
        return
    if "neighbours" in [s.strip() for s in a.stages.split(",")] and importlib.util.find_spec("faiss") is None:
        sys.exit("The neighbours stage compares sitegen with faiss, which is not installed. Install it with\n"
                 "    pip install -e '.[bench]'    (or: pip install faiss-cpu)\n"
                 "or leave that stage out: --stages neighbours_full,layout,render")
    import platform

    from generator.ml.device import cpu_name
    from yardstick import line, yardstick

    print(f"machine: {cpu_name()}, {os.cpu_count()} CPU threads; python {platform.python_version()}")
    before = yardstick()
    print(line(before, "at the start"), flush=True)
    argv = [x for x in sys.argv[1:]]
    rows = []
    for stage in a.stages.split(","):
        t0 = time.perf_counter()
        rows += run_child(stage.strip(), argv)
        print(f"  ({stage} done in {time.perf_counter() - t0:.0f} s)", file=sys.stderr)
        print_table(rows, file=sys.stderr)  # a long run's finished stages stay readable if it is stopped
    faiss_rows = [r for r in rows if r["stage"] == "neighbours top-10 (faiss IndexFlatIP)"]
    full_rows = [r for r in rows if r["stage"] == "neighbours full-size memory"]
    if faiss_rows and full_rows and full_rows[0]["secs"] == full_rows[0]["secs"]:
        # faiss at full size would take hours: its scaled time, extrapolated in n x m, is the peer.
        f = faiss_rows[0]
        n, m = (int(x.replace(",", "")) for x in f["size"].split(" x ")[:2])
        faiss_full = f["secs"] * a.drawings * a.artworks / (n * m)
        ours = float(full_rows[0]["note"].split(" s")[0].split(": ")[-1])
        full_rows[0]["note"] += (f"; faiss IndexFlatIP extrapolated from {n:,} x {m:,} of this run: "
                                 f"{faiss_full:,.0f} s, faiss/sitegen = {faiss_full / ours:.2f}x")
    after = yardstick()
    print(line(after, "at the end"))
    print_table(rows, python_s=(before["python_s"] + after["python_s"]) / 2)


if __name__ == "__main__":
    main()
