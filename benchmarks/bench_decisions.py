"""Review decisions at archive scale: reading decisions files, and the neighbour search without rejected pairs.

    python benchmarks/bench_decisions.py [--drawings 90000] [--decisions 20000] [--nb-drawings 20000]
                                         [--nb-artworks 5000] [--rejected-share 0.1] [--repeat 3]

1. Writes a decisions.csv of ``--decisions`` lines (a tenth of them rejected, one in a
   hundred naming an unknown drawing, so the report path is timed too) against
   ``--drawings`` known drawing identifiers, and times ``read_decisions``.
2. Times the drawing -> artwork search for ``--nb-drawings`` random unit vectors (1280
   dimensions) against ``--nb-artworks``, top 10, plain (``top_k``) and with one rejected
   artwork for ``--rejected-share`` of the drawings (``top_k_without``, which searches one
   deeper and drops the rejected ones), and checks that the rows without a rejection are
   the same.

Prints one table (median of ``--repeat`` runs, the two searches alternated); nothing is written in
the repository.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.inputs.decisions import read_decisions  # noqa: E402
from generator.ml.neighbours import top_k, top_k_without  # noqa: E402


def _median_time(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def _cpu() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        return next((ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name")),
                    platform.processor())
    except OSError:
        return platform.processor()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--drawings", type=int, default=90_000)
    ap.add_argument("--decisions", type=int, default=20_000)
    ap.add_argument("--nb-drawings", type=int, default=20_000)
    ap.add_argument("--nb-artworks", type=int, default=5_000)
    ap.add_argument("--rejected-share", type=float, default=0.1)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)

    drawing_ids = [f"{1990 + i % 30}_10-13_{i:05d}_FRA" for i in range(args.drawings)]
    artwork_ids = [f"artist_{i // 20}_{i % 20}" for i in range(2_000)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "decisions.csv"
        lines = ["drawing,artwork,decision,note"]
        for k in range(args.decisions):
            d = drawing_ids[int(rng.integers(len(drawing_ids)))] if k % 100 else f"1999_10-13_9{k:05d}_XXX"
            lines.append(f"{d},{artwork_ids[k % len(artwork_ids)]},{'rejected' if k % 10 == 0 else 'confirmed'},")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        read_s, (got, problems) = _median_time(
            lambda: (lambda p: (read_decisions([path], drawing_ids, artwork_ids, p), p))([]), args.repeat)

    d = rng.normal(size=(args.nb_drawings, 1280)).astype(np.float32)
    a = rng.normal(size=(args.nb_artworks, 1280)).astype(np.float32)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    idx, _ = top_k(d, a, 10)
    rows = rng.choice(len(d), int(len(d) * args.rejected_share), replace=False)
    banned = [(int(r), int(idx[r, 0])) for r in rows]
    # Alternated, so that a busy machine slows both alike.
    plain, without = [], []
    for _ in range(args.repeat):
        plain.append(_median_time(lambda: top_k(d, a, 10), 1)[0])
        t, (idx2, _) = _median_time(lambda: top_k_without(d, a, 10, banned), 1)
        without.append(t)
    plain_s, without_s = statistics.median(plain), statistics.median(without)
    untouched = np.setdiff1d(np.arange(len(d)), rows)
    assert np.array_equal(idx2[untouched], idx[untouched]), "rows without a rejection changed"
    assert not np.any(idx2[rows] == idx[rows, :1]), "a rejected artwork is still listed"

    print(f"CPU: {_cpu()}; median of {args.repeat} runs")
    print(f"{'what':<58} {'seconds':>8}")
    print(f"{'read ' + str(args.decisions) + ' decision lines against ' + str(args.drawings) + ' drawings':<58} "
          f"{read_s:8.3f}   ({len(got.confirmed)} confirmed, {len(got.rejected)} rejected, "
          f"{len(problems)} report lines)")
    label = f"top 10 of {args.nb_drawings} x {args.nb_artworks}"
    print(f"{label + ', plain':<58} {plain_s:8.3f}")
    print(f"{label + f', {len(banned)} rejected pairs left out':<58} {without_s:8.3f}   "
          f"({without_s / plain_s - 1:+.0%})")


if __name__ == "__main__":
    main()
