"""The map layout at scale: a full UMAP against UMAP of a sample with the rest placed, on the same points.

    python benchmarks/bench_layout.py --points 110000 [--samples 10000,27500,55000] [--full]
    python benchmarks/bench_layout.py --points 1100000 --samples 100000 [--no-quality] [--add 100]
    python benchmarks/bench_layout.py --arrange 1100000

``--add N`` then times placing N new items into the map, as a rebuild does (``update_layout``).
``--arrange N`` times what the build does with the layout before writing the map's files (the point order
along a Z-order curve, the year and country arrangements, the named groups) on N synthetic items: 10 %
drawings with a year, a country and an age group, 90 % artworks by 5,000 artists, at random places.

Each layout runs in its own process, so its peak RSS (``resource.getrusage``) is its own; the input is
built there too (and counted in that RSS: n x 1280 float32, 5.6 GB at 1.1 M).

Input: a synthetic cloud with structure at two scales, unit-normalised 1280-number vectors: 200 clusters,
and inside each cluster points spread along 8 directions of their own, plus noise. So "nearest neighbours"
mean something inside a cluster too (in a plain Gaussian cloud they are noise).

Quality: for ``--eval`` points chosen with a fixed seed, the share of their 10 nearest neighbours among the
vectors (exact cosine) that are also among their 10 nearest on the map (Euclidean), averaged. The same
points and the same neighbours for every method, so the figures compare.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DIM = 1280


def structured(n: int, seed: int = 5, clusters: int = 200, local: int = 8, block: int = 65536) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, DIM)).astype(np.float32)
    bases = (rng.standard_normal((clusters, local, DIM)) * 0.6).astype(np.float32)
    which = rng.integers(0, clusters, n)
    x = np.empty((n, DIM), np.float32)
    for start in range(0, n, block):
        c = which[start:start + block]
        latent = rng.standard_normal((len(c), local)).astype(np.float32)
        part = centres[c] + np.einsum("nl,nld->nd", latent, bases[c])
        part += 0.35 * rng.standard_normal(part.shape, dtype=np.float32)
        x[start:start + block] = part / np.linalg.norm(part, axis=1, keepdims=True)
    return x


def eval_rows(n: int, count: int) -> np.ndarray:
    return np.sort(np.random.default_rng(11).choice(n, min(count, n), replace=False))


def high_dim_neighbours(x: np.ndarray, rows: np.ndarray, k: int = 10) -> np.ndarray:
    from generator.ml.neighbours import top_k

    idx, _ = top_k(x[rows], x, k + 1)
    return np.array([[j for j in r if j != q][:k] for q, r in zip(rows, idx)])


def map_neighbours(coords: np.ndarray, rows: np.ndarray, k: int = 10) -> np.ndarray:
    from scipy.spatial import cKDTree

    _, idx = cKDTree(coords.astype(np.float64)).query(coords[rows].astype(np.float64), k + 1)
    return np.array([[j for j in r if j != q][:k] for q, r in zip(rows, idx)])


def kept(truth: np.ndarray, found: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(a) for a, b in zip(truth, found)]))


def child(a) -> None:
    from generator.ml.layout import compute_layout

    everything = structured(a.points + a.add, local=a.local)
    x = everything[:a.points]
    t = time.perf_counter()
    lay = compute_layout(x, seed=42, full_max=a.points if a.sample == 0 else 0, sample=a.sample)
    secs = time.perf_counter() - t
    out = {"points": a.points, "sample": lay.sample, "method": lay.method, "secs": secs,
           "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "in_unit_square": bool(np.abs(lay.coords).max() <= 1)}
    if a.add:
        from generator.ml.layout import row_digests, update_layout

        state = {"digests": row_digests(x), "coords": lay.coords, "method": np.array(lay.method),
                 "placed": np.array(0), "sample": np.array(lay.sample)}
        t = time.perf_counter()
        _, _, placed = update_layout(everything, state, seed=42)
        out["add_secs"], out["added"] = time.perf_counter() - t, placed
    if a.quality:
        rows = eval_rows(a.points, a.eval)
        truth_file = Path(a.truth)
        if truth_file.is_file():
            truth = np.load(truth_file)
        else:
            truth = high_dim_neighbours(x, rows)
            np.save(truth_file, truth)
        out["kept10"] = kept(truth, map_neighbours(lay.coords, rows))
    print("RESULT " + json.dumps(out), flush=True)


def arrange(n: int) -> None:
    from generator.pipeline.derive import arrange_map
    from generator.site.mapdata import NONE_VALUE, MapItem

    rng = np.random.default_rng(3)
    xy = np.clip(rng.standard_normal((n, 2)) * 0.3, -1, 1)
    nd = n // 10
    countries = [f"C{k:02d}" for k in range(60)]
    items = [MapItem("d", f"d{i}", float(xy[i, 0]), float(xy[i, 1]), f"d{i}", country=countries[i % 60],
                     year=str(1990 + i % 30), age=str(6 + i % 10)) if i < nd else
             MapItem("a", f"a{i}", float(xy[i, 0]), float(xy[i, 1]), f"a{i}", artist=f"Artist {i % 5000}")
             for i in range(n)]
    t = time.perf_counter()
    got = arrange_map(items, {c: c for c in countries} | {NONE_VALUE: NONE_VALUE})
    secs = time.perf_counter() - t
    print(f"map arrangement of {n:,} items: {secs:.1f} s, peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB, {len(got.layouts)} arrangements")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=110_000)
    ap.add_argument("--samples", default="10000,27500,55000", help="sample sizes to try (comma-separated)")
    ap.add_argument("--full", action="store_true", help="also the full UMAP of all points")
    ap.add_argument("--no-quality", dest="quality", action="store_false")
    ap.add_argument("--local", type=int, default=8, help="directions of spread inside each cluster")
    ap.add_argument("--add", type=int, default=0, help="then time placing this many new items into the map")
    ap.add_argument("--eval", type=int, default=3000, help="points whose neighbours are compared")
    ap.add_argument("--truth", default="/tmp/sitegen-bench-layout-truth.npy",
                    help="cache of the vectors' neighbours of the evaluation points (per --points)")
    ap.add_argument("--arrange", type=int, default=0, help="time the map's arrangement of this many items instead")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--sample", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if not a.child:
        a.truth = a.truth.replace(".npy", f"-{a.points}-{a.eval}" + (f"-{a.local}" if a.local != 8 else "") + ".npy")
    if a.child:
        child(a)
        return
    if a.arrange:
        arrange(a.arrange)
        return
    runs = ([0] if a.full else []) + [int(s) for s in a.samples.split(",") if s]
    print(f"{'method':<34} {'points':>10} {'time':>9} {'peak RSS':>10} {'10-NN kept':>11}")
    for sample in runs:
        cmd = [sys.executable, __file__, "--child", "--points", str(a.points), "--sample", str(sample),
               "--eval", str(a.eval), "--local", str(a.local), "--truth", a.truth, "--add", str(a.add)]
        if not a.quality:
            cmd.append("--no-quality")
        out = subprocess.run(cmd, capture_output=True, text=True)
        line = [s for s in out.stdout.splitlines() if s.startswith("RESULT ")]
        if not line:
            print(out.stdout[-2000:], out.stderr[-4000:])
            continue
        r = json.loads(line[0][7:])
        name = "UMAP of all" if not r["sample"] else f"UMAP of {r['sample']:,}, rest placed"
        q = f"{r['kept10']:.3f}" if "kept10" in r else "-"
        print(f"{name:<34} {r['points']:>10,} {r['secs']:>8.1f}s {r['rss_mb']:>8,.0f}MB {q:>11}"
              + ("" if r["in_unit_square"] else "  OUTSIDE [-1, 1]"), flush=True)
        if "added" in r:
            print(f"  then {a.add:,} new items: {r['add_secs']:.1f} s (digests of every item included), "
                  f"{r['added']:,} placed" + (" (-1: the whole map computed again)" if r["added"] < 0 else ""))


if __name__ == "__main__":
    main()
