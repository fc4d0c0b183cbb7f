"""``sitegen train`` and ``sitegen evaluate``: fine-tuning and measuring the model, from the command line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

from generator.cli.common import PATH, _fail, setting_option
from generator.errors import InputError, SitegenError

def _index_pairs(drawings: Path, artworks: Path, pairs: Path, decisions=(), negatives: dict | None = None):
    """Paths of every drawing and artwork, and the known pairs as index pairs into them (see
    ``pipeline/training.py``); prints what the decisions added and the problems of the files.

    ``decisions`` (decisions.csv files): their confirmed pairs join the pairs, and their rejected ones go
    into ``negatives`` (drawing index -> artwork indices) when a dict is given."""
    from generator.inputs.problems import report_sections
    from generator.pipeline.training import known_pairs

    known = known_pairs(drawings, artworks, pairs, decisions)
    if known.decisions:
        click.echo(f"Decisions: {known.added} confirmed pairs added, {known.rejected} "
                   "rejected suggestions used as known negatives.", err=True)
    for line in report_sections([p for p in known.problems if p.kind in ("csv", "encoding", "decision")]):
        click.echo(line, err=True)  # a pairs file read with another encoding or naming missing files
    if negatives is not None:
        negatives.update(known.negatives)
    if not known.index_pairs:
        raise InputError(f"{pairs} names no drawing and artwork found in the folders. Check the file names in it.")
    return known.d_paths, known.a_paths, known.index_pairs, known.problems


def _train_settings(config_file=None, recipe: str | None = None, **opts):
    from generator.settings import make_train_settings

    return make_train_settings(config_file, recipe, **opts)


def train_options(f):
    """The training settings as options (from the settings' own types, rules and texts), and --config."""
    from generator.settings import RECIPE_NAMES, TrainSettings, describe_settings

    opts = [click.option("--config", "config_file", type=PATH,
                         help="Settings file whose [train] table holds training settings (default: ./sitegen.toml "
                              "if present)."),
            click.option("--recipe", type=click.Choice(list(RECIPE_NAMES)), default=None,
                         help="How to fine-tune: 'default' (fast and reliable, see the README) or 'thesis' (the "
                              "thesis's triplet recipe, slow on a processor); the other settings start from the "
                              "recipe's values.")]
    opts += [setting_option(info) for info in describe_settings(TrainSettings) if info.name != "recipe"]
    for opt in reversed(opts):
        f = opt(f)
    return f


def _metrics_table(columns: dict[str, dict | None]) -> list[str]:
    from generator.contracts import METRIC_ROWS

    names = [n for n in columns if columns[n]]
    if not names:
        return []
    lines = ["  " + f"{'':<6}" + "".join(f"{n:>22}" for n in names)]
    for k, _, percent in METRIC_ROWS:
        if not any(k in columns[n] for n in names):
            continue
        unit = " %" if percent else ""
        cells = "".join(f"{columns[n].get(k, float('nan')):>20.2f}{unit or '  '}" for n in names)
        lines.append(f"  {k:<6}{cells}")
    return lines


def _progress(event: dict) -> None:
    if event.get("event") == "epoch":
        click.echo(f"  epoch {event.get('epoch')}: loss {event.get('loss', float('nan')):.4f}, "
                   f"validation MAP {event.get('val_MAP', float('nan')):.2f} %, {event.get('seconds', 0):.0f} s",
                   err=True)


@click.command()
@click.option("--drawings", type=PATH, help="Folder of drawing scans (needed with --pairs).")
@click.option("--artworks", type=PATH, required=True, help="Folder of artwork pictures (the whole gallery).")
@click.option("--pairs", type=PATH, help="CSV of known re-creations (drawing,artwork). Without it, the network "
                                         "learns from the artworks alone.")
@click.option("--decisions", type=PATH, multiple=True,
              help="A decisions.csv saved from the site's review panel (may be given several times): confirmed "
                   "pairs are learned as pairs, rejected ones are always used as non-matching examples.")
@click.option("--out", type=PATH, required=True, help="Where to write the fine-tuned model file (e.g. model.pt).")
@click.option("--backbone", default="efficientnet_lite0", show_default=True,
              help="Network to start from: efficientnet_lite0, efficientnet_lite2, resnext101_32x8d.")
@click.option("--start-from", type=PATH, help="A model file made by 'sitegen train' to continue from (for "
                                               "example one trained without pairs).")
@click.option("--weights", type=PATH, help="Local weights file for the backbone.")
@click.option("--restart", is_flag=True, help="Ignore an unfinished earlier run of the same training.")
@click.option("--folds", type=click.IntRange(3), help="Also estimate how well the model finds artworks for drawings "
                                                      "it never saw: train and measure on K splits first (about K+1 "
                                                      "times as long); the figures are printed and kept in the model "
                                                      "file for the site's model page.")
@train_options
def train(drawings, artworks, pairs, decisions, out, backbone, start_from, weights, restart, folds, **opts):
    """Fine-tune the network and write a model file.

    With --pairs, it learns from known drawing -> artwork pairs: 85 % of them
    are learned and 15 % check the result, split by connected groups so that no
    drawing or artwork is in both. With --folds K it first measures the recipe
    on K splits of the pairs (mean and standard deviation), the honest estimate
    of how it does on new drawings. Without --pairs, it learns from the
    artworks alone, each matched with drawing-like versions of itself: useful
    when no re-creation is confirmed yet. Either way the checking pairs decide
    how much of the training to keep, from none (the pretrained network) to all
    of it. Every setting below can also be written in the [train] table of
    sitegen.toml (e.g. epochs = 20); a flag wins over the file.
    """
    try:
        settings = _train_settings(**opts)
        if decisions and pairs is None:
            raise InputError("--decisions needs --pairs (the archive's pairs file; it may hold only its header "
                             "line drawing,artwork).")
        if pairs is None:
            if folds:
                raise InputError("--folds needs --pairs: cross-validation measures the model on confirmed pairs.")
            train_without_pairs(artworks, out, start_from or backbone, weights, settings)
        else:
            if drawings is None:
                raise InputError("--pairs needs --drawings: the folder of the drawings the pairs name.")
            train_model(drawings, artworks, pairs, out, start_from or backbone, weights, settings, restart=restart,
                        decisions=decisions, folds=folds)
    except SitegenError as exc:
        _fail(exc)
    click.echo(f"Use it with: sitegen build --model {out} ...")


def _report(result, out: Path) -> None:
    """Say what the training gave, in words, then the figures."""
    gain = result.val_gain
    if result.mix_curve:
        tries = ", ".join(f"{t['mix']:.2f}: {t['MAP']:.1f}" for t in result.mix_curve)
        click.echo(f"Validation MAP with the fine-tuned weights mixed into the pretrained ones at each share "
                   f"({tries}): {result.mix:.2f} kept.")
    if gain:
        click.echo(f"On the {gain['drawings']} validation drawings, training changed MAP by {gain['gain']:+.1f} "
                   f"points (95 % interval {gain['low']:+.1f} to {gain['high']:+.1f}).")
    if result.unusable:
        click.echo(f"{_count(len(result.unusable), 'picture', 'pictures')} could not be read and "
                   f"{'was' if len(result.unusable) == 1 else 'were'} left out: "
                   + ", ".join(result.unusable[:10]) + (f" and {len(result.unusable) - 10} more" if
                                                        len(result.unusable) > 10 else "") + ".")
    if result.best_epoch == 0:
        click.echo("Training did not rank the validation pairs better than the pretrained network, so the model "
                   "file keeps the pretrained weights.")
        click.echo(f"Model written to {out} ({result.seconds:.0f} s of training).")
    else:
        click.echo(f"Model written to {out} ({result.seconds:.0f} s of training).")
    for line in _metrics_table({"pretrained (val)": result.pretrained_val, "fine-tuned (val)": result.best_val,
                                "pretrained (test)": result.pretrained_test,
                                "fine-tuned (test)": result.finetuned_test}):
        click.echo(line)


def _split_for(index_pairs, seen: set, settings):
    """The split of ``index_pairs`` for this run: pairs a starting model already learned from can only be
    learned again (they are not new to it), the others are split by connected groups."""
    from generator.ml.evaluate import Split, training_split

    fresh = [p for p in index_pairs if p not in seen]
    again = [p for p in index_pairs if p in seen]
    split = training_split(fresh, settings.val_share, settings.test_share, seed=settings.seed) if fresh else Split()
    return Split(split.train + again, split.val, split.test), fresh, again


def cross_validate(base, d_paths, a_paths, fresh, again, settings, folds: int, negatives=None) -> dict:
    """Train and measure on ``folds`` splits of the pairs new to ``base`` (``again``: pairs it learned from,
    learned in every split); the figures on each split's test part, mean and standard deviation."""
    from generator.ml.evaluate import Split, kfold
    from generator.ml.recipes import fit

    per_fold: dict[str, list] = {"pretrained": [], "finetuned": []}
    unreadable = 0
    for i, split in enumerate(kfold(fresh, folds, seed=settings.seed, val_share=settings.val_share), start=1):
        split = Split(split.train + list(again), split.val, split.test)
        click.echo(f"Split {i} of {folds}: {len(split.train)} pairs learned, {len(split.val)} checking, "
                   f"{len(split.test)} measured", err=True)
        result = fit(base, d_paths, a_paths, split, settings, progress=_progress, negatives=negatives)
        per_fold["pretrained"].append(result.pretrained_test)
        per_fold["finetuned"].append(result.finetuned_test)
        unreadable = max(unreadable, len(result.unusable))
    summary = {part: _mean_std(rows) for part, rows in per_fold.items()}
    return {"folds": folds, "pairs": len(fresh), "pretrained": summary["pretrained"][0],
            "pretrained_std": summary["pretrained"][1], "finetuned": summary["finetuned"][0],
            "finetuned_std": summary["finetuned"][1], "per_fold": per_fold, "unreadable": unreadable,
            "input_size": settings.crop_size}


def _report_cv(cv: dict) -> None:
    click.echo(f"Cross-validation, {cv['folds']} splits of {cv['pairs']} pairs (mean and standard deviation of the "
               "drawings each split never learned from):")
    for line in _metrics_table({"pretrained": cv["pretrained"], "fine-tuned": cv["finetuned"],
                                "±": cv["finetuned_std"]}):
        click.echo(line)
    if cv["unreadable"]:
        click.echo(f"{_count(cv['unreadable'], 'picture', 'pictures')} could not be read and "
                   f"{'was' if cv['unreadable'] == 1 else 'were'} left out.")


def train_model(drawings: Path, artworks: Path, pairs: Path, out: Path, backbone: str, weights, settings, *,
                restart: bool = False, decisions=(), folds: int | None = None):
    """Split the pairs, fine-tune, write the model file; prints what it does. Returns the TrainResult."""
    from generator.ml.model import load_model
    from generator.ml.recipes import fit
    from generator.ml.train import learned_index_pairs, partial_path_for, save_checkpoint

    negatives: dict[int, set[int]] = {}
    d_paths, a_paths, index_pairs, _ = _index_pairs(drawings, artworks, pairs, decisions, negatives)
    base = load_model(backbone, weights, input_size=settings.crop_size)
    seen = learned_index_pairs(base.checkpoint, d_paths, a_paths, index_pairs, drawings, artworks)
    split, fresh, again = _split_for(index_pairs, seen, settings)
    click.echo(f"{len(index_pairs)} pairs: {len(split.train)} for training, {len(split.val)} for validation"
               + (f", {len(split.test)} for testing" if split.test else "")
               + (f" ({len(again)} of them learned already by the model started from)" if again else "")
               + f"; gallery of {len(a_paths)} artworks.")
    cv = cross_validate(base, d_paths, a_paths, fresh, again, settings, folds, negatives) if folds else None
    if cv:
        _report_cv(cv)
    partial = partial_path_for(out)
    if restart and partial.exists():
        partial.unlink()
    result = fit(base, d_paths, a_paths, split, settings, resume_from=partial if partial.exists() else None,
                 partial_path=partial, progress=_progress, negatives=negatives)
    save_checkpoint(out, result, base.name, settings, split, parent=base.checkpoint, cross_validation=cv)
    _report(result, out)
    return result


def train_without_pairs(artworks: Path, out: Path, backbone: str, weights, settings):
    """Learn from the artworks alone and write the model file; prints what it does. Returns the TrainResult."""
    from generator.inputs.collection import load_artworks
    from generator.ml.evaluate import Split
    from generator.ml.model import load_model
    from generator.ml.recipes import fit_without_pairs
    from generator.ml.train import save_checkpoint

    if not Path(artworks).is_dir():
        raise InputError(f"The artworks folder {artworks} does not exist. Check the path given with --artworks.")
    a_paths = [a.path for a in load_artworks(Path(artworks), None, [])[0]]
    click.echo(f"No pairs given: learning from the {len(a_paths)} artworks alone, each matched with "
               "drawing-like versions of itself.")
    base = load_model(backbone, weights, input_size=settings.crop_size)
    result = fit_without_pairs(base, a_paths, settings, progress=_progress)
    # No confirmed pair was used: every pair stays available for measuring this model.
    save_checkpoint(out, result, base.name, settings, Split(), without_pairs=True, parent=base.checkpoint)
    _report(result, out)
    return result


def trained_model_for_build(settings, train_settings) -> Path:
    """``sitegen build --train``: the model file for these pairs, trained now unless an identical one exists."""
    from generator.pipeline.training import trained_model_path

    out = trained_model_path(settings, train_settings)
    if out.is_file():
        click.echo(f"Using the model already trained on these pairs: {out}")
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    train_model(settings.drawings, settings.artworks, settings.pairs, out, settings.model, settings.weights,
                train_settings, decisions=settings.decisions or ())
    return out


def _mean_std(rows: list[dict]) -> tuple[dict, dict]:
    keys = [k for k in rows[0] if isinstance(rows[0][k], (int, float)) and not k.startswith("n_")]
    mean = {k: sum(r[k] for r in rows) / len(rows) for k in keys}
    std = {k: math.sqrt(sum((r[k] - mean[k]) ** 2 for r in rows) / len(rows)) for k in keys}
    return mean, std


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _unseen_pairs(checkpoint: dict | None, drawings: Path, artworks: Path, d_paths, a_paths, index_pairs,
                  folds: int | None):
    """For a model file from 'sitegen train': the pairs it neither trained nor was checked on, the number
    left out, and a sentence saying so. Other models are measured on every pair."""
    from generator.ml.train import learned_index_pairs

    if checkpoint is None:
        return index_pairs, 0, None
    if not checkpoint.get("split"):
        return index_pairs, 0, ("This model file does not say which pairs it learned from, so every pair is "
                                "measured; the figures may look better than they really are.")
    learned = learned_index_pairs(checkpoint, d_paths, a_paths, index_pairs, drawings, artworks)
    kept = [p for p in index_pairs if p not in learned]
    left_out = len(index_pairs) - len(kept)
    if folds:  # every split fine-tunes from this model and measures its own test part
        note = (f"The model given already saw the drawing or artwork of {left_out} of these pairs while it was "
                "trained; every split starts from it, so the figures may look better than they really are.")
        return index_pairs, left_out, note if left_out else None
    if not kept:
        raise InputError(f"This model saw the drawing or the artwork of every one of the {len(index_pairs)} pairs "
                         "while it was trained or checked, so no pair is left to measure it fairly. Measure it on "
                         "pairs it has not seen (another pairs file), or train it again keeping a test part.")
    if not left_out:
        return kept, 0, f"Measured on all {len(index_pairs)} pairs: this model did not learn from any of them."
    why = _count(left_out, "is left out because this model saw its", "are left out because this model saw their")
    return kept, left_out, (f"Measured on {len(kept)} of {len(index_pairs)} pairs: {why} drawing or artwork while "
                            "it was trained or checked.")


def _gallery_note(checkpoint: dict | None, drawings: Path, artworks: Path, a_paths) -> str | None:
    """A sentence when the model learned from drawing-like versions of artworks of the gallery it is measured
    among: that is how it is meant to work on an archive's own artworks, but it is not a gallery it never saw."""
    import os

    from generator.ml.evaluate import names_found

    names = (checkpoint or {}).get("artworks_learned") or []
    if not names:
        return None
    seen = names_found(names, [Path(os.path.relpath(p, artworks)).as_posix() for p in a_paths])
    if not seen:
        return None
    return (f"This model learned from drawing-like versions of {_count(len(seen), 'artwork', 'artworks')} of this "
            f"gallery of {len(a_paths)} (as it does for the artworks of the archive it is trained for); the "
            "figures are for a gallery it has seen, not for new artworks.")


@click.command()
@click.option("--drawings", type=PATH, required=True, help="Folder of drawing scans.")
@click.option("--artworks", type=PATH, required=True, help="Folder of artwork pictures (the whole gallery).")
@click.option("--pairs", type=PATH, required=True, help="CSV of known re-creations (drawing,artwork).")
@click.option("--model", default="efficientnet_lite0", show_default=True,
              help="Model name or a file made by 'sitegen train'.")
@click.option("--weights", type=PATH, help="Local weights file for the model.")
@click.option("--folds", type=click.IntRange(3), help="Cross-validate: train and measure on K splits.")
@click.option("--json", "json_file", type=PATH, help="Also write the figures to this JSON file.")
@click.option("--compare", is_flag=True, help="Compare the models named after the options (model files made by "
                                              "'sitegen train', or 'pretrained' for --model as it comes) on the "
                                              "same held-out drawings, without training.")
@click.option("--html", type=PATH, help="With --compare: also write the comparison page to this HTML file.")
@click.argument("compared", nargs=-1)
@train_options
def evaluate(drawings, artworks, pairs, model, weights, folds, json_file, compare, html, compared, **opts):
    """Measure how well the model finds each drawing's artwork among all artworks.

    Prints Mean Position and Minimum Mean Position (ranks, 0 = first), MAP and
    Recall@k (percent). A model file from 'sitegen train' is measured only on the
    pairs it did not learn from. With --folds K, runs the thesis protocol: K
    splits, fine-tuning on each, mean and standard deviation over the splits.
    With --compare A B C (model files from 'sitegen train', or 'pretrained'),
    measures the models as they are on the same drawings, which none of them
    learned from (with --folds K: in the same K groups), and --html FILE writes
    a page showing them side by side.
    """
    from generator.ml.evaluate import kfold
    from generator.ml.model import load_model
    from generator.ml.recipes import fit
    from generator.ml.train import evaluate_model, finetuned_model

    try:
        settings = _train_settings(**opts)
        if bool(compare) != bool(compared) or (html and not compare):
            raise InputError("Name the models to compare after --compare, e.g. 'sitegen evaluate --compare "
                             "pretrained model-a.pt model-b.pt --html comparison.html ...'.")
        d_paths, a_paths, index_pairs, _ = _index_pairs(drawings, artworks, pairs)
        if compare:
            from generator.cli.compare import run_compare

            payload = run_compare(compared, drawings, artworks, d_paths, a_paths, index_pairs, backbone=model,
                                  weights=weights, folds=folds, seed=settings.seed, html=html,
                                  device=settings.device, table=_metrics_table)
            if json_file:
                Path(json_file).write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            return
        splits = kfold(index_pairs, folds, seed=settings.seed, val_share=settings.val_share) if folds else []
        # With --folds every split trains: measure at the size training uses, as 'sitegen train' does.
        base = load_model(model, weights, **({"input_size": settings.crop_size} if folds else {}))
        measured, left_out, note = _unseen_pairs(base.checkpoint, drawings, artworks, d_paths, a_paths,
                                                 index_pairs, folds)
        learned_gallery = _gallery_note(base.checkpoint, drawings, artworks, a_paths)
        payload: dict = {"model": str(model), "gallery": len(a_paths), "pairs": len(index_pairs)}
        if not folds:
            metrics = evaluate_model(base, d_paths, a_paths, measured).as_dict()
            payload.update({"metrics": metrics, "pairs_measured": len(measured),
                            "pairs_left_out_learned_from": left_out})
            lines = _metrics_table({"pairs not learned from" if left_out else "all pairs": metrics})
            if metrics.get("n_unreadable"):
                unreadable = _count(metrics["n_unreadable"], "drawing could not be read and is",
                                    "drawings could not be read and are")
                note = f"{note or ''} {unreadable} left out.".strip()
        else:
            per_fold = {"pretrained_test": [], "val": [], "test": []}
            unreadable = 0
            for i, split in enumerate(splits, start=1):
                click.echo(f"Split {i} of {folds}: {len(split.train)} training, {len(split.val)} validation, "
                           f"{len(split.test)} test pairs", err=True)
                result = fit(base, d_paths, a_paths, split, settings, progress=_progress)
                tuned = finetuned_model(base, result)
                per_fold["val"].append(evaluate_model(tuned, d_paths, a_paths, split.val).as_dict())
                per_fold["test"].append(evaluate_model(tuned, d_paths, a_paths, split.test).as_dict())
                per_fold["pretrained_test"].append(evaluate_model(base, d_paths, a_paths, split.test).as_dict())
                unreadable += per_fold["test"][-1].get("n_unreadable", 0)
            summary = {part: _mean_std(rows) for part, rows in per_fold.items()}
            payload.update({"folds": folds, "metrics": summary["test"][0], "metrics_std": summary["test"][1],
                            "validation": summary["val"][0], "validation_std": summary["val"][1],
                            "pretrained": summary["pretrained_test"][0], "per_fold": per_fold,
                            "input_size": base.input_size, "unreadable": unreadable})
            lines = _metrics_table({"pretrained (test)": summary["pretrained_test"][0],
                                    "fine-tuned (val)": summary["val"][0], "fine-tuned (test)": summary["test"][0],
                                    "± (test)": summary["test"][1]})
            if unreadable:
                note = (f"{note or ''} " + _count(unreadable, "drawing could not be read and is",
                                                  "drawings could not be read and are") + " left out.").strip()
    except SitegenError as exc:
        _fail(exc)
    if note:
        click.echo(note)
    if learned_gallery:
        click.echo(learned_gallery)
    click.echo(f"{len(measured)} pairs, gallery of {len(a_paths)} artworks, model {model}:")
    for line in lines:
        click.echo(line)
    if json_file:
        Path(json_file).write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
