"""End to end: first build, no-op rebuild and "100 new drawings" rebuild of a 100k collection.

    python benchmarks/bench_rebuild.py [--drawings 100000] [--artworks 2000] [--add 100]
                                       [--root /tmp/sitegen-rebuild] [--noop-repeat 3] [--keep] [--reuse [--refill]]
                                       [--site-url URL] [--languages en,fr]

1. Writes ``--drawings`` tiny JPEG drawings (IMAJ names, nested year/country folders)
   and ``--artworks`` artworks under ``--root`` (never inside the repository).
2. Pre-fills the embedding cache with synthetic normalised vectors keyed by the files'
   content hashes (``Cache.content_hashes``) under the build's real embedding key
   (``pipeline.embedding_key``), so the first build does everything but run the network:
   hashing, neighbours, layout, pictures, pages.
3. Runs ``pipeline.build`` in a child process (its own peak RSS): first build, then
   ``--noop-repeat`` builds with nothing changed (median), then adds ``--add`` drawings
   whose vectors are *not* pre-filled, so the real model embeds them, and builds again.

The builds run a snapshot of ``generator/``, ``templates/`` and ``static/`` copied to
``--root``/code at the start: the code is part of the site's fingerprint, so editing the
checkout during the benchmark would otherwise turn the no-op build into a full one.

Prints one JSON line per build and a table; the collection stays under ``--root`` with
``--keep`` (otherwise it is deleted at the end). Each build's line gives its peak RSS and, on
Linux, the peak of each stage on its own (``peak_rss_mb_between``: ``VmHWM`` read at the end of
the stage, then reset through ``/proc/self/clear_refs``), so the stage that sets the peak shows,
and the memory of the build together with the processes it forks (``tree_peak_mb``: the sum
of their ``Pss``, each shared page counted once, sampled every half second in the first build and
every ``--rebuild-sample-every`` seconds in the others: each reading costs the build some processor
time), since several stages run in forked processes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

AGES = ["3-5", "6-9", "10-13", "14-17", "MS"]
COUNTRIES = ["ARG", "BRA", "DEU", "FRA", "IND", "JPN", "KEN", "MEX", "POL", "TUR", "USA", "VNM"]


PICTURE_SUFFIXES = {".webp", ".jpg", ".jpeg", ".png", ".avif", ".gif"}


def settings_for(root: Path):
    from generator.settings import BuildSettings

    site_url = os.environ.get("SITEGEN_BENCH_SITE_URL") or None
    languages = os.environ.get("SITEGEN_BENCH_LANGUAGES") or None
    # No find page: its build step checks the exported model against the collection's vectors, and these are
    # synthetic (benchmarks/bench_find.py measures that page and its files).
    return BuildSettings(drawings=root / "drawings", artworks=root / "artworks", out=root / "site",
                         cache=root / "cache", site_url=site_url, find_page=False,
                         **({"languages": languages} if languages else {}))


def site_breakdown(site: Path) -> dict[str, float]:
    """Megabytes of the built site by kind: HTML pages, data (JSON, CSV, ... outside static/ and iiif/),
    IIIF manifests, pictures, the shared static files; those of a second language's folder (``fr/``) apart, as
    "fr/pages"...; of the pages, the groups' and the artworks' own pages also apart ("groups pages", "artworks
    pages": the site's budget counts the artworks' pages separately)."""
    sizes = {"pages": 0, "data": 0, "iiif": 0, "pictures": 0, "static": 0}
    languages = (os.environ.get("SITEGEN_BENCH_LANGUAGES") or "").split(",")[1:]
    for path in site.rglob("*"):
        if not path.is_file():
            continue
        parts = path.relative_to(site).parts
        folder = f"{parts[0]}/" if parts[0] in languages and len(parts) > 1 else ""
        top = parts[1] if folder else parts[0]
        kind = folder + ("static" if top == "static" else "iiif" if top == "iiif"
                         else "pictures" if path.suffix.lower() in PICTURE_SUFFIXES
                         else "pages" if path.suffix == ".html" else "data")
        sizes[kind] = sizes.get(kind, 0) + path.stat().st_size
        if kind.endswith("pages") and top in ("group", "groups", "series"):   # of which: the groups' own pages
            sizes[folder + "groups pages"] = sizes.get(folder + "groups pages", 0) + path.stat().st_size
        if kind.endswith("pages") and top == "artworks":   # of which: the artworks' own pages (counted apart)
            sizes[folder + "artworks pages"] = sizes.get(folder + "artworks pages", 0) + path.stat().st_size
    return {k: round(v / 1e6, 1) for k, v in sizes.items()}


def write_drawings(root: Path, start: int, count: int, size: int, seed: int | None = None) -> list[Path]:
    rng = np.random.default_rng(start if seed is None else seed)
    paths = []
    for i in range(start, start + count):
        year, country, age = 1990 + i % 30, COUNTRIES[i % len(COUNTRIES)], AGES[(i // 7) % len(AGES)]
        path = root / "drawings" / str(year) / country / f"{year}_{age}_{i:06d}_{country}_R_C.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        drawn_picture(rng, size).save(path, "JPEG", quality=80)
        paths.append(path)
    return paths


def drawn_picture(rng, size: int):
    """A few lines, discs and frames in random colours on a pale ground: small JPEGs of distinct content that the
    network sees as distinct, as an archive's drawings are. (Smooth random colour fields, used before, were seen
    as near-identical: a third of their pairs at 0.91 or more, so every +100 joined one series of thousands.)"""
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (size, size), tuple(int(c) for c in rng.integers(200, 256, 3)))
    pen = ImageDraw.Draw(picture)
    for _ in range(int(rng.integers(3, 9))):
        kind, colour = int(rng.integers(0, 3)), tuple(int(c) for c in rng.integers(0, 256, 3))
        x0, y0, x1, y1 = (int(v) for v in rng.integers(0, size, 4))
        box = (min(x0, x1), min(y0, y1), max(x0, x1) + 2, max(y0, y1) + 2)
        if kind == 0:
            pen.line((x0, y0, x1, y1), fill=colour, width=int(rng.integers(1, 5)))
        elif kind == 1:
            pen.ellipse(box, fill=colour)
        else:
            pen.rectangle(box, outline=colour, width=int(rng.integers(1, 4)))
    return picture


def write_artworks(root: Path, count: int, size: int) -> None:
    from PIL import Image

    rng = np.random.default_rng(999)
    for j in range(count):
        artist = f"Artist_{j % 200:03d}"
        path = root / "artworks" / artist / f"{artist}_{j}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        small = rng.integers(0, 255, (4, 4, 3), dtype=np.uint8)
        Image.fromarray(small).resize((size, int(size * 1.25)), Image.BILINEAR).save(path, "JPEG", quality=80)


def model_dim(settings) -> int:
    from generator.ml.model import load_model

    return int(load_model(settings.model, settings.weights).dim)


def prefill(root: Path) -> tuple[int, float]:
    """Synthetic vectors for every picture now in the collection; (count, seconds)."""
    from generator.pipeline.cache import Cache
    from generator.inputs.images import IMAGE_SUFFIXES
    from generator.pipeline.stages import embedding_key

    settings = settings_for(root)
    start = time.perf_counter()
    paths = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and "site" not in p.parts
                   and "cache" not in p.parts)
    cache = Cache(settings.cache)
    hashes = sorted(set(h for h in cache.content_hashes(paths) if h))
    key = embedding_key(settings)[0]
    dim = model_dim(settings)
    rng = np.random.default_rng(3)
    # Drawings around 2,000 subjects: a third close to theirs (they form groups and series, as copies of one
    # artwork or a class's motif do), the others far from any (they stay alone); unit vectors.
    centres = rng.standard_normal((2000, dim), dtype=np.float32)
    for s in range(0, len(hashes), 20_000):
        part = hashes[s:s + 20_000]
        spread = np.where(rng.random(len(part)) < 1 / 3, 0.5, 1.5).astype(np.float32)[:, None]
        v = centres[rng.integers(0, len(centres), len(part))] + spread * rng.standard_normal(
            (len(part), dim), dtype=np.float32)
        cache.add_embeddings(key, part, v / np.linalg.norm(v, axis=1, keepdims=True))
    cache.compact_embeddings(key)
    return len(hashes), time.perf_counter() - start


def peak_since_last_mb() -> float | None:
    """Peak RSS (``VmHWM``) since the previous call, then the peak reset to the current RSS (Linux's
    ``/proc/self/clear_refs``): which step of the build set the peak. None where /proc does not allow it."""
    try:
        with open("/proc/self/status") as fh:
            hwm = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except (OSError, StopIteration, ValueError):
        return None
    return round(hwm / 1024)


def memory_now() -> str:
    """The process's memory at this moment (Linux): resident in all, of which its own (heap, arrays) and of which
    mapped files (libraries, the mapped vectors), which the system can take back without writing anything."""
    try:
        with open("/proc/self/status") as fh:
            f = {k: int(v.split()[0]) // 1024 for k, v in (line.split(":", 1) for line in fh)
                 if k in ("VmRSS", "RssAnon", "RssFile")}
        return f"now {f['VmRSS']} MB resident: own {f['RssAnon']} MB, mapped files {f['RssFile']} MB"
    except (OSError, KeyError, ValueError):
        return ""


def _tree_pids(pid: int) -> list[int] | None:
    """Process ``pid`` and every process below it; None where /proc does not tell (or ``pid`` has ended)."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            if p == pid:
                return None
            continue   # a child may end while it is read
        pids.append(p)
    return sorted(pids)


def tree_pss_mb(pid: int) -> float | None:
    """The memory of process ``pid`` and of every process below it, each page shared between them counted once
    (the sum of their proportional set sizes, Linux's ``Pss``): what they take from the machine together. None
    where /proc does not tell.

    The processes are listed before and after their sizes are read, and the reading is taken again when a process
    began or ended meanwhile: a parent read just before it forks counts every page it then shares as its own, and
    the new process read just after counts its share of them again (a sum 0.7 GB too high was read that way at a
    first build's fork of a page worker); a process ending meanwhile does the same the other way round."""
    for _ in range(20):
        before = _tree_pids(pid)
        if before is None:
            return None
        total = 0
        try:
            for p in before:
                with open(f"/proc/{p}/smaps_rollup") as fh:
                    total += next(int(line.split()[1]) for line in fh if line.startswith("Pss:"))
        except (OSError, StopIteration, ValueError):
            if not os.path.exists(f"/proc/{pid}"):
                return None
            continue   # a process ended while it was read: read again
        if _tree_pids(pid) == before:
            return total / 1024
    return None


class TreeMemory(threading.Thread):
    """:func:`tree_pss_mb` of this process every ``every`` seconds: the highest since the start and since the last
    :meth:`take` (a stage's), the forked workers included."""

    def __init__(self, every: float = 0.5):
        super().__init__(daemon=True)
        # 0 (or less): not read at all (a wait of 0 s between readings would read without a pause)
        self.every, self.peak, self.since = every, 0.0, 0.0
        self.works = every > 0 and tree_pss_mb(os.getpid()) is not None
        self.done = threading.Event()

    def run(self) -> None:
        while self.works and not self.done.wait(self.every):
            mb = tree_pss_mb(os.getpid()) or 0.0
            self.peak, self.since = max(self.peak, mb), max(self.since, mb)

    def take(self) -> float | None:
        if not self.works:
            return None
        mb, self.since = max(self.since, tree_pss_mb(os.getpid()) or 0.0), 0.0
        return round(mb)


def child_build(root: Path) -> dict:
    from generator.pipeline.stages import build

    rss_after: dict[str, float] = {}  # peak RSS so far at the end of each stage: which stage set the peak
    rss_between: dict[str, float] = {}  # peak RSS between the previous progress line and this one (Linux)
    tree_between: dict[str, float] = {}  # the same for the build and its forked processes together (sampled)
    tree = TreeMemory(float(os.environ.get("SITEGEN_BENCH_SAMPLE_EVERY", "0.5")))
    tree.start()

    def echo(line: str) -> None:
        stage = line.split(":", 1)[0]
        rss_after[stage] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        peak = peak_since_last_mb()
        if peak is not None:
            rss_between[stage] = max(rss_between.get(stage, 0), peak)
        together = tree.take()
        if together is not None:
            tree_between[stage] = max(tree_between.get(stage, 0), together)
        with open(root / "stage-peaks.log", "a") as fh:   # readable while a long build runs
            fh.write(f"{time.strftime('%H:%M:%S')} {line} [peak RSS of the step: {peak} MB; with its forked "
                     f"processes (shared pages once): {together} MB; {memory_now()}]\n")

    start = time.perf_counter()
    report = build(settings_for(root), echo=echo)
    wall = time.perf_counter() - start
    tree.done.set()
    import generator
    assert Path(generator.__file__).resolve().parent.parent == REPO, "not running the snapshot"
    # The build's peak is the highest of the stages' peaks (VmHWM, reset between stages). Not ru_maxrss where
    # those can be read: Linux keeps it across exec, so a child started by this benchmark's parent carried the
    # parent's own peak (its generated collection and vectors: 1.2 GB at 100,000 drawings) into every row.
    last = peak_since_last_mb()
    peak = (max([last or 0, *rss_between.values()]) if rss_between
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {"wall_s": wall, "peak_rss_mb": peak,
            "children_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "computed": report.computed, "timings": report.timings, "peak_rss_mb_after": rss_after,
            "peak_rss_mb_between": rss_between,
            "tree_peak_mb": round(max([tree.peak, *tree_between.values()])) if tree.works else None,
            "tree_peak_mb_between": tree_between,
            "torch_loaded": "torch" in sys.modules,
            "drawings": report.drawings,
            "artworks": report.artworks, "site_files": report.site_files, "site_mb": report.site_bytes / 1e6,
            "site_mb_by_kind": site_breakdown(settings_for(root).out),
            "load": os.getloadavg()[0]}


def snapshot_code(root: Path) -> Path:
    code = root / "code"
    for name in ("generator", "templates", "static", "benchmarks"):
        shutil.copytree(REPO / name, code / name, ignore=shutil.ignore_patterns("__pycache__"))
    return code


def run_build(root: Path, label: str, sample_every: float = 0.5) -> dict:
    code = root / "code"
    env = {**os.environ, "PYTHONPATH": str(code), "SITEGEN_BENCH_SAMPLE_EVERY": str(sample_every)}
    proc = subprocess.run([sys.executable, str(code / "benchmarks" / Path(__file__).name), "--child", str(root)],
                          capture_output=True, text=True, env=env, cwd=str(code))
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"{label} build failed (exit {proc.returncode})")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["label"] = label
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--drawings", type=int, default=100_000)
    ap.add_argument("--artworks", type=int, default=2_000)
    ap.add_argument("--add", type=int, default=100)
    ap.add_argument("--size", type=int, default=48, help="side of the generated pictures in pixels")
    ap.add_argument("--root", type=Path, default=Path("/tmp/sitegen-rebuild"))
    ap.add_argument("--noop-repeat", type=int, default=3)
    ap.add_argument("--rebuild-sample-every", type=float, default=2.0,
                    help="seconds between two readings of the memory in the builds after the first (each reading "
                         "walks the memory of every process of the build: every half second it took about a tenth "
                         "of a core, which a rebuild of a few seconds felt); 0: not read")
    ap.add_argument("--first-only", action="store_true", help="stop after the first build")
    ap.add_argument("--keep", action="store_true", help="keep the generated collection, site and cache")
    ap.add_argument("--reuse", action="store_true",
                    help="build again the collection and cache an earlier run left with --keep (after a code change: "
                         "the sizes of the new pages without generating the pictures and neighbours again)")
    ap.add_argument("--refill", action="store_true", help="with --reuse: make the synthetic vectors again")
    ap.add_argument("--site-url", default=None,
                    help="build as for hosting at this address (adds link previews and IIIF manifests)")
    ap.add_argument("--languages", default=None,
                    help="build the site in these languages, e.g. en,fr (the first at the top, the others in folders)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:   # the build as `sitegen build` runs it: nothing loaded or set beforehand
        print(json.dumps(child_build(Path(a.child))))
        return
    if a.site_url:
        os.environ["SITEGEN_BENCH_SITE_URL"] = a.site_url  # read by the child builds
    if a.languages:
        os.environ["SITEGEN_BENCH_LANGUAGES"] = a.languages
    root = a.root.resolve()
    if root == REPO or REPO in root.parents:
        raise SystemExit("--root must lie outside the repository")
    if a.reuse and (root / "cache").is_dir():
        # the collection and cache of an earlier --keep run: only the code (and so the pages) is new
        if (root / "code").exists():
            shutil.rmtree(root / "code")
        snapshot_code(root)
        if a.refill:   # the synthetic vectors again (after a change to how they are made)
            shutil.rmtree(root / "cache" / "embeddings", ignore_errors=True)
            n, secs = prefill(root)
            print(f"pre-filled {n:,} synthetic vectors in {secs:.0f} s", file=sys.stderr)
    else:
        if root.exists():
            shutil.rmtree(root)
        snapshot_code(root)
        t0 = time.perf_counter()
        write_drawings(root, 0, a.drawings, a.size)
        write_artworks(root, a.artworks, a.size)
        print(f"generated {a.drawings:,} drawings + {a.artworks:,} artworks in {time.perf_counter() - t0:.0f} s",
              file=sys.stderr)
        n, secs = prefill(root)
        print(f"pre-filled {n:,} synthetic vectors in {secs:.0f} s", file=sys.stderr)
    from yardstick import line, yardstick

    before = yardstick()
    print(line(before, "at the start"), file=sys.stderr, flush=True)
    rows = [run_build(root, "first build")]
    if a.first_only:
        print(line(yardstick(), "at the end"), file=sys.stderr)
        return
    noops = [run_build(root, f"no-op {i + 1}", a.rebuild_sample_every) for i in range(a.noop_repeat)]
    rows += noops
    # New numbers, so new files (vectors not pre-filled): after the drawings an earlier --keep run already
    # added, and with new content each time, so that every run adds drawings the cache has never seen.
    start = max([a.drawings] + [int(p.name.split("_")[2]) + 1 for p in (root / "drawings").rglob("*.jpg")])
    write_drawings(root, start, a.add, a.size, seed=time.time_ns() if a.reuse else None)
    rows.append(run_build(root, f"+{a.add} drawings", a.rebuild_sample_every))

    after = yardstick()
    python_s = (before["python_s"] + after["python_s"]) / 2
    print(f"\n{a.drawings:,} drawings + {a.artworks:,} artworks ({a.size}x{a.size} JPEG), cpu threads {os.cpu_count()}")
    print(line(before, "at the start"))
    print(line(after, "at the end"))
    print("| build | wall | wall / yardstick | peak RSS (workers) | with its workers, shared pages once | "
          "embeddings computed | pages rendered | files changed | load avg |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        c = r["computed"]
        together = "" if r.get("tree_peak_mb") is None else f"{r['tree_peak_mb']:,.0f} MB"
        print(f"| {r['label']} | {r['wall_s']:.1f} s | {r['wall_s'] / python_s:.0f} | {r['peak_rss_mb']:,.0f} MB "
              f"({r['children_peak_rss_mb']:,.0f}) | {together} | {c.get('embeddings')} | "
              f"{c.get('pages')} | {c.get('files_changed', 0)} | {r['load']:.1f} |")
    print(f"no-op median: {statistics.median(r['wall_s'] for r in noops):.1f} s "
          f"(stages: {json.dumps({k: round(v, 2) for k, v in noops[-1]['timings'].items()})})")
    print(f"first build, megabytes by kind: {json.dumps(rows[0]['site_mb_by_kind'])}")
    print(f"first build stages: {json.dumps({k: round(v, 1) for k, v in rows[0]['timings'].items()})}")
    print(f"+{a.add} stages: {json.dumps({k: round(v, 1) for k, v in rows[-1]['timings'].items()})}")
    if not a.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
