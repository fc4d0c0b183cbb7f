"""``build(settings) -> BuildReport``: the only place that knows the order of the stages."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
import dataclasses
import gc
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from generator import i18n
from generator.pipeline.cache import Cache, EmbeddingWriter, KnownVectors, array_key
from generator.pipeline.derive import make_map_pictures
from generator.pipeline.findmodel import browser_model
from generator.pipeline.findsamples import find_model_pictures
from generator.pipeline.imagesfolder import check_images_folder
from generator.pipeline.incremental import site_on_disk, site_record, write_site
from generator.pipeline.unchanged import inputs_stamp, record_build, unchanged_report
from generator.pipeline.progress import Progress, no_progress
from generator.pipeline.report import (BuildReport, problem_summary, review_note, size_warning, timed,
                                       write_report_file)
from generator.settings import BuildSettings
from generator.forks import Prepared, beside, can_fork, shared_flag, usable_cores
from generator.fsutil import (check_output_folder, is_within, keep_freed_memory, recover_interrupted, staged,
                              write_atomic)
from generator.contracts import NEIGHBOUR_ARRAYS, Embedded, Embeddings, Neighbours
from generator.errors import ImageError, InputError
from generator.inputs.collection import Artwork, Collection, Drawing, Problem, load_collection
from generator.inputs.countries import load_countries
from generator.inputs.decisions import ReviewedPairs, merge_decisions, read_decisions
from generator.inputs.images import load_rgb, web_image_bytes
from generator.inputs.years import read_years
from generator.site.context import SiteData
from generator.site.iiif import IIIF_NEEDS_SITE_URL
from generator.site.images import display_images_dir, write_display_images

#: Bumped when the published picture format changes, so cached derivatives are redone.
DERIVATIVE_VERSION = "webp-q80-v1"


def gather(settings: BuildSettings) -> Collection:
    """Stage 1: read and check every input before any heavy work."""
    if settings.drawings is None or settings.artworks is None:
        raise InputError("Both --drawings and --artworks are needed (or set drawings and artworks in sitegen.toml).")
    check_output_folder(settings.out, [settings.drawings, settings.artworks])
    if settings.image_base_url:
        check_images_folder(settings)
    if is_within(settings.cache, settings.out):
        raise InputError(f"The cache folder {settings.cache} lies inside the output folder {settings.out}, "
                         "which is replaced at every build. Choose another --cache.")
    coll = load_collection(settings.drawings, settings.artworks, settings.artworks_csv, settings.pairs)
    if settings.strict and coll.problems:
        raise InputError(problem_summary(coll.problems, "--strict is on, so the build stops"))
    return coll


def review_decisions(settings: BuildSettings, coll: Collection, problems: list[Problem]) -> ReviewedPairs:
    """The archive's pairs with the review decisions applied (--decisions), every unusable line reported."""
    if not settings.decisions:
        return ReviewedPairs(tuple(coll.pairs), {p: "archive" for p in coll.pairs}, ())
    found: list[Problem] = []
    decisions = read_decisions(settings.decisions, (d.id for d in coll.drawings), (a.id for a in coll.artworks),
                               found)
    reviewed = merge_decisions(coll.pairs, decisions, decisions_win=settings.decisions_win,
                               pairs_file=settings.pairs, problems=found)
    problems.extend(found)
    if settings.strict and found:
        raise InputError(problem_summary(found, "--strict is on, so the build stops"))
    return reviewed


def unknown_country_problems(coll: Collection, countries) -> list[Problem]:
    """One report line per country code that the table does not know (such drawings show the code)."""
    counts: dict[str, int] = {}
    for d in coll.drawings:
        if d.country and d.country not in countries:
            counts[d.country] = counts.get(d.country, 0) + 1
    return [Problem(f"country code {code}", f"{n} drawing(s) use the code {code}, which is not in the country "
                    "table, so pages show the code instead of a name",
                    f"Add a line '{code},<country name>' to a countries.csv file and pass it with --countries.",
                    kind="country", skipped=False) for code, n in sorted(counts.items())]


#: Embeddings are saved every this many pictures, so an interrupted build loses little.
SAVE_EVERY = 256


def embedding_key(settings: BuildSettings) -> tuple[str, str, str, str]:
    """(cache key, device, precision, weights source) for the configured model.

    Found without loading the network library when the device is 'auto' or 'cpu' (a build whose vectors are all
    cached never needs it): the pictures' vectors are computed in the same arithmetic on every device (see
    generator.ml.device), and 'auto' is settled when there are pictures to embed."""
    from generator.ml.device import choose_device, choose_precision
    from generator.ml.weights import resolve_model

    device = settings.device if settings.device in ("auto", "cpu") else choose_device(settings.device)
    precision = choose_precision(settings.precision, device)
    choice = resolve_model(settings.model, settings.weights)
    return f"{choice.fingerprint}-{precision}", device, precision, choice.source


class MissingEmbeddings(NamedTuple):
    """What :func:`compute_missing_embeddings` found and did."""

    known: dict[str, np.ndarray]    # every vector of these pictures, by content hash
    failures: list[ImageError]
    model_source: str
    computed: int                   # pictures sent to the network (those that failed included)
    from_cache: int                 # pictures whose vector was already in the cache
    model_key: str = ""             # the cache's name for the model's vectors

    def line(self) -> str:
        """What was embedded, in the words the build and ``sitegen embed`` print."""
        return f"embedded {self.computed - len(self.failures)} pictures, {self.from_cache} from the cache"


