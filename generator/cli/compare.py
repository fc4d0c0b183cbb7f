"""``sitegen evaluate --compare A B C [--html FILE]``: several models on the same held-out drawings."""

from __future__ import annotations

from pathlib import Path

import click

from generator.errors import InputError

#: What stands for the network as it comes, before any training, among the compared models.
PRETRAINED = "pretrained"


def _label(spec: str) -> str:
    return PRETRAINED if spec == PRETRAINED else Path(spec).name


def run_compare(specs: tuple[str, ...], drawings: Path, artworks: Path, d_paths, a_paths, index_pairs, *,
                backbone: str, weights, folds: int | None, seed: int, html: Path | None, device: str | None,
                table) -> dict:
    """Load every model, compare them, print the table and write the page; returns the figures for --json."""
    from generator.ml.compare import compare_models
    from generator.ml.model import load_model

    if len(specs) < 2:
        raise InputError("--compare needs at least two models, e.g. 'sitegen evaluate --compare pretrained "
                         "model-a.pt model-b.pt ...': model files made by 'sitegen train', or 'pretrained' for "
                         f"the network given with --model ({backbone}) as it comes.")
    labels = [_label(s) for s in specs]
    if len(set(labels)) != len(labels):
        raise InputError(f"Two of the compared models have the same name ({', '.join(labels)}). Give each model "
                         "file a different name.")
    models = [load_model(backbone if s == PRETRAINED else s, weights if s == PRETRAINED else None) for s in specs]
    result = compare_models(models, labels, drawings, artworks, d_paths, a_paths, index_pairs, folds=folds,
                            seed=seed, device=device,
                            progress=lambda label: click.echo(f"Measuring {label}...", err=True))
    click.echo(f"{len(result.drawings)} drawings compared ({result.pairs_left_out} of {result.pairs_total} pairs "
               f"left out because a model learned from them), gallery of {result.gallery} artworks"
               + (f", {result.folds} groups" if result.folds > 1 else "") + ":")
    columns: dict[str, dict] = {}
    for m in result.models:
        columns[m.label] = m.mean
        if result.folds > 1:
            columns[f"± {m.label}"[:22]] = m.sd
    for line in table(columns):
        click.echo(line)
    if html:
        from generator.site.comparepage import write_comparison_page

        note = None if not result.pairs_left_out else (
            "Pairs a model learned from would flatter it, so they are left out for every model.")
        page = write_comparison_page(result, d_paths, a_paths, html, title="Models compared", note=note)
        click.echo(f"Comparison page written to {page}")
    return {"models": [{"label": m.label, "source": m.source, "metrics": m.mean, "metrics_std": m.sd,
                        "per_fold": m.per_fold} for m in result.models],
            "drawings": len(result.drawings), "folds": result.folds, "pairs": result.pairs_total,
            "pairs_left_out": result.pairs_left_out, "gallery": result.gallery}
