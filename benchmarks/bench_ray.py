"""Pictures per second of the embedding stage, plain and with Ray, on the same pictures.

    python benchmarks/bench_ray.py [--images 96] [--cpus 2] [--gpus 0] [--model efficientnet_lite0]
                                   [--batch-size 16] [--scan-size 2500x3500]

Makes ``--images`` scan-sized JPEGs, then runs the build's embedding stage
(``compute_missing_embeddings``, cache emptied before each run) three ways:

* plain: this process, decoding threads and the network (``--engine builtin``), twice (the
  first run also pays for the network's first use in the process);
* Ray, first run: a local Ray of ``--cpus`` processor cores (and ``--gpus`` graphics cards
  as a Ray resource) just started, so its workers still import torch and load the model;
* Ray, warm: the same Ray again, its workers already holding the model (what a long run sees).

and prints pictures per second of each and Ray's overhead against the plain run. Starting
Ray is timed apart. The packaged ImageNet weights are used (nothing is downloaded).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.pipeline.cache import Cache  # noqa: E402
from generator.settings import BuildSettings  # noqa: E402
from generator.pipeline.stages import compute_missing_embeddings, embedding_key  # noqa: E402
from generator.ml.device import cpu_name  # noqa: E402
from bench_embed import scan_jpegs  # noqa: E402  (this folder is on the path when run as a script)


def timed_run(paths: list[Path], settings: BuildSettings) -> tuple[float, dict]:
    """Seconds to embed ``paths`` into an empty cache, and the vectors."""
    shutil.rmtree(settings.cache, ignore_errors=True)
    cache = Cache(settings.cache)
    hashes = cache.content_hashes(paths)
    start = time.perf_counter()
    run = compute_missing_embeddings(paths, hashes, cache, settings, lambda label, total: (lambda n: None))
    seconds = time.perf_counter() - start
    if run.failures or run.computed != len(paths):
        raise SystemExit(f"the run did not embed every picture: {run.line()}, {len(run.failures)} failed")
    return seconds, run.known




def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=96)
    ap.add_argument("--cpus", type=int, default=2, help="processor cores given to the local Ray")
    ap.add_argument("--gpus", type=int, default=0, help="graphics cards given to the local Ray")
    ap.add_argument("--model", default="efficientnet_lite0")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--scan-size", default="2500x3500", help="width x height of the generated scans")
    args = ap.parse_args()
    import ray
    import torch

    size = tuple(int(x) for x in args.scan_size.split("x"))
    root = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    try:
        paths = scan_jpegs(root / "drawings", args.images, size, name="2001_6-9_{i:05d}_FRA_R_C.jpg")
        (root / "artworks").mkdir()
        common = dict(drawings=root / "drawings", artworks=root / "artworks", cache=root / "cache",
                      model=args.model, batch_size=args.batch_size, device="cuda" if args.gpus else "cpu")
        plain = BuildSettings(**common)
        key = embedding_key(plain)[0]
        print(f"machine: {cpu_name()}, {os.cpu_count()} CPU threads (torch uses {torch.get_num_threads()}), "
              f"{torch.cuda.get_device_name() if args.gpus else 'no GPU used'}; torch {torch.__version__}, "
              f"ray {ray.__version__}; the machine may be shared with other work")
        print(f"{args.images} JPEGs of {size[0]} x {size[1]}, model {args.model}, cache key {key}, "
              f"batch {args.batch_size}")
        t_plain_first, _ = timed_run(paths, plain)
        t_plain, want = timed_run(paths, plain)
        start = time.perf_counter()
        ray.init(num_cpus=args.cpus, num_gpus=args.gpus, include_dashboard=False, log_to_driver=False)
        t_start = time.perf_counter() - start
        on_ray = plain.replace(engine="ray")
        t_first, got_first = timed_run(paths, on_ray)
        t_warm, got = timed_run(paths, on_ray)
        ray.shutdown()
        worst = max(float(np.abs(got[k] - want[k]).max()) for k in want)
        if sorted(got) != sorted(want) or sorted(got_first) != sorted(want):
            raise SystemExit("Ray's cache does not hold the same pictures as the plain run's")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    where = f"{args.cpus} CPUs" + (f" + {args.gpus} GPU" if args.gpus else "")
    print(f"\nstarting a local Ray ({where}): {t_start:.1f} s (not counted below)")
    print("\n| engine | seconds | pictures/s | speed vs plain second run |")
    print("| --- | --- | --- | --- |")
    n = args.images
    print(f"| plain (this process), first run | {t_plain_first:.1f} | {n / t_plain_first:.1f} | "
          f"{t_plain / t_plain_first:.2f}x |")
    print(f"| plain (this process), second run | {t_plain:.1f} | {n / t_plain:.1f} | 1.00x |")
    print(f"| Ray {where}, first run (workers load the model) | {t_first:.1f} | {n / t_first:.1f} | "
          f"{t_plain / t_first:.2f}x |")
    print(f"| Ray {where}, workers warm | {t_warm:.1f} | {n / t_warm:.1f} | {t_plain / t_warm:.2f}x |")
    print(f"\nRay's overhead against the plain second run (Ray warm): {100 * (t_warm / t_plain - 1):+.0f} % "
          f"of the time; largest difference between the two caches' vectors: {worst:.2e}")


if __name__ == "__main__":
    main()
