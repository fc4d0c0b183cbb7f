"""The model page: which network ranks the artworks, how it was trained, and how well it does.

For a fine-tuned model (a file from ``sitegen train``) the page shows the
training settings, pretrained and fine-tuned figures side by side, the training
curves as SVG, and the test drawings with the rank of their expected artwork.
For any model it shows, on the confirmed pairs of this collection, how often
the right artwork is found (measured by the pipeline: ``SiteData.model_figures``);
for a fine-tuned model only on the pairs it did not learn from, and the page says
how many were left out and why.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from markupsafe import Markup

from generator.contracts import METRIC_ROWS
from generator.i18n import N_, decimal, gettext as _

#: The page stops at the top 100: wider cut-offs tell a visitor little.
PAGE_METRIC_ROWS = tuple(row for row in METRIC_ROWS if row[0] not in ("R@200", "R@400"))
#: The figures' names (generator/ml/evaluate.py METRIC_ROWS) and the model page's columns, for the catalogue.
_WORDS = (N_("Mean position (0 = always first)"), N_("Minimum mean position"), N_("Mean average precision"),
          N_("Found first"), N_("Found in the top %(k)s"), N_("Pretrained, validation"), N_("Fine-tuned, validation"),
          N_("Pretrained, test"), N_("Fine-tuned, test"), N_("This model on the confirmed pairs"),
          N_("Standard deviation over the splits"), N_("Training loss per epoch"), N_("Validation MAP per epoch"))


def _label(label: str) -> str:
    """A figure's name in the site's language ("Found in the top 10" has its number apart)."""
    top = "Found in the top "
    if label.startswith(top):
        return _("Found in the top %(k)s") % {"k": label[len(top):]}
    return _(label)


def _fmt(value, unit: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    return f"{decimal(value, 1)} %" if unit else decimal(value, 2)


def metrics_table(columns: dict[str, dict | None]) -> dict:
    names = [n for n, m in columns.items() if m]
    rows = []
    for key, label, unit in PAGE_METRIC_ROWS:
        if any(key in columns[n] for n in names):
            rows.append({"key": key, "label": _label(label), "cells": [_fmt(columns[n].get(key), unit) for n in names]})
    return {"columns": [_(n) for n in names], "rows": rows}


def curve_svg(values: list[float], title: str, unit: str = "") -> str:
    """A small line chart as SVG markup (numbers only, no text from users)."""
    w, h, pad = 360, 180, 34
    pts = [(i, v) for i, v in enumerate(values) if v is not None and np.isfinite(v)]
    if not pts:
        return ""
    lo, hi = min(v for _, v in pts), max(v for _, v in pts)
    span = hi - lo or 1.0
    n = max(1, len(values) - 1)
    coords = [(pad + i / n * (w - 2 * pad), h - pad - (v - lo) / span * (h - 2 * pad)) for i, v in pts]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"/>' for x, y in coords)
    return (f'<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{title}" class="curve">'
            f'<title>{title}</title>'
            f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" class="axis"/>'
            f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{h - pad}" class="axis"/>'
            f'<polyline points="{path}" class="line"/>{dots}'
            f'<text x="{pad}" y="{pad - 8}">{hi:.3g}{unit}</text><text x="{pad}" y="{h - 8}">{lo:.3g}{unit}</text>'
            f'<text x="{w - pad}" y="{h - 8}" text-anchor="end">epoch {len(values)}</text></svg>')


def write_model_page(ctx, out) -> None:
    """``model/index.html``: what the pipeline read about the model, and its figures on this site."""
    s = ctx.site
    ckpt = s.checkpoint
    here = s.model_figures
    training = None
    if ckpt is not None:
        hist = ckpt.get("history") or []
        metrics = ckpt.get("metrics") or {}
        pre, fine = metrics.get("pretrained") or {}, metrics.get("finetuned") or {}
        training = {
            "settings": sorted((k, v) for k, v in (ckpt.get("settings") or {}).items()),
            "table": metrics_table({"Pretrained, validation": pre.get("val"), "Fine-tuned, validation": fine.get("val"),
                                    "Pretrained, test": pre.get("test"), "Fine-tuned, test": fine.get("test")}),
            "loss_svg": Markup(curve_svg([e.get("loss") for e in hist], _("Training loss per epoch"))),
            "map_svg": Markup(curve_svg([e.get("val_MAP") for e in hist], _("Validation MAP per epoch"), " %")),
            "split": {k: len(v) for k, v in sorted((ckpt.get("split") or {}).items())},
            "best_epoch": ckpt.get("best_epoch"),
            "recipe": (ckpt.get("settings") or {}).get("recipe", "thesis"),
            "without_pairs": bool(ckpt.get("without_pairs")),
            "gain": metrics.get("validation_gain"),
            "mix": ckpt.get("mix"),
            "replicas": bool((ckpt.get("settings") or {}).get("replica_pairs")),
            "gallery_negatives": bool((ckpt.get("settings") or {}).get("gallery_negatives")),
            "cv": _cross_validation(ckpt.get("cross_validation")),
            "tests": _test_examples(ctx, ckpt),
        }
    out.page("model.html", "model/index.html", title=_("The model"), model_name=s.model_name,
             model_source=s.model_source, backbone=(ckpt or {}).get("backbone", s.model_name),
             here=here, here_table=metrics_table({"This model on the confirmed pairs": here.metrics})
             if here and here.metrics else None, training=training)


def _cross_validation(cv: dict | None) -> dict | None:
    """The figures of 'sitegen train --folds K' as the page shows them (mean, and the spread over the splits)."""
    if not cv or not cv.get("finetuned"):
        return None
    spread = {k: v for k, v in (cv.get("finetuned_std") or {}).items()}
    return {"folds": cv.get("folds"), "pairs": cv.get("pairs"),
            "table": metrics_table({"Pretrained": cv.get("pretrained"), "Fine-tuned": cv["finetuned"],
                                    "Standard deviation over the splits": spread})}


def _test_examples(ctx, ckpt: dict, limit: int = 24) -> list[dict]:
    """Test drawings of the training split found on this site, with their top 10 and the expected artwork's rank."""
    s = ctx.site
    by_name = {Path(d.rel).name: i for i, d in enumerate(s.drawings)}
    art_by_name = {}
    for j, a in enumerate(s.artworks):
        art_by_name[a.rel] = j
        art_by_name.setdefault(Path(a.rel).name, j)
    out = []
    nb = s.neighbours
    for d_name, a_name in (ckpt.get("split") or {}).get("test", [])[:limit]:
        i = by_name.get(Path(d_name).name)
        j = art_by_name.get(a_name, art_by_name.get(Path(a_name).name))
        if i is None or j is None:
            continue
        top = [int(x) for x in nb.artworks_index[i]]
        out.append({"drawing": ctx.d_cards[i], "expected": ctx.a_cards[j],
                    "rank": top.index(j) + 1 if j in top else None, "top": [ctx.a_cards[x] for x in top]})
    return out