def compute_missing_embeddings(paths: list[Path], hashes: list[str], cache: Cache, settings: BuildSettings,
                               progress: Progress, shard: tuple[int, int] | None = None,
                               network: Prepared | None = None) -> MissingEmbeddings:
    """Embed the pictures whose content is not cached yet, saving as it goes.

    ``shard=(i, n)`` computes only the i-th of n equal slices of the missing pictures
    (1-based), so that n machines can share the work; their cache part files merge
    by copying them into one cache folder. With ``settings.engine == "ray"`` the
    pictures are embedded by a Ray cluster and saved here as its batches finish.
    """
    key, device, precision, source = embedding_key(settings)
    first_path: dict[str, Path] = {}
    for p, h in zip(paths, hashes):
        if h:
            first_path.setdefault(h, p)

    def share(todo: list[str]) -> list[str]:
        return todo[shard[0] - 1::shard[1]] if shard is not None else todo

    # Which pictures the cache holds, from its lists of keys: the vectors are read once, at the end, new ones
    # included (holding the new ones as they came would keep every one in memory: 1.8 GB at 350,000 pictures).
    stored = cache.stored_keys(key)
    missing = share(sorted(h for h in first_path if h not in stored))
    from_cache = len(first_path) - len(missing)
    failures: list[ImageError] = []

    def embed_meanwhile() -> Callable[[], object]:
        """The missing pictures embedded in a forked process (the one that loaded the network meanwhile, if any)
        while the cached vectors are read; what is returned waits for it."""
        if network is not None:
            wait = network.ask_later((missing, {h: first_path[h] for h in missing}, key, device, precision))
        else:
            wait = _embed_beside(missing, first_path, cache, key, device, precision, settings, progress)
        return lambda: failures.extend(wait())
    known = cache.load_embeddings(key, wanted=[h for h in hashes if h], meanwhile=embed_meanwhile if missing else None)
    if missing:   # after the reading: merging parts reads every vector again, which the build would wait for
        cache.compact_embeddings(key)
    # Vectors listed by a part found damaged when read (the part is reported and removed): computed again.
    damaged = share(sorted(h for h in first_path if h in stored and h not in known))
    if damaged:
        failures += _embed_apart(damaged, first_path, cache, key, device, precision, settings, progress)
        known = cache.load_embeddings(key, wanted=[h for h in hashes if h])
    return MissingEmbeddings(known, failures, source, len(missing) + len(damaged), from_cache - len(damaged), key)


def _embed_apart(missing: list[str], first_path: dict[str, Path], cache: Cache, key: str, device: str,
                 precision: str, settings: BuildSettings, progress: Progress) -> list[ImageError]:
    """:func:`_embed`, in a forked process (see :func:`apart`) unless the pictures go to a Ray cluster: the network
    and its library leave with it, and the vectors it stores in the cache are read from there."""
    return _embed_beside(missing, first_path, cache, key, device, precision, settings, progress)()


def _embed_beside(missing: list[str], first_path: dict[str, Path], cache: Cache, key: str, device: str,
                  precision: str, settings: BuildSettings, progress: Progress) -> Callable[[], list[ImageError]]:
    """:func:`_embed_apart` started in a forked process, this one going on; the function returned waits for it.
    Where it would not be forked (see :func:`apart`), it runs when that function is called."""
    @keeping_freed_memory
    def task():
        return _embed(missing, first_path, cache, key, device, precision, settings, progress)
    if not missing or settings.engine == "ray":
        return task
    return apart_later(task)


@contextlib.contextmanager
def network_ready(settings: BuildSettings, cache: Cache, progress: Progress):
    """A forked process loading the network while the build reads the collection, then embedding the pictures the
    cache lacks (:meth:`Prepared.ask`), or None. Only where the cache already holds vectors of this model (a
    rebuild: a few new pictures, for which loading the libraries and the network, about 4 s, is most of the
    stage), on two cores or more, without a Ray cluster, and in a process that has not loaded the network library
    (see :func:`apart`). Ended on the way out if it was not asked."""
    network = None
    if settings.engine != "ray" and "torch" not in sys.modules and can_fork() and usable_cores() > 1:
        try:
            key = embedding_key(settings)[0]
        except Exception:   # said by the embedding stage, in its turn
            key = None
        if key is not None and cache.has_embeddings(key):
            waited = shared_flag()
            network = Prepared(keeping_freed_memory(lambda: _load_network(settings)),
                               lambda model, request: _embed(request[0], request[1], cache, *request[2:], settings,
                                                             progress, model=model, waited=waited), waited)
    try:
        yield network
    finally:
        if network is not None:
            network.close()


def _load_network(settings: BuildSettings):
    from generator.ml.embed import embed_paths  # noqa: F401  (the library, loaded before it is needed)
    from generator.ml.model import load_model

    return load_model(settings.model, settings.weights)


def _one_core_until(waited, tick: Callable[[int], None]) -> Callable[[int], None]:
    """The network on one processor core until ``waited`` is set, then on as many as before: ``tick`` (called after
    each batch) wrapped to look. A rebuild's new pictures are embedded while the build's own process reads the
    cached vectors on the other core; with two threads the network's would share the cores by turns with it, and
    wait for each other at every layer (100 pictures beside 110,000 cached vectors: the stage 3.7-4.4 s on two cores,
    3.3-3.4 s on one). In 32-bit arithmetic only (every build's unless bfloat16 is asked for), where a picture's
    vector is the same on any number of cores (tested); bfloat16 runs on every core, as the kernels it takes vary
    more from one processor kind to another."""
    import torch

    cores = torch.get_num_threads()
    if not waited.value:
        torch.set_num_threads(1)

    def looked(n: int) -> None:
        if waited.value and torch.get_num_threads() != cores:
            torch.set_num_threads(cores)
        tick(n)
    return looked


