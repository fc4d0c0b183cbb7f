"""How well groups, series and homogeneity find what the demo planted, and how long the stage takes at scale.

    python benchmarks/bench_groups.py [--root /tmp/sitegen-bench-groups] [--seed 7]
    python benchmarks/bench_groups.py --scale 100000 [--dim 1280] [--no-layout] [--hdbscan 5000,10000]

On the demo (written under ``--root`` with its planted ground truth, embedded by the build's model, its
neighbour lists made as a build makes them):

* **groups**: the adjusted Rand index between the groups and what each drawing shows (the artwork it
  re-creates, the motif of its series; originals alone), for both methods and a range of settings;
* **series**: precision and recall over pairs of drawings, for a range of similarity thresholds (the
  re-creations of one artwork by different children are not series, and count as errors);
* **homogeneity**: Kendall's and Spearman's rank agreement between the measured homogeneity of the
  planted country-years and their planted order.

With ``--scale N``: the groups stage (groups, series, homogeneity) against the map layout on the same N
synthetic vectors (clustered, normalised), with the neighbour lists made first as a build does.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def demo_vectors(root: Path, seed: int):
    """(drawings, vectors, neighbour lists, first artworks, truth) of the demo written under ``root``."""
    from generator.contracts import Embeddings
    from generator.demo.collection import planted_truth, write_demo
    from generator.pipeline.cache import Cache
    from generator.pipeline.progress import no_progress
    from generator.pipeline.report import BuildReport
    from generator.pipeline.stages import embed_items, find_neighbours, gather, published_items
    from generator.settings import BuildSettings

    demo = root / f"demo-{seed}"
    if not demo.is_dir():
        write_demo(demo, seed=seed)
    settings = BuildSettings(drawings=demo / "drawings", artworks=demo / "artworks", pairs=demo / "pairs.csv",
                             artworks_csv=demo / "artworks.csv", out=root / "site", cache=root / "cache")
    coll = gather(settings)
    cache = Cache(settings.cache)
    paths = [d.path for d in coll.drawings] + [a.path for a in coll.artworks]
    hashes = cache.content_hashes(paths)
    report = BuildReport(out=settings.out)
    embedded = embed_items(paths, hashes, cache, settings, no_progress, report)
    items = published_items(coll, hashes, embedded, settings)
    nb, _ = find_neighbours(items.embeddings, cache, settings, report)
    assert isinstance(items.embeddings, Embeddings)
    return items, nb, planted_truth(seed)


def truth_labels(items, truth) -> list[str]:
    """What each drawing shows: its planted subject, else the artwork it re-creates, else itself alone."""
    by_drawing = {d: a for d, a in items.pairs}
    out = []
    for d in items.drawings:
        shown = truth.shows.get(d.id)
        if shown is None or shown == "own":
            shown = f"artwork:{by_drawing[d.id]}" if d.id in by_drawing else f"own:{d.id}"
        out.append(shown)
    return out


def ari(truth: list[str], labels: np.ndarray) -> float:
    from sklearn.metrics import adjusted_rand_score

    pred = [f"g{g}" if g >= 0 else f"alone{i}" for i, g in enumerate(labels.tolist())]
    return float(adjusted_rand_score(truth, pred))


def pair_set(labels) -> set[tuple[int, int]]:
    by: dict = {}
    for i, g in enumerate(labels):
        if g is not None and g != -1:
            by.setdefault(g, []).append(i)
    return {(a, b) for rows in by.values() for k, a in enumerate(rows) for b in rows[k + 1:]}


def demo_benchmark(root: Path, seed: int) -> None:
    from scipy.stats import kendalltau, spearmanr

    from generator.ml.groups import (GROUP_SIMILARITY, METHOD, MIN_SIZE, SERIES_SIMILARITY, centred, hdbscan_groups,
                                     homogeneity, mutual_groups, normalised, rescored, series_of)

    items, nb, truth = demo_vectors(root, seed)
    raw = normalised(items.embeddings.drawings.vectors)
    v = centred(raw)
    ids = [d.id for d in items.drawings]
    shown = truth_labels(items, truth)
    idx, raw_sim = nb.drawings_index, nb.drawings_similarity.astype(np.float64)
    sim = rescored(v, idx)
    print(f"demo: seed {seed}, {len(ids)} drawings, {len(truth.series)} planted series "
          f"({sum(map(len, truth.series))} drawings), {len(truth.copying)} planted copying classes; "
          f"{idx.shape[1]} nearest drawings listed per drawing")

    print("\ngroups (adjusted Rand index against what each drawing shows, originals each alone; higher is better)")
    print(f"{'vectors':<8} {'method':<8} {'setting':<22} {'groups':>6} {'in a group':>10} {'ARI':>6} {'seconds':>8}")
    best = (-2.0, "")
    for name, w, s in (("raw", raw, raw_sim), ("centred", v, sim)):
        for min_size in (2, 3, 4):
            for threshold in (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85):
                t = time.perf_counter()
                labels = mutual_groups(idx, s, threshold, min_size)
                dt = time.perf_counter() - t
                setting = f"min {min_size}, sim >= {threshold}"
                score = ari(shown, labels)
                best = max(best, (score, f"{name} mutual {setting}"))
                print(f"{name:<8} {'mutual':<8} {setting:<22} {labels.max() + 1:>6} "
                      f"{(labels >= 0).mean():>10.0%} {score:>6.3f} {dt:>8.3f}")
            t = time.perf_counter()
            labels = hdbscan_groups(w, min_size)
            dt = time.perf_counter() - t
            score = ari(shown, labels)
            best = max(best, (score, f"{name} hdbscan min {min_size}"))
            print(f"{name:<8} {'hdbscan':<8} {f'min {min_size}':<22} {labels.max() + 1:>6} "
                  f"{(labels >= 0).mean():>10.0%} {score:>6.3f} {dt:>8.3f}")
    print(f"best: {best[1]} (ARI {best[0]:.3f}); the site uses {METHOD} min {MIN_SIZE}, sim >= {GROUP_SIMILARITY} "
          "on centred vectors")

    print("\nseries (pairs of drawings in one series: precision and recall against the planted series)")
    row = {d: i for i, d in enumerate(ids)}
    planted = pair_set([next((k for k, s in enumerate(truth.series) if d in s), None) for d in ids])
    print(f"planted pairs: {len(planted)}; similarity of planted pairs: " + ", ".join(
        f"{float(raw[a] @ raw[b]):.3f}" for a, b in sorted(planted)))
    same_art = pair_set([s if s.startswith("artwork:") else None for s in shown]) - planted
    sims = [float(raw[a] @ raw[b]) for a, b in same_art]
    print(f"re-creations of one artwork by different children (not series): {len(same_art)} pairs, "
          f"similarity max {max(sims):.3f}, 99th percentile {np.percentile(sims, 99):.3f}")
    print(f"{'threshold':>9} {'series':>6} {'pairs':>6} {'precision':>9} {'recall':>6} {'F1':>6}")
    for threshold in (0.8, 0.82, 0.84, 0.86, 0.88, 0.9, 0.91, 0.92, 0.93, 0.94, 0.96):
        series, _ = series_of(idx, raw_sim, threshold)
        found = pair_set(series.tolist())
        tp = len(found & planted)
        p = tp / len(found) if found else 1.0
        r = tp / len(planted) if planted else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        mark = "  <- the site's" if abs(threshold - SERIES_SIMILARITY) < 1e-9 else ""
        print(f"{threshold:>9.2f} {series.max() + 1:>6} {len(found):>6} {p:>9.2f} {r:>6.2f} {f1:>6.2f}{mark}")

    views = {"country-years": [f"{d.country}-{d.year}" if d.country and d.year else None for d in items.drawings]}
    for name, w in (("raw", raw), ("centred", v)):
        print(f"\nhomogeneity of the planted country-years on {name} vectors (level: higher copies more)")
        homogeneity_rank(truth, {h.key: h for h in homogeneity(w, views)})


def homogeneity_rank(truth, rows) -> None:
    from scipy.stats import kendalltau, spearmanr

    measured, levels = [], []
    for country, year, level in truth.copying:
        h = rows.get(f"{country}-{year}")
        if h is None:
            continue
        measured.append(h.similarity)
        levels.append(level)
        print(f"  {country}-{year} level {level}: {h.drawings} drawings, similarity {h.similarity:.3f} "
              f"(random sets {h.baseline:.3f}, 95 % {h.low:.3f}-{h.high:.3f}), share as alike {h.p:.3f}")
    print(f"rank agreement with the planted order: Kendall tau {kendalltau(levels, measured)[0]:.3f}, "
          f"Spearman rho {spearmanr(levels, measured)[0]:.3f} ({len(levels)} country-years)")
    all_rows = sorted(rows.values(), key=lambda h: -h.similarity)
    print("measured country-years, most alike first: " + ", ".join(f"{h.key} {h.similarity:.3f}" for h in all_rows))


def synthetic(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """``n`` normalised vectors around 2,000 centres, as drawings around their subjects: a third close to theirs
    (they form groups), the others far (they stay alone)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((2000, dim)).astype(np.float32)
    spread = np.where(rng.random(n) < 1 / 3, 0.5, 1.5).astype(np.float32)[:, None]
    v = centres[rng.integers(0, 2000, n)] + spread * rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def scale_benchmark(n: int, dim: int, layout: bool, hdbscan_sizes: list[int]) -> None:
    from generator.ml.groups import make_groups
    from generator.ml.neighbours import top_k

    v = synthetic(n, dim)
    rng = np.random.default_rng(1)
    keys = {"countries": [f"C{c:03d}" for c in rng.integers(0, 150, n)],
            "years": [str(y) for y in rng.integers(1994, 2021, n)],
            "ages": [str(a) for a in rng.integers(0, 6, n)]}
    keys["country-years"] = [f"{c}-{y}" for c, y in zip(keys["countries"], keys["years"])]
    t = time.perf_counter()
    idx, sim = top_k(v, v, 6, exclude_self=True)
    t_nb = time.perf_counter() - t
    t = time.perf_counter()
    g = make_groups(v, idx, sim, np.zeros(n, np.int64), keys)
    t_groups = time.perf_counter() - t
    print(f"{n} drawings x {dim}: neighbour lists {t_nb:.1f} s (already made by the neighbours stage); "
          f"groups stage {t_groups:.1f} s: {g.count} groups, {g.series_count} series, "
          f"{len(g.homogeneity)} views measured")
    for m in hdbscan_sizes:
        from generator.ml.groups import hdbscan_groups

        t = time.perf_counter()
        labels = hdbscan_groups(v[:m], 2)
        print(f"HDBSCAN (scikit-learn) over the first {m} vectors: {time.perf_counter() - t:.1f} s, "
              f"{labels.max() + 1} groups")
    if layout:
        from generator.ml.layout import compute_layout

        t = time.perf_counter()
        compute_layout(v, seed=42)
        print(f"map layout of the same vectors: {time.perf_counter() - t:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path("/tmp/sitegen-bench-groups"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", type=int, default=0, help="time the stage on this many synthetic drawings")
    parser.add_argument("--dim", type=int, default=1280)
    parser.add_argument("--no-layout", action="store_true", help="with --scale: do not time the layout")
    parser.add_argument("--hdbscan", default="", help="with --scale: also time HDBSCAN on the first N vectors, "
                        "for each N of this comma-separated list")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    if args.scale:
        scale_benchmark(args.scale, args.dim, not args.no_layout, [int(m) for m in args.hdbscan.split(",") if m])
    else:
        demo_benchmark(args.root, args.seed)


if __name__ == "__main__":
    main()
