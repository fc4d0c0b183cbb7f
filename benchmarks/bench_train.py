"""Fine-tuning benchmark: does a recipe help on sketch -> picture pairs it was not tuned on?

Two modes, so that no setting is ever chosen by looking at a test set:

    # choose settings: K-fold cross-validation inside the training folder only
    python benchmarks/bench_train.py --train DIR --cv 3 [--set lr=1e-4 --set epochs=8 ...]

    # measure finished recipes once on the test folder, over several seeds
    python benchmarks/bench_train.py --train DIR --test DIR [--recipes pretrained,default,thesis,no-pairs,both]
                                     [--seeds 0,1,2] [--pairs N]

DIR is any folder laid out like ``../shared/data/sbir/chairs-train``:
``drawings/``, ``artworks/`` and ``pairs.csv`` (columns drawing,artwork).

Recipes: ``pretrained`` (no training), ``default`` (sitegen train with no
flags), ``thesis`` (``--recipe thesis``), ``no-pairs`` (trained on the training
folder's artworks alone), ``both`` (no-pairs, then the default recipe on the
pairs starting from it). With ``--test``, training uses the training folder
split exactly as ``sitegen train`` splits it (85 % of its pairs to learn, 15 % to
check; ``--pairs N``: about N of them, whole groups chosen with the seed, with the
whole gallery), and the test folder's drawings are searched among the test
folder's artworks. With ``--cv K`` each fold's other pairs (or N of them) are split
the same way. Figures: mean ± sd over the seeds; training time in seconds on this
machine's CPU (printed with its name and bf16 flags).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.ml.evaluate import Split, kfold, subset_pairs, training_split  # noqa: E402
from generator.ml.device import cpu_description  # noqa: E402
from generator.ml.model import load_model  # noqa: E402
from generator.ml.recipes import fit, fit_without_pairs  # noqa: E402
from generator.ml.train import TrainSettings, evaluate_model, finetuned_model  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sbir"
COLUMNS = ("R@1", "R@10", "MAP", "MP")
RECIPES = ("pretrained", "default", "thesis", "no-pairs", "both")


def read_collection(folder: Path):
    """Drawings, artworks (sorted paths) and index pairs of one folder."""
    drawings = sorted((folder / "drawings").iterdir())
    artworks = sorted((folder / "artworks").iterdir())
    d_index = {p.name: i for i, p in enumerate(drawings)}
    a_index = {p.name: i for i, p in enumerate(artworks)}
    with open(folder / "pairs.csv", newline="", encoding="utf-8") as fh:
        pairs = [(d_index[row["drawing"]], a_index[row["artwork"]]) for row in csv.DictReader(fh)]
    return drawings, artworks, pairs




def parse_overrides(items: list[str]) -> dict[str, dict]:
    """``--set [RECIPE:]name=value`` -> {recipe or '*': {name: typed value}}."""
    types = {f.name: f.type for f in dataclasses.fields(TrainSettings)}
    out: dict[str, dict] = {}
    for item in items:
        scope, _, assignment = item.rpartition(":")
        name, _, value = assignment.partition("=")
        if name not in types:
            raise SystemExit(f"--set {item}: unknown setting {name!r}")
        kind = str(types[name])
        if "bool" in kind:
            typed = value.lower() in ("1", "true", "yes", "on")
        elif "tuple" in kind:
            typed = tuple(v for v in value.split(",") if v)
        elif "int" in kind and "float" not in kind:
            typed = int(value)
        elif "float" in kind:
            typed = float(value)
        else:
            typed = value
        out.setdefault(scope or "*", {})[name] = typed
    return out


def settings_for(recipe: str, seed: int, overrides: dict[str, dict]) -> TrainSettings:
    preset = "thesis" if recipe == "thesis" else "contrastive"
    return TrainSettings.preset(preset, seed=seed, **overrides.get("*", {}), **overrides.get(recipe, {}))


def progress_printer(label: str):
    def show(ev):
        if ev["event"] == "epoch":
            print(f"  [{label}] epoch {ev['epoch']}: loss {ev['loss']:.4f}, val MAP {ev.get('val_MAP', float('nan')):.1f},"
                  f" val R@1 {ev.get('val_R@1', float('nan')):.1f}, {ev['seconds']:.0f} s", flush=True)
        elif ev["event"] == "pretrained" and ev.get("val"):
            print(f"  [{label}] pretrained val MAP {ev['val']['MAP']:.1f}, R@1 {ev['val']['R@1']:.1f}", flush=True)
        elif ev["event"] == "cached":
            print(f"  [{label}] {ev['pictures']} pictures x {ev['views']} views cached in {ev['seconds']:.0f} s",
                  flush=True)
    return show


def train_recipe(recipe: str, settings: TrainSettings, backbone: str, weights, drawings, artworks, split,
                 without_pairs=None):
    """The trained model for ``recipe`` and its training seconds.

    ``without_pairs``: an already trained no-pairs model of the same seed and its seconds, so that
    ``both`` continues from it instead of training it again (same settings, same seed: same model).
    """
    base = load_model(backbone, weights, input_size=settings.crop_size)
    if recipe == "pretrained":
        return base, 0.0, None
    show = progress_printer(f"{recipe} seed {settings.seed}")
    seconds = 0.0
    if recipe == "both" and without_pairs is not None:
        base, seconds = without_pairs
    elif recipe in ("no-pairs", "both"):
        result = fit_without_pairs(base, artworks, settings, progress=show)
        seconds += result.seconds
        base = finetuned_model(base, result)
        if recipe == "no-pairs":
            return base, seconds, result
    result = fit(base, drawings, artworks, split, settings, progress=show)
    return finetuned_model(base, result), seconds + result.seconds, result


def mean_sd(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:6.1f}"
    return f"{statistics.mean(values):6.1f} ± {statistics.stdev(values):4.1f}"


def run_test(args, overrides) -> int:
    tr_draw, tr_art, tr_pairs = read_collection(args.train)
    te_draw, te_art, te_pairs = read_collection(args.test)
    print(f"{args.train.name}: {len(tr_pairs)} pairs, gallery {len(tr_art)}; {args.test.name}: {len(te_pairs)} "
          f"pairs, gallery {len(te_art)}; {args.backbone}; CPU: {cpu_description()}, {torch.get_num_threads()} threads",
          flush=True)
    rows: dict[str, list[tuple[dict, float, int]]] = {}
    without_pairs = {}  # seed -> (no-pairs model, seconds), reused by "both" when its settings are the same
    for recipe in args.recipes:
        for seed in args.seeds:
            settings = settings_for(recipe, seed, overrides)
            pairs = subset_pairs(tr_pairs, args.pairs, seed=seed) if args.pairs else tr_pairs
            split = training_split(pairs, settings.val_share, settings.test_share, seed=seed)
            reuse = without_pairs.get(seed) if settings == settings_for("no-pairs", seed, overrides) else None
            model, seconds, result = train_recipe(recipe, settings, args.backbone, args.weights, tr_draw, tr_art,
                                                  split, without_pairs=reuse)
            if recipe == "no-pairs":
                without_pairs[seed] = (model, seconds)
            test = evaluate_model(model, te_draw, te_art, te_pairs, precision="fp32").as_dict()
            kept = result is None or result.best_epoch > 0
            rows.setdefault(recipe, []).append((test, seconds, kept))
            print(f"{recipe:<11} seed {seed}: " + "  ".join(f"{c} {test[c]:.1f}" for c in COLUMNS)
                  + f"  ({seconds:.0f} s{'' if kept else ', pretrained weights given back'})", flush=True)
            if recipe == "pretrained":
                break  # no randomness: one seed says it all
    print(f"\n{args.test.name} ({len(te_pairs)} drawings, gallery {len(te_art)}), trained on {args.train.name}; "
          f"{args.backbone}; mean ± sd over seeds {','.join(map(str, args.seeds))}; CPU: {cpu_description()}")
    print(f"| {'recipe':<11} | " + " | ".join(f"{c:>13}" for c in COLUMNS) + " | training s |")
    print("|" + "---|" * (len(COLUMNS) + 2))
    for recipe, runs in rows.items():
        cells = [mean_sd([r[0][c] for r in runs]) for c in COLUMNS]
        secs = mean_sd([r[1] for r in runs]) if recipe != "pretrained" else "-"
        print(f"| {recipe:<11} | " + " | ".join(f"{c:>13}" for c in cells) + f" | {secs:>10} |")
    return 0


def run_cv(args, overrides) -> int:
    """Cross-validation inside the training folder: mean over folds of the held-out fold."""
    draw, art, pairs = read_collection(args.train)
    print(f"{args.train.name}: {len(pairs)} pairs, {args.cv}-fold cross-validation; CPU: {cpu_description()}", flush=True)
    for recipe in args.recipes:
        before, after, secs = [], [], []
        for seed in args.seeds:
            settings = settings_for(recipe, seed, overrides)
            for i, fold in enumerate(kfold(pairs, args.cv, seed=seed, val_share=0.0)):
                # The fold's other pairs (or a seeded subset of them) split as 'sitegen train' splits its pairs.
                pool = subset_pairs(fold.train, args.pairs, seed=seed) if args.pairs else fold.train
                inner = training_split(pool, settings.val_share, 0.0, seed=seed * 1000 + i)
                split = Split(inner.train, inner.val, fold.test)
                base = load_model(args.backbone, args.weights, input_size=settings.crop_size)
                t0 = time.perf_counter()
                model, seconds, result = train_recipe(recipe, settings, args.backbone, args.weights, draw, art,
                                                      split)
                if result is not None and result.finetuned_test:  # measured by the run on its cached gallery
                    held, pre = result.finetuned_test, result.pretrained_test
                else:
                    held = evaluate_model(model, draw, art, split.test, precision="fp32").as_dict()
                    pre = evaluate_model(base, draw, art, split.test, precision="fp32").as_dict()
                before.append(pre)
                after.append(held)
                secs.append(time.perf_counter() - t0)
                mix = "" if result is None or result.mix is None else f", mix {result.mix:.2f}"
                if result is not None and result.mix_curve and "test_R@1" in result.mix_curve[0]:
                    mix += " [test R@1 by mix: " + ", ".join(f"{t['mix']:.2f}: {t['test_R@1']:.1f}"
                                                              for t in result.mix_curve) + "]"
                print(f"  {recipe} seed {seed} fold {i}: {len(split.train)} pairs learned, R@1 {pre['R@1']:.1f} -> "
                      f"{held['R@1']:.1f}, MAP {pre['MAP']:.1f} -> {held['MAP']:.1f} ({secs[-1]:.0f} s{mix})",
                      flush=True)
        print(f"CV {recipe} {overrides}: pretrained R@1 {mean_sd([m['R@1'] for m in before])}, "
              f"tuned R@1 {mean_sd([m['R@1'] for m in after])}, MAP {mean_sd([m['MAP'] for m in before])} -> "
              f"{mean_sd([m['MAP'] for m in after])}, {statistics.mean(secs):.0f} s per fold", flush=True)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", type=Path, default=DEFAULT_DATA / "chairs-train")
    ap.add_argument("--test", type=Path, default=None, help="folder measured once per finished recipe")
    ap.add_argument("--cv", type=int, default=None, help="K-fold cross-validation inside --train (no test)")
    ap.add_argument("--recipes", default=None, help=f"comma-separated among {','.join(RECIPES)}")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--pairs", type=int, default=None,
                    help="learn from about this many of the training pairs (whole groups, a seeded choice), "
                         "with the whole gallery: an archive with few confirmed pairs")
    ap.add_argument("--backbone", default="efficientnet_lite0")
    ap.add_argument("--weights", default=None, help="local weights file for the backbone")
    ap.add_argument("--set", action="append", default=[], metavar="[RECIPE:]NAME=VALUE",
                    help="override a training setting (for one recipe with a RECIPE: prefix)")
    args = ap.parse_args(argv)
    args.seeds = [int(s) for s in args.seeds.split(",")]
    args.recipes = (args.recipes or ("default" if args.cv else ",".join(RECIPES))).split(",")
    unknown = [r for r in args.recipes if r not in RECIPES]
    if unknown:
        ap.error(f"unknown recipe(s) {unknown}; choose among {RECIPES}")
    if (args.cv is None) == (args.test is None):
        ap.error("give either --test DIR (final figures) or --cv K (choosing settings), not both")
    for folder in [args.train] + ([args.test] if args.test else []):
        if not (folder / "pairs.csv").is_file():
            print(f"No pairs at {folder}: pass a folder holding drawings/, artworks/ and pairs.csv.", file=sys.stderr)
            return 2
    overrides = parse_overrides(args.set)
    return run_cv(args, overrides) if args.cv else run_test(args, overrides)


if __name__ == "__main__":
    sys.exit(main())