def _embed(missing: list[str], first_path: dict[str, Path], cache: Cache, key: str, device: str, precision: str,
           settings: BuildSettings, progress: Progress, model=None, waited=None) -> list[ImageError]:
    """Embed the pictures of the ``missing`` hashes into the cache; the pictures that failed. ``model``: the
    network when already loaded. ``waited``: a :func:`shared_flag` the build's process sets once it waits for these
    pictures: until then the network runs on one core (see :func:`_one_core_until`)."""
    if not missing:
        return []
    if settings.engine == "ray":
        return _embed_on_ray(missing, first_path, cache, key, precision, settings, progress)
    from generator.ml.device import choose_device, choose_precision
    from generator.ml.embed import embed_paths
    from generator.ml.model import load_model

    device = choose_device(device)
    failures: list[ImageError] = []
    model = load_model(settings.model, settings.weights) if model is None else model
    tick = progress("embeddings", len(missing))
    if waited is not None and device == "cpu" and choose_precision(precision, device) == "fp32":
        tick = _one_core_until(waited, tick)
    for start in range(0, len(missing), SAVE_EVERY):
        chunk = missing[start:start + SAVE_EVERY]
        result = embed_paths(model, [first_path[h] for h in chunk], batch_size=settings.batch_size,
                             precision=precision, device=device, max_pixels=settings.max_pixels, progress=tick)
        failures.extend(result.failures)
        cache.add_embeddings(key, [chunk[i] for i in result.ok], result.vectors)
    return failures


def embed_collection(settings: BuildSettings, progress: Progress = no_progress,
                     shard: tuple[int, int] | None = None) -> MissingEmbeddings:
    """``sitegen embed``: the collection read and checked as a build does, then the embeddings of its
    pictures not cached yet (or the ``shard`` of them), saved into the cache."""
    coll = gather(settings)
    paths = [d.path for d in coll.drawings] + [a.path for a in coll.artworks]
    cache = Cache(settings.cache)
    return compute_missing_embeddings(paths, cache.content_hashes(paths), cache, settings, progress, shard=shard)


def _embed_on_ray(missing: list[str], first_path: dict[str, Path], cache: Cache,
                  key: str, precision: str, settings: BuildSettings, progress: Progress) -> list[ImageError]:
    """--engine ray: the cluster embeds, this process stores each finished batch (at most the batches in
    flight are lost when the run is interrupted)."""
    from generator.ml.model import load_model
    from generator.ml.ray_embed import RayJob, embed_with_ray, import_ray

    import_ray()  # says how to install Ray before the model is loaded
    model = load_model(settings.model, settings.weights)  # a missing model is reported here, not on a worker
    job = RayJob(settings.model, str(settings.weights) if settings.weights else None, model.fingerprint,
                 model.input_size, precision, settings.batch_size, settings.max_pixels, settings.device)
    writer = EmbeddingWriter(cache, key, every=SAVE_EVERY)

    def save(indices: list[int], vectors: np.ndarray) -> None:
        writer.add([missing[i] for i in indices], vectors)

    try:
        return embed_with_ray([first_path[h] for h in missing], job, address=settings.ray_address, save=save,
                              progress=progress("embeddings", len(missing)))
    finally:
        writer.flush()


@dataclass(frozen=True)
class EmbeddedItems:
    """Stage 3's result: the vectors of the paths that worked (one row each, in the paths' order), which paths
    worked, what failed, where the weights came from."""

    rows: np.ndarray        # one row per path that worked (``ok``)
    ok: np.ndarray          # bool per path
    failures: list[ImageError]
    model_source: str


def embed_items(paths: list[Path], hashes: list[str], cache: Cache, settings: BuildSettings,
                progress: Progress, report: BuildReport, network: Prepared | None = None) -> EmbeddedItems:
    """Stage 3: the vectors of the paths whose pictures could be read (and a mask of those). ``network``: a
    process with the network loaded (:func:`network_ready`), for the pictures to embed."""
    run = compute_missing_embeddings(paths, hashes, cache, settings, progress, network=network)
    known, failures, source = run.known, run.failures, run.model_source
    report.computed["embeddings"] = run.computed
    report.embedded_line = run.line()
    failed_paths = {str(f.path) for f in failures}
    ok = np.array([bool(h) and h in known for h in hashes], bool)
    for p, h, good in zip(paths, hashes, ok.tolist()):
        if good:
            continue
        if not h:
            failures.append(ImageError(p, "the file could not be read", "Check that it exists and is readable."))
        elif str(p) not in failed_paths:
            # Same content as a file that failed: report this copy too.
            failures.append(ImageError(p, "the picture could not be decoded", "Scan or copy it again."))
    kept = [h for h, good in zip(hashes, ok.tolist()) if good]
    # The rows as the cache's table read them (a read-only map, not a copy in memory); when some pictures
    # failed, a table of the others is read again (one more pass over the cache, not a copy of the vectors).
    table = known.as_rows(kept) if isinstance(known, KnownVectors) else None
    if table is None and kept and run.model_key:
        table = cache.load_embeddings(run.model_key, wanted=kept).as_rows(kept)
    if table is None:
        dim = next(iter(known.values())).shape[0] if known else 0
        table = np.array([known[h] for h in kept], np.float32).reshape(len(kept), dim)
    return EmbeddedItems(table, ok, failures, source)


#: Pictures handed to the picture threads at a time.
PICTURES_AT_ONCE = 1024


