"""The model comparison page of ``sitegen evaluate --compare ... --html FILE``.

One HTML file and a folder beside it (``FILE-files/``) holding the site's style sheet and small WebP pictures
of the compared drawings and of the artworks shown, so the page opens from the disk, offline, and can be
moved with its folder. The position box plots are SVG made here, with a title, a description and a table
holding the same figures.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from generator.contracts import METRIC_ROWS, TOP, Comparison
from generator.fsutil import write_atomic
from generator.errors import ImageError
from generator.inputs.images import load_rgb, web_image_bytes
from generator.site.output import asset_dir, template_environment

THUMB = 120
#: The box plot's drawing area, in SVG units.
PLOT_W, ROW_H, LEFT, RIGHT, TOP_PAD, AXIS_H = 720, 44, 190, 24, 12, 40


def _cell(mean: float, sd: float, percent: bool, folds: int) -> str:
    unit = " %" if percent else ""
    return f"{mean:.1f}{unit}" if folds < 2 else f"{mean:.1f} ± {sd:.1f}{unit}"


def metrics_table(c: Comparison) -> dict:
    rows = []
    for key, label, unit in METRIC_ROWS:
        if all(key in m.mean for m in c.models):
            rows.append({"key": key, "label": label,
                         "cells": [_cell(m.mean[key], m.sd[key], bool(unit), c.folds) for m in c.models]})
    return {"columns": [m.label for m in c.models], "rows": rows}


def _summary(values: list[int]) -> dict:
    """Five-number summary (positions counted from 1) and Tukey's whiskers (1.5 times the box's length)."""
    v = np.asarray(values, dtype=float) + 1
    q1, med, q3 = (float(x) for x in np.percentile(v, [25, 50, 75]))
    reach = 1.5 * (q3 - q1)
    inside = v[(v >= q1 - reach) & (v <= q3 + reach)]
    return {"n": len(v), "min": float(v.min()), "q1": q1, "median": med, "q3": q3, "max": float(v.max()),
            "mean": float(v.mean()), "low": float(inside.min()), "high": float(inside.max()),
            "outliers": sorted({float(x) for x in v if x < inside.min() or x > inside.max()})}


def _ticks(top: float) -> list[int]:
    """Round axis marks from 1 to at least ``top``.

    >>> _ticks(37), _ticks(180)
    ([1, 10, 20, 30, 40], [1, 50, 100, 150, 200])
    """
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000, 50_000)
                if top / s <= 5) if top > 5 else 1
    marks = list(range(step, int(np.ceil(top / step)) * step + 1, step))
    return [1] + [m for m in marks if m > 1]


def box_plot(c: Comparison) -> dict:
    """The SVG shapes of one horizontal box per model, on one shared axis of positions (1 = first)."""
    stats = [_summary([m.position[d] for d in c.drawings if d in m.position]) if m.position else None
             for m in c.models]
    ticks = _ticks(max([s["max"] for s in stats if s] + [2]))
    lo, hi = 1, ticks[-1]
    inner = PLOT_W - LEFT - RIGHT

    def x(v: float) -> float:
        return round(LEFT + (v - lo) / (hi - lo) * inner, 1)

    rows = []
    for i, (m, s) in enumerate(zip(c.models, stats)):
        y = TOP_PAD + i * ROW_H
        row = {"label": m.label, "y": y, "mid": y + ROW_H / 2, "stats": s}
        if s:
            row.update({"x_low": x(s["low"]), "x_q1": x(s["q1"]), "x_med": x(s["median"]), "x_q3": x(s["q3"]),
                        "x_high": x(s["high"]), "x_mean": x(s["mean"]),
                        "outliers": [x(o) for o in s["outliers"]]})
        rows.append(row)
    height = TOP_PAD + len(rows) * ROW_H + AXIS_H
    return {"width": PLOT_W, "height": height, "rows": rows, "left": LEFT, "right": PLOT_W - RIGHT,
            "axis_y": TOP_PAD + len(rows) * ROW_H, "ticks": [{"v": t, "x": x(t)} for t in ticks]}


def _write_thumb(src: Path, dest: Path) -> bool:
    try:
        write_atomic(dest, web_image_bytes(load_rgb(src, max_side=THUMB), THUMB))
        return True
    except ImageError:
        return False


def _item(kind: str, index: int, paths, folder: Path, files: str, made: dict) -> dict:
    key = (kind, index)
    if key not in made:
        rel = f"{files}/{kind}-{index:06d}.webp"
        ok = _write_thumb(paths[index], folder / rel)
        made[key] = {"name": Path(paths[index]).stem, "src": rel if ok else None}
    return made[key]


def drawing_rows(c: Comparison, d_paths, a_paths, folder: Path, files: str) -> list[dict]:
    """Per compared drawing: its picture, its expected artworks, and one row per model of its top artworks."""
    made: dict = {}
    out = []
    for d in c.drawings:
        expected = set(c.expected[d])
        models = []
        for m in c.models:
            top = [{**_item("a", a, a_paths, folder, files, made), "expected": a in expected,
                    "position": p + 1} for p, a in enumerate(m.top.get(d, []))]
            pos = m.position.get(d)
            models.append({"label": m.label, "position": None if pos is None else pos + 1,
                           "beyond": pos is not None and pos >= TOP, "top": top})
        out.append({"drawing": _item("d", d, d_paths, folder, files, made), "group": c.group[d],
                    "expected": [_item("a", a, a_paths, folder, files, made) for a in c.expected[d]],
                    "models": models})
    return out


def write_comparison_page(c: Comparison, d_paths, a_paths, html_file: Path, *, title: str, note: str | None) -> Path:
    """Write the page and its folder of pictures and style; returns the page's path."""
    html_file = Path(html_file)
    folder = html_file.parent
    files = html_file.stem + "-files"
    # Pictures are named by their place in the folders given, so running again overwrites them; nothing in
    # the folder is deleted (it sits beside the user's own files).
    (folder / files).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(asset_dir("static") / "style.css", folder / files / "style.css")
    env = template_environment()
    html = env.get_template("compare.html").render(
        title=title, note=note, files=files, c=c, table=metrics_table(c), plot=box_plot(c), top=TOP,
        rows=drawing_rows(c, d_paths, a_paths, folder, files))
    write_atomic(html_file, html)
    return html_file
