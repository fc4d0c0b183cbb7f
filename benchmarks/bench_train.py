"""Fine-tuning benchmark on the QMUL chair sketches: pretrained against fine-tuned retrieval.

    python benchmarks/bench_train.py [--data ../shared/data/sbir] [--epochs N] [--no-style] [--compare-style]

Trains on ``chairs-train`` (its pairs split by connected components into train
and validation, 85/15, validation driving early stopping; the gallery for mining
and validation is all 200 training edge maps), then measures on ``chairs-test``
(gallery = its 97 edge maps, never seen in training). Published reference on
this split (Yu et al., CVPR 2016): acc@1 72.2 %, acc@10 99.0 %.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.evaluate import split_pairs  # noqa: E402
from generator.model import load_model  # noqa: E402
from generator.train import TrainSettings, evaluate_model, finetuned_model, fit, save_checkpoint  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sbir"


def read_collection(folder: Path):
    """Drawings, artworks (sorted paths) and index pairs of one SBIR folder."""
    drawings = sorted((folder / "drawings").iterdir())
    artworks = sorted((folder / "artworks").iterdir())
    d_index = {p.name: i for i, p in enumerate(drawings)}
    a_index = {p.name: i for i, p in enumerate(artworks)}
    with open(folder / "pairs.csv", newline="", encoding="utf-8") as fh:
        pairs = [(d_index[row["drawing"]], a_index[row["artwork"]]) for row in csv.DictReader(fh)]
    return drawings, artworks, pairs


def row(name: str, m: dict, seconds: float | None = None, extra: str = "") -> str:
    t = f"{seconds:8.0f}" if seconds is not None else f"{'-':>8}"
    return (f"{name:<28}{m['R@1']:7.1f}{m['R@5']:7.1f}{m['R@10']:7.1f}{m['MAP']:7.1f}{m['MP']:7.2f}"
            f"{t}  {extra}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--model", default="efficientnet_lite0")
    ap.add_argument("--weights", default=None, help="local weights file for the model")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--lr", type=float, default=TrainSettings.lr)
    ap.add_argument("--hard-negatives", type=int, default=TrainSettings.hard_negatives)
    ap.add_argument("--patience", type=int, default=TrainSettings.patience)
    ap.add_argument("--input-size", type=int, default=280, help="evaluation size = crop size")
    ap.add_argument("--train-size", type=int, default=None, help="default: input size * 330 / 280")
    ap.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"),
                    help="training precision (test metrics are always measured in fp32)")
    ap.add_argument("--max-train-pairs", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--style-effects", default=None, help="comma-separated subset of oil,watercolour,texture,greyscale,pencil")
    style = ap.add_mutually_exclusive_group()
    style.add_argument("--no-style", action="store_true", help="train without style augmentation")
    style.add_argument("--compare-style", action="store_true", help="train twice: style augmentation on and off")
    ap.add_argument("--save", type=Path, default=None, help="write the (last) fine-tuned checkpoint here")
    args = ap.parse_args(argv)

    train_dir, test_dir = args.data / "chairs-train", args.data / "chairs-test"
    for d in (train_dir, test_dir):
        if not (d / "pairs.csv").is_file():
            print(f"No chair data at {d}: pass --data pointing at the folder holding chairs-train/ and "
                  "chairs-test/.", file=sys.stderr)
            return 2
    tr_draw, tr_art, tr_pairs = read_collection(train_dir)
    te_draw, te_art, te_pairs = read_collection(test_dir)
    split = split_pairs(tr_pairs, (0.85, 0.15, 0.0), seed=args.seed)
    print(f"chairs-train: {len(split.train)} training pairs, {len(split.val)} validation pairs, "
          f"gallery {len(tr_art)}; chairs-test: {len(te_pairs)} pairs, gallery {len(te_art)}", flush=True)

    model = load_model(args.model, args.weights, input_size=args.input_size)
    base = TrainSettings(
        epochs=args.epochs, lr=args.lr, hard_negatives=args.hard_negatives, patience=args.patience,
        crop_size=args.input_size, train_size=args.train_size or round(args.input_size * 330 / 280),
        precision=args.precision, max_train_pairs=args.max_train_pairs, seed=args.seed,
        style_augmentation=not args.no_style,
        **({"style_effects": tuple(args.style_effects.split(","))} if args.style_effects else {}))
    t0 = time.perf_counter()
    pretrained = evaluate_model(model, te_draw, te_art, te_pairs, precision="fp32").as_dict()
    print(f"pretrained test metrics in {time.perf_counter() - t0:.0f} s", flush=True)

    runs = [("style on", replace(base, style_augmentation=True)), ("style off", replace(base, style_augmentation=False))] \
        if args.compare_style else [("style " + ("off" if args.no_style else "on"), base)]
    results = []
    for label, settings in runs:
        def progress(ev, label=label):
            if ev["event"] == "epoch":
                print(f"[{label}] epoch {ev['epoch']}: loss {ev['loss']:.4f}, val MAP {ev.get('val_MAP', float('nan')):.1f}, "
                      f"val R@1 {ev.get('val_R@1', float('nan')):.1f}, {ev['seconds']:.0f} s", flush=True)
            elif ev["event"] == "step" and ev["step"] % 25 == 0:
                print(f"[{label}] epoch {ev['epoch']} step {ev['step']}/{ev['steps']}", flush=True)
            elif ev["event"] == "pretrained" and ev["val"]:
                print(f"[{label}] pretrained val MAP {ev['val']['MAP']:.1f}, R@1 {ev['val']['R@1']:.1f}", flush=True)
        result = fit(model, tr_draw, tr_art, split, settings, progress=progress)
        tuned = finetuned_model(model, result)
        test = evaluate_model(tuned, te_draw, te_art, te_pairs, precision="fp32").as_dict()
        results.append((label, settings, result, test))
        print(row(f"fine-tuned ({label})", test, result.seconds, f"best epoch {result.best_epoch}"), flush=True)
        if args.save:
            save_checkpoint(args.save, result, model.name, settings, split)

    print()
    print(f"QMUL-Chair-V1 test ({len(te_pairs)} sketches, gallery {len(te_art)}), {args.model} @ {args.input_size} px, "
          f"training precision {args.precision}")
    print(f"{'model':<28}{'R@1':>7}{'R@5':>7}{'R@10':>7}{'MAP':>7}{'MP':>7}{'train s':>8}  notes")
    print(row("pretrained", pretrained))
    for label, settings, result, test in results:
        note = (f"best epoch {result.best_epoch}/{len(result.history)}, lr {settings.lr:g}, "
                f"NT {settings.hard_negatives}" + (", stopped early" if result.stopped_early else ""))
        print(row(f"fine-tuned ({label})", test, result.seconds, note))
    print(f"{'published (Yu et al. 2016)':<28}{72.2:7.1f}{'':>7}{99.0:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