def make_derivatives(items: list[tuple[str, Path, str]], cache: Cache, settings: BuildSettings,
                     progress: Progress, report: BuildReport) -> PictureFiles:
    """Stage: metadata-free WebP thumbnail and display picture for every (id, path, hash).

    Returns item id -> (thumbnail, display picture); an item whose pictures could not be made is left
    out, with a report line, and its pages show no picture.
    """
    out = PictureFiles(cache, f"{DERIVATIVE_VERSION}-{settings.thumb_size}-{settings.display_size}")
    todo = []
    stored = cache.file_names("images")
    for item_id, path, digest in items:
        out.digests[item_id] = digest
        thumb, display = out.names(digest)
        if thumb not in stored or display not in stored:
            todo.append((item_id, path, digest))
    del stored
    report.computed["images"] = len(todo)
    tick = progress("pictures", len(todo))

    def work(job):
        _, path, digest = job
        thumb, display = out.files(digest)
        try:
            img = load_rgb(path, max_side=settings.display_size, max_pixels=settings.max_pixels)
            write_atomic(display, web_image_bytes(img, settings.display_size))
            write_atomic(thumb, web_image_bytes(img, settings.thumb_size, quality=75))
        except ImageError as exc:
            return exc
        finally:
            tick(1)
        return None

    # Handed to the threads a thousand at a time: the pool takes every job given at once and keeps a pending
    # task for each (350,000 pictures in a first build held about 0.6 GB that way).
    with ThreadPoolExecutor(max_workers=min(4, (os.cpu_count() or 2))) as pool:
        for (item_id, *_), err in ((job, err) for s in range(0, len(todo), PICTURES_AT_ONCE)
                                   for job, err in zip(todo[s:s + PICTURES_AT_ONCE],
                                                       pool.map(work, todo[s:s + PICTURES_AT_ONCE]))):
            if err is not None:
                del out.digests[item_id]
                report.problems.append(Problem(
                    _display_path(err.path, settings), f"{err.reason}, so no web copy of it could be made and "
                    "its page is published without a picture", err.fix, kind="image"))
    return out


class PictureFiles(Mapping):
    """Item id -> (thumbnail, display picture): their files in the cache, named by the item's content hash and the
    pictures' settings (``tag``). Each pair of paths is made when asked for: a first build of 350,000 items held
    about 0.3 GB of path objects otherwise, through the whole pages stage."""

    def __init__(self, cache: Cache, tag: str):
        self.cache, self.tag = cache, tag
        self.digests: dict[str, str] = {}   # item id -> content hash, for the items whose pictures exist

    def names(self, digest: str) -> tuple[str, str]:
        return f"{digest}-{self.tag}-t.webp", f"{digest}-{self.tag}-d.webp"

    def named(self):
        """(item id, thumbnail's file name, display picture's file name) of each item, without making paths."""
        return ((item_id, *self.names(digest)) for item_id, digest in self.digests.items())

    def listing(self) -> Callable[[str], tuple[int | None, int | None]]:
        """A function giving the inode numbers of an item's two files as the cache's folders list them (None where
        not listed): enough to know that a site's picture is already that file, without making paths or looking
        at files. The listing (700,000 names at 350,000 items, a few hundred megabytes) lives as long as the
        function."""
        found = self.cache.file_inodes("images")

        def inodes(item_id: str) -> tuple[int | None, int | None]:
            thumb, display = self.names(self.digests[item_id])
            return found.get(thumb), found.get(display)
        return inodes

    def files(self, digest: str) -> tuple[Path, Path]:
        thumb, display = self.names(digest)
        return self.cache.file_path("images", thumb), self.cache.file_path("images", display)

    def thumb_place(self, item_id: str) -> str:
        """The item's thumbnail file, as a string (see :meth:`Cache.file_place`)."""
        return self.cache.file_place("images", self.names(self.digests[item_id])[0])

    def __getitem__(self, item_id: str) -> tuple[Path, Path]:
        return self.files(self.digests[item_id])

    def __contains__(self, item_id: object) -> bool:
        return item_id in self.digests

    def __iter__(self):
        return iter(self.digests)

    def __len__(self) -> int:
        return len(self.digests)


@dataclass(frozen=True)
class Published:
    """The items whose pictures could be read, their content hashes and vectors, and the pairs among them."""

    drawings: list[Drawing]
    artworks: list[Artwork]
    d_hash: list[str]
    a_hash: list[str]
    embeddings: Embeddings
    pairs: list[tuple[str, str]]
    pairs_unreadable: int


def build(settings: BuildSettings, *, echo: Callable[[str], None] = lambda s: None,
          progress: Progress = no_progress) -> BuildReport:
    """Run every stage and swap the finished site into place."""
    with i18n.restored(), fewer_collections():
        return _build(settings, echo=echo, progress=progress)


#: The garbage collector's thresholds during a build (Python's usual ones are 700, 10, 10).
BUILD_GC_THRESHOLDS = (50_000, 20, 100)


