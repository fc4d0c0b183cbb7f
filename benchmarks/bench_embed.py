"""Embedding throughput against what the hardware allows.

    python benchmarks/bench_embed.py [--backbone efficientnet_lite0] [--images 48] [--device cpu|cuda]

Measures the machine's matrix-multiply rate (fp32 and bf16), counts the backbone's
floating-point operations per picture, then times (a) the network alone on
in-memory batches and (b) the whole embedding stage on scan-sized JPEGs
(2500 x 3500), and prints achieved / possible. Weights do not change the
arithmetic, so an untrained copy of the network is timed (no download needed).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.ml.device import cpu_supports_bf16  # noqa: E402
from generator.ml.embed import embed_arrays, embed_paths, prepare_model  # noqa: E402
from generator.fsutil import keep_freed_memory  # noqa: E402
from generator.inputs.images import model_input  # noqa: E402
from generator.ml.model import LoadedModel, build_architecture  # noqa: E402


def matmul_rate(dtype: torch.dtype, device: str, n: int = 4096, reps: int = 5) -> float:
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    a @ b
    sync(device)
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(device)
    return 2 * n ** 3 * reps / (time.perf_counter() - start)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def flops_per_image(net: torch.nn.Module, size: int) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        net(torch.rand(1, 3, size, size))
    return float(counter.get_total_flops())


def scan_jpegs(folder: Path, count: int, size: tuple[int, int] = (2500, 3500),
               name: str = "scan_{i:03d}.jpg") -> list[Path]:
    """Scan-sized JPEGs, each different (a blurred random picture plus noise); also used by bench_ray.py."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    base = rng.integers(0, 255, (35, 25, 3), dtype=np.uint8)
    big = np.asarray(Image.fromarray(base).resize(size, Image.Resampling.BICUBIC))
    for i in range(count):
        noisy = np.clip(big.astype(np.int16) + rng.integers(-20, 20, big.shape), 0, 255).astype(np.uint8)
        p = folder / name.format(i=i)
        Image.fromarray(noisy).save(p, quality=90)
        paths.append(p)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backbone", default="efficientnet_lite0")
    ap.add_argument("--images", type=int, default=48)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--size", type=int, default=280)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--precisions", default="fp32,bf16")
    ap.add_argument("--workers", type=int, default=2, help="decoding threads")
    ap.add_argument("--plain-memory", action="store_true",
                    help="let the C library hand freed memory back at once, as before the build's embedding "
                         "processes kept it")
    args = ap.parse_args()
    dev = args.device
    kept = False if args.plain_memory else keep_freed_memory()   # as the build's embedding processes do
    print(f"freed memory kept for the next allocations: {'yes' if kept else 'no'}")
    print(f"machine: {os.cpu_count()} CPU threads (torch uses {torch.get_num_threads()}), "
          f"{torch.cuda.get_device_name() if dev.startswith('cuda') else 'no GPU'}; torch {torch.__version__}; "
          f"bf16 in hardware: {cpu_supports_bf16() if dev == 'cpu' else 'yes'}")
    net = build_architecture(args.backbone).eval()
    fl = flops_per_image(net, args.size)
    print(f"{args.backbone} at {args.size}px: {fl / 1e9:.2f} GFLOP per picture")
    model = LoadedModel(args.backbone, net, "untrained (timing only)", "bench", args.size)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        paths = scan_jpegs(Path(tmp), args.images)
        t_make = time.perf_counter() - t0
        t0 = time.perf_counter()
        arrays = np.stack([model_input(p, args.size) for p in paths])
        decode_rate = len(paths) / (time.perf_counter() - t0)
        for precision in args.precisions.split(","):
            peak = matmul_rate(torch.bfloat16 if precision == "bf16" else torch.float32, dev)
            prepared = prepare_model(model, dev, precision)
            batch = arrays[:args.batch_size]
            embed_arrays(prepared, batch, dev, precision)  # warm-up
            sync(dev)
            start = time.perf_counter()
            done = 0
            while done < len(arrays):
                embed_arrays(prepared, arrays[done:done + args.batch_size], dev, precision)
                done += args.batch_size
            sync(dev)
            net_rate = done / (time.perf_counter() - start)
            start = time.perf_counter()
            embed_paths(model, paths, batch_size=args.batch_size, precision=precision, device=dev,
                        workers=args.workers)
            sync(dev)
            full_rate = len(paths) / (time.perf_counter() - start)
            possible = peak / fl
            rows.append((precision, peak / 1e9, possible, net_rate, net_rate / possible, full_rate))
    print(f"\nscan-sized JPEGs 2500x3500: {args.images} made in {t_make:.1f} s; "
          f"decode to {args.size}px alone: {decode_rate:.1f} pictures/s (one thread)")
    print("\n| precision | matmul GFLOP/s | possible img/s | network img/s | achieved/possible | whole stage img/s (decode overlapped) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for p, g, poss, net_r, frac, full in rows:
        print(f"| {p} | {g:.0f} | {poss:.1f} | {net_r:.1f} | {frac:.0%} | {full:.1f} |")


if __name__ == "__main__":
    main()
