"""A yardstick timed in the same run as a benchmark's figures, so that figures taken on different machines
(or on one machine under different loads) can be compared.

Most figures have no peer program to be measured against (a build's stage, pages a second); they are printed
beside two fixed workloads timed in the same run, at the start and at the end:

* ``python_s``: seconds for a fixed piece of plain Python of the kind a build's pages stage does (records made,
  formatted as JSON, sorted, joined into text), on one core;
* ``numpy_gflops``: 32-bit matrix products a second (2048 x 2048), on every core, the kind of work of the
  neighbours, the layout and the network.

A figure divided by ``python_s`` (a time) or by ``numpy_gflops`` (a rate) is what to compare between machines.

    python benchmarks/yardstick.py
"""

from __future__ import annotations

import json
import os
import statistics
import time

import numpy as np


def _python_work() -> int:
    records = [{"id": f"{2000 + i % 20}_10-13_{i:06d}_FRA", "n": i, "near": [(i * 7919 + k) % 100_000 for k in range(10)],
                "title": f"Drawing {i}, France"} for i in range(60_000)]
    text = "\n".join(json.dumps(r, sort_keys=True) for r in sorted(records, key=lambda r: r["id"][::-1]))
    return len(text)


def _numpy_work(size: int = 2048, repeat: int = 4) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    a @ b   # warm
    start = time.perf_counter()
    for _ in range(repeat):
        a @ b
    return 2 * size ** 3 * repeat / (time.perf_counter() - start) / 1e9


def yardstick(runs: int = 3) -> dict:
    """The two workloads (medians of ``runs``), the processor and the load average at the time."""
    from generator.ml.device import cpu_description

    python = []
    for _ in range(runs):
        start = time.perf_counter()
        _python_work()
        python.append(time.perf_counter() - start)
    return {"python_s": round(statistics.median(python), 3),
            "numpy_gflops": round(statistics.median(_numpy_work() for _ in range(runs)), 1),
            "cpu": cpu_description(), "threads": os.cpu_count(), "load": round(os.getloadavg()[0], 1)}


def line(y: dict, when: str = "") -> str:
    return (f"yardstick{' ' + when if when else ''}: plain Python {y['python_s']:.3f} s, matrix products "
            f"{y['numpy_gflops']:.0f} GFLOP/s; {y['cpu']}, {y['threads']} CPU threads, load average {y['load']}")


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    print(line(yardstick()))