@contextlib.contextmanager
def fewer_collections():
    """Python's cycle collector, run less often while a build makes millions of small objects (a table's rows, the
    pages' contexts): with 100,000 drawings' records alive, its usual rounds went through them again and again
    and took most of the time of some page writers (the neighbours' table of 100,000 drawings: 3.9 s against
    1.1 s). Unreachable cycles are still collected, in rounds 70 times rarer."""
    old = gc.get_threshold()
    gc.set_threshold(*BUILD_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _build(settings: BuildSettings, *, echo: Callable[[str], None], progress: Progress) -> BuildReport:
    report = BuildReport(out=settings.out)
    recover_interrupted(settings.out)
    if settings.image_base_url:
        recover_interrupted(display_images_dir(settings.out))
    cache = Cache(settings.cache)
    with timed(report, "changes", echo):
        stamp = inputs_stamp(settings)
        last = unchanged_report(settings, stamp)
    if last is not None:   # the inputs and the site are those of the last finished build: nothing to do
        last.timings = dict(report.timings)
        last.notes.append("Nothing changed since the last build: the site is up to date.")
        write_report_file(last, settings.cache / "build-report.txt")
        return last
    # Where the cache already holds this model's vectors (a rebuild), the network is loaded meanwhile, in a forked
    # process that then embeds the new pictures (see network_ready).
    with network_ready(settings, cache, progress) as network:
        with timed(report, "collection", echo):
            coll = gather(settings)
            report.problems.extend(coll.problems)
            countries = load_countries(settings.countries, report.problems)
            themes = read_years(settings.years, report.problems) if settings.years else {}
            report.problems.extend(unknown_country_problems(coll, countries))
            report.verso_skipped = coll.verso_skipped
            reviewed = review_decisions(settings, coll, report.problems)
            coll.pairs = list(reviewed.pairs)
            paths = [d.path for d in coll.drawings] + [a.path for a in coll.artworks]
            hashes = cache.content_hashes(paths)
        with timed(report, "embeddings", echo, lambda: report.embedded_line):
            embedded = embed_items(paths, hashes, cache, settings, progress, report, network)
    for f in embedded.failures:
        report.problems.append(Problem(_display_path(f.path, settings), f.reason, f.fix, kind="image"))
    if settings.strict and embedded.failures:
        raise InputError(problem_summary(report.problems, "--strict is on, so the build stops"))
    items = published_items(coll, hashes, embedded, settings)
    report.drawings, report.artworks, report.pairs = len(items.drawings), len(items.artworks), len(items.pairs)
    d_ids, a_ids = set(items.embeddings.drawings.ids), set(items.embeddings.artworks.ids)
    rejected = [p for p in reviewed.rejected if p[0] in d_ids and p[1] in a_ids]
    if settings.decisions:
        n_review = sum(1 for p in items.pairs if reviewed.source[p] == "review")
        report.notes.append(review_note(n_review, len(rejected)))
    map_later = map_beside(items.embeddings, cache, settings, report)   # a few new items placed meanwhile
    on_disk = []   # the site the last build left, walked while the neighbours are searched
    with timed(report, "neighbours", echo):
        nb, _ = find_neighbours(items.embeddings, cache, settings, report, rejected,
                                meanwhile=lambda: on_disk.append(site_on_disk(settings)))
    with timed(report, "layout", echo, lambda: "placed while the nearest artworks were searched" if map_later else ""):
        lay = map_later() if map_later else place_on_map(items.embeddings, cache, settings, report)
    record = []   # the last build's record of the site, read while the groups are made
    groups, pictures = _groups_and_pictures(items, nb, cache, settings, progress, report, echo,
                                            (countries, lay["coords"]) if map_later else None,
                                            lambda: record.append(site_record(settings, on_disk[0])))
    browser = None
    if settings.find_page:
        with timed(report, "find model", echo):
            samples, sample_vectors, calibration = find_model_pictures(items.drawings, items.d_hash, items.artworks,
                                                                       items.a_hash, items.embeddings)
            browser, done = apart(lambda: _browser_model(settings, cache, samples, sample_vectors,
                                                         items.embeddings.artworks.vectors, calibration))
            report.computed.update(done)
    with timed(report, "pages", echo):
        model_source = embedded.model_source
        site = SiteData(settings=settings, drawings=items.drawings, artworks=items.artworks, pairs=items.pairs,
                        countries=countries, artists=coll.artists, neighbours=nb, coords=lay["coords"],
                        layout_method=str(lay["method"]), layout_sample=int(lay.get("sample", 0)),
                        pictures=pictures, model_source=model_source,
                        model_name=settings.model if not str(settings.model).endswith(".pt")
                        else Path(settings.model).name, checkpoint=_checkpoint(settings),
                        embeddings=items.embeddings, pairs_unreadable=items.pairs_unreadable,
                        pair_sources={p: reviewed.source[p] for p in items.pairs}, rejected=tuple(rejected),
                        browser_model=browser, groups=groups, themes=themes)
        # Rendering is skipped when nothing that goes into the site changed (its fingerprint is a digest of
        # the site data) and the site on disk is still the one we wrote (a manifest of sizes and times says so).
        write_site(site, report, record[0])
        if not settings.site_url:
            report.notes.append(IIIF_NEEDS_SITE_URL)
        if settings.image_base_url:
            images_out = report.images_out = display_images_dir(settings.out)
            if report.computed["pages"] or not images_out.is_dir():
                with staged(images_out) as staging:
                    write_display_images(site, staging)
            echo(f"Display pictures for {settings.image_base_url}: {images_out}")
        too_large = size_warning(report.site_bytes)
        if too_large:
            report.warnings.append(too_large)
    report.warnings.extend(cache.warnings)
    write_report_file(report, settings.cache / "build-report.txt")
    record_build(settings, stamp, report)
    return report


def _groups_and_pictures(items: Published, nb: Neighbours, cache: Cache, settings: BuildSettings, progress: Progress,
                         report: BuildReport, echo: Callable[[str], None], placed: tuple | None,
                         meanwhile: Callable[[], None]):
    """Stages 6 and 7: the groups, and the pictures. ``placed``: (the countries, the map's coordinates) when a few
    new items were placed into the last map (a rebuild): the groups are then made in a forked process while this one
    makes the pictures and the map's new picture sheets, then runs ``meanwhile``; else in turn (in a first build both
    are heavy), ``meanwhile`` last."""
    groups_later = group_drawings_later(items, nb, cache, report) if placed else None
    if groups_later is None:
        with timed(report, "groups", echo):
            groups = group_drawings(items, nb, cache, report)
    try:
        with timed(report, "pictures", echo):
            pictures = make_derivatives([(d.id, d.path, h) for d, h in zip(items.drawings, items.d_hash)] +
                                        [(a.id, a.path, h) for a, h in zip(items.artworks, items.a_hash)], cache,
                                        settings, progress, report)
            if placed:
                make_map_pictures(items.drawings, items.artworks, items.pairs, *placed, pictures, settings.cache)
        meanwhile()
    finally:
        if groups_later is not None:
            with timed(report, "groups", echo, lambda: "made while the pictures were"):
                groups = groups_later()
    return groups, pictures


def _browser_model(settings, cache, samples, sample_vectors, gallery, calibration):
    """The find page's model and what was computed for it (a dict for the report, sent back from a forked process)."""
    done: dict[str, int] = {}
    return browser_model(settings, cache, samples, sample_vectors, gallery, done, calibration=calibration), done


def published_items(coll: Collection, hashes: list[str], embedded: EmbeddedItems,
                    settings: BuildSettings) -> Published:
    """The drawings and artworks whose pictures could be read, and the confirmed pairs between them."""
    ok, rows = embedded.ok, embedded.rows
    nd = len(coll.drawings)
    kept_d = int(ok[:nd].sum())
    drawings = [d for i, d in enumerate(coll.drawings) if ok[i]]
    artworks = [a for j, a in enumerate(coll.artworks) if ok[nd + j]]
    if not artworks:
        raise InputError(f"No usable artwork pictures were found in {settings.artworks}. Check the folder.")
    kept_ids = {d.id for d in drawings} | {a.id for a in artworks}
    pairs = [p for p in coll.pairs if p[0] in kept_ids and p[1] in kept_ids]
    return Published(
        drawings, artworks, [h for i, h in enumerate(hashes[:nd]) if ok[i]],
        [h for j, h in enumerate(hashes[nd:]) if ok[nd + j]],
        # Views of the embedding stage's rows (no second copy of the vectors).
        Embeddings(Embedded([d.id for d in drawings], rows[:kept_d]),
                   Embedded([a.id for a in artworks], rows[kept_d:])),
        pairs, len(coll.pairs) - len(pairs))


def find_neighbours(emb: Embeddings, cache: Cache, settings: BuildSettings, report: BuildReport,
                    rejected: list[tuple[str, str]] = (),
                    meanwhile: Callable[[], object] | None = None) -> tuple[Neighbours, str]:
    """Stage 4: the nearest artworks and drawings of every item (from the cache when the vectors are known).

    A rejected (drawing, artwork) pair is left out of both lists, the drawing's and the artwork's: the next
    one moves up. When the collection only gained drawings since the last build (same artworks, same
    settings, same rejected pairs, no drawing gone or changed), only the new drawings are searched and the
    others' lists meet them (:func:`generator.ml.neighbours.extend_neighbours`): the same lists, in seconds.
    ``meanwhile``: this process's own work while a forked process searches (before the search where it runs
    here, and in any case when the lists are read from the cache).
    """
    D, A = emb.drawings.vectors, emb.artworks.vectors
    d_row = {d: i for i, d in enumerate(emb.drawings.ids)}
    a_row = {a: j for j, a in enumerate(emb.artworks.ids)}
    banned = sorted((d_row[d], a_row[a]) for d, a in rejected)
    key = array_key(emb.drawings.digests, emb.artworks.digests, settings.top_k, settings.similar_drawings,
                    settings.artwork_drawings,
                    *(["rejected", banned] if banned else []))
    cached = cache.get_arrays("neighbours", key)
    report.computed["neighbours"] = int(cached is None)
    if cached is not None and meanwhile is not None:
        meanwhile()
    basis = {"artworks": array_key(emb.artworks.digests), "lists": [settings.top_k, settings.similar_drawings, settings.artwork_drawings],
             "rejected": sorted([d, a] for d, a in rejected)}
    if cached is not None:
        if "drawing_ids" in cached:   # the lists the next build may extend (this collection may be an older one)
            _remember_lists(cache, basis, key)
        return Neighbours.from_arrays(cached), key

    def search() -> tuple[tuple[np.ndarray, ...], list[str]]:   # the lists and what the report says of them
        from generator.ml.neighbours import top_k_without

        notes: list[str] = []
        lists = _extended_neighbours(emb, basis, cache, settings, {d for d, _ in rejected}, notes)
        return lists if lists is not None else (
            *top_k_without(D, A, settings.top_k, banned),
            *top_k_without(D, D, settings.similar_drawings, [], exclude_self=True),
            *top_k_without(A, D, settings.artwork_drawings, [(a, d) for d, a in banned])), notes

    wait = apart_later(search)
    try:
        if meanwhile is not None:
            meanwhile()
    finally:
        lists, notes = wait()
    nb = Neighbours(*lists)
    report.notes.extend(notes)
    cache.put_arrays("neighbours", key, **nb.arrays(), drawing_ids=np.array(emb.drawings.ids),
                     digests=emb.drawings.digests)
    _remember_lists(cache, basis, key)
    return nb, key


def _remember_lists(cache: Cache, basis: dict, key: str) -> None:
    path = cache.root / "neighbours" / "last.json"
    text = json.dumps({**basis, "key": key}, sort_keys=True).encode()
    if not path.is_file() or path.read_bytes() != text:
        write_atomic(path, text)


#: The collection may gain at most this share of drawings for their lists to be extended rather than searched
#: again in full (beyond it, a full search costs about as much).
EXTEND_AT_MOST = 0.05


def apart(task: Callable[[], object]):
    """``task()``, in a forked process when this one has not loaded the network library: the libraries the task
    loads (the network library, about 0.5 GB once loaded; the map's and the groups' numerical libraries) and its
    buffers then leave with that process, and the build's process stays small for the stages after (a build whose
    vectors are all cached never loads them). Once the network library is loaded (pictures were embedded), the task
    runs here: a process forked after it has run its threads may hang."""
    return apart_later(task)()


def keeping_freed_memory(task: Callable[[], object]) -> Callable[[], object]:
    """``task``, which keeps the memory it frees for its next allocations (:func:`keep_freed_memory`) when it runs in
    a forked process of its own (see :func:`apart`), which ends with it; run in this process, it leaves the
    setting as it is. For the processes that embed pictures (half of a forward pass's time went to the system
    making freed pages anew) and a rebuild's groups (78,000 page faults fewer, about 1 s of the system's time)."""
    here = os.getpid()

    def run():
        if os.getpid() != here:
            keep_freed_memory()
        return task()
    return run


def apart_later(task: Callable[[], object]) -> Callable[[], object]:
    """:func:`apart` started, this process going on; the function returned waits for its result. Where it would
    run here, it runs when that function is called."""
    if "torch" in sys.modules or not can_fork():
        return task
    return beside(task)


#: Up to this many new drawings, their lists are searched on one core (see :func:`_extended_neighbours`): about a
#: second of work at 100,000 drawings, no longer than the walk of the site beside it.
FEW_NEW_DRAWINGS = 250


def _extended_neighbours(emb: Embeddings, basis: dict, cache: Cache,
                         settings: BuildSettings, rejected_drawings: set[str], notes: list[str]):
    """The last build's neighbour lists extended to this collection's new drawings, or None when that is not
    possible (the first build, artworks, settings or rejected pairs changed, a drawing gone or changed, too
    many new drawings): a full search follows."""
    from threadpoolctl import threadpool_limits

    from generator.ml.neighbours import extend_neighbours

    try:
        last = json.loads((cache.root / "neighbours" / "last.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if {k: last.get(k) for k in basis} != basis:
        return None
    prev = cache.get_arrays("neighbours", str(last.get("key")))
    if prev is None or "drawing_ids" not in prev or "digests" not in prev:
        return None
    row = {d: i for i, d in enumerate(emb.drawings.ids)}
    old_ids = prev["drawing_ids"].tolist()
    old_rows = np.array([row.get(d, -1) for d in old_ids], np.int64)
    n_new = len(row) - len(old_ids)
    if (old_rows < 0).any() or not (np.diff(old_rows) > 0).all() or n_new < 0 \
            or n_new > EXTEND_AT_MOST * len(old_ids) or (emb.drawings.digests[old_rows] != prev["digests"]).any():
        return None
    if n_new == 0:   # the very drawings of those lists (stored under a key made another way): they stand
        return tuple(prev[name] for name in NEIGHBOUR_ARRAYS)
    new_ids = set(row) - set(old_ids)
    if new_ids & rejected_drawings:
        return None
    # A few new drawings are searched on one core: the build's process walks the site on the other meanwhile, and
    # the map's new items are placed beside; two threads of the matrix library would share busy cores by turns,
    # waiting for each other at each product (the stage 4.1-4.2 s, 3.8-3.9 s on one core, adding 100 drawings to
    # 110,000). More would outlast that work: they take every core.
    with threadpool_limits(1 if n_new <= FEW_NEW_DRAWINGS else None):
        lists = extend_neighbours(tuple(prev[name] for name in NEIGHBOUR_ARRAYS), old_rows, emb.drawings.vectors,
                                  emb.artworks.vectors, settings.top_k, settings.similar_drawings,
                                  settings.artwork_drawings)
    if lists is not None:
        notes.append(f"Closest artworks and drawings: {n_new} new {'drawing' if n_new == 1 else 'drawings'} "
                     "compared with the whole collection; the other lists updated, not searched again.")
    return lists


def _layout_key(emb: Embeddings, settings: BuildSettings) -> str:
    from generator.ml.layout import FULL_LAYOUT_MAX, PCA_SAMPLE, SAMPLE_ITEMS

    digests = emb.digests()
    # A larger collection's map depends on how it is sampled too (smaller ones keep their stored maps).
    return array_key(digests, settings.seed, "layout-v2",
                     *([f"sampled-{FULL_LAYOUT_MAX}-{SAMPLE_ITEMS}-{PCA_SAMPLE}"] if len(digests) > FULL_LAYOUT_MAX else []))


def place_on_map(emb: Embeddings, cache: Cache, settings: BuildSettings, report: BuildReport, *,
                 key: str | None = None, run: Callable = None) -> dict:
    """Stage 5: map coordinates of the drawings then the artworks ({"coords", "method", "sample"}: how many
    items UMAP laid out when it did not lay out all, 0 or absent when it did). ``key``: the stage's cache key when
    known; ``run``: how the layout is run (:func:`apart` by default)."""
    from generator.ml.layout import update_layout

    both = emb.joined()
    key = key or _layout_key(emb, settings)
    lay = cache.get_arrays("layout", key)
    report.computed["layout"] = int(lay is None)
    if lay is None:
        # A few new items are placed into the previous map instead of recomputing it.
        state_key = f"current-{settings.seed}"
        last = cache.get_arrays("layout", state_key)
        layout, state, placed = (run or apart)(lambda: update_layout(both, last, seed=settings.seed,
                                                                     digests=emb.digests()))
        report.computed["layout_placed"] = max(placed, 0)
        lay = {"coords": layout.coords, "method": np.array(layout.method), "sample": np.array(layout.sample)}
        cache.put_arrays("layout", key, **lay)
        cache.put_arrays("layout", state_key, **state)
    return lay


def map_beside(emb: Embeddings, cache: Cache, settings: BuildSettings, report: BuildReport):
    """When the map stage only has a few new items to place into the last map (a light task), start it in a forked
    process to run beside the nearest-artworks search, and return a function that waits for its result (the
    stage's report figures taken in); else None, and the stage runs in its turn. Never for a whole layout: both
    heavy at once would add up their memory."""
    from generator.ml.layout import PLACE_WITHOUT_COPY, kept_positions

    if "torch" in sys.modules or not can_fork() or usable_cores() < 2:
        return None
    key = _layout_key(emb, settings)
    if cache.get_arrays("layout", key) is not None:
        return None
    pos = kept_positions(emb.digests(), cache.get_arrays("layout", f"current-{settings.seed}"))
    if pos is None or int((pos < 0).sum()) > PLACE_WITHOUT_COPY:
        return None

    def stage() -> tuple[dict, dict]:
        lay = place_on_map(emb, cache, settings, report, key=key, run=lambda task: task())
        return lay, {k: report.computed[k] for k in ("layout", "layout_placed")}
    wait = beside(stage)

    def result() -> dict:
        lay, computed = wait()
        report.computed.update(computed)
        return lay
    return result


def drawing_views(drawings: list[Drawing]) -> dict[str, list[str | None]]:
    """Each drawing's country, year, country-year and age group (None when unknown), by view."""
    return {"countries": [d.country or None for d in drawings],
            "years": [str(d.year) if d.year else None for d in drawings],
            "country-years": [f"{d.country}-{d.year}" if d.country and d.year else None for d in drawings],
            "ages": [d.age_group or None for d in drawings]}


def group_drawings(items: Published, nb: Neighbours, cache: Cache, report: BuildReport):
    """Stage 6: groups of drawings, series of near-identical ones and the views' homogeneity (cached on the
    vectors, the neighbour lists, the drawings' views and the settings)."""
    return group_drawings_later(items, nb, cache, report)()


def group_drawings_later(items: Published, nb: Neighbours, cache: Cache, report: BuildReport):
    """:func:`group_drawings` started (in a forked process where :func:`apart` runs one), this process going on;
    the function returned waits for the groups. Ask for them in every case."""
    import json

    from generator.contracts import Groups, GroupSettings, Homogeneity
    from generator.ml.groups import DEFAULT_SETTINGS, make_groups

    views = drawing_views(items.drawings)
    first = nb.artworks_index[:, 0] if nb.artworks_index.ndim == 2 and nb.artworks_index.shape[1] else \
        np.full(len(items.drawings), -1)
    key = array_key(items.embeddings.drawings.digests, nb.drawings_index, nb.drawings_similarity, first,
                    json.dumps(views, sort_keys=True), repr(DEFAULT_SETTINGS), "groups-v2")
    cached = cache.get_arrays("groups", key)
    report.computed["groups"] = int(cached is None)
    if cached is not None:
        try:
            rest = json.loads(str(cached["rest"]))
            found = Groups(GroupSettings(**rest["settings"]), cached["group"], cached["series"],
                           cached["tightness"], tuple(tuple(tuple(p) for p in g) for g in rest["artworks"]),
                           cached["series_similarity"],
                           tuple(Homogeneity(**{**h, "examples": tuple(h["examples"])}) for h in rest["homogeneity"]),
                           {y: tuple(g) for y, g in rest["typical"].items()})
            return lambda: found
        except (KeyError, TypeError, ValueError):
            cache.warnings.append("The cached groups were damaged; they are computed again.")
    wait = apart_later(keeping_freed_memory(lambda: make_groups(items.embeddings.drawings.vectors, nb.drawings_index,
                                                                nb.drawings_similarity, first, views)))

    def made() -> Groups:
        g = wait()
        rest = {"settings": dataclasses.asdict(g.settings), "artworks": g.artworks,
                "homogeneity": [dataclasses.asdict(h) for h in g.homogeneity], "typical": g.typical}
        cache.put_arrays("groups", key, group=g.group, series=g.series, tightness=g.tightness,
                         series_similarity=g.series_similarity, rest=np.array(json.dumps(rest)))
        return g
    return made


def _checkpoint(settings: BuildSettings) -> dict | None:
    """The training record of a fine-tuned model, for the model page and the model card (read in a forked process
    when the network library is not loaded: reading the model file needs it)."""
    from generator.ml.weights import is_checkpoint_path

    if not is_checkpoint_path(str(settings.model)):
        return None

    def read() -> dict | None:
        from generator.ml.model import checkpoint_record

        return checkpoint_record(settings.model)

    return apart(read)


def _display_path(path, settings: BuildSettings) -> str:
    for root in (settings.drawings, settings.artworks):
        if root is not None and is_within(path, root):
            return f"{Path(root).name}/{Path(os.path.relpath(path, root)).as_posix()}"
    return str(path)
