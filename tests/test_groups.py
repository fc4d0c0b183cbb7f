"""Groups, series and homogeneity (generator/ml/groups.py) on small made-up vectors, and the years file."""

from __future__ import annotations

import numpy as np
import pytest

from generator.contracts import GroupSettings
from generator.errors import InputError
from generator.inputs.years import read_years
from generator.ml.groups import (DEFAULT_SETTINGS, centred, centred_similarity, homogeneity, make_groups,
                                 mutual_groups, normalised, renumber, rescored, series_of)
from generator.ml.neighbours import top_k


def planted(seed: int = 0, dim: int = 32):
    """Three tight clusters (10, 6 and 4 drawings), a near-identical pair inside the first, and 20 loners."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((3, dim))
    rows, truth = [], []
    for c, n in enumerate((10, 6, 4)):
        rows.extend(centres[c] + 0.5 * rng.standard_normal((n, dim)))
        truth.extend([c] * n)
    rows.extend(rng.standard_normal((20, dim)) * 1.5)
    truth.extend([-1] * 20)
    v = np.array(rows, np.float32)
    v[1] = v[0] + 0.01 * rng.standard_normal(dim).astype(np.float32)   # the same picture drawn twice
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v, np.array(truth)


def test_groups_find_the_planted_clusters_and_leave_loners_alone():
    v, truth = planted()
    idx, sim = top_k(v, v, 6, exclude_self=True, precision="fp32")
    g = make_groups(v, idx, sim, np.zeros(len(v), int), {})
    for c in range(3):
        labels = set(g.group[truth == c].tolist())
        assert len(labels) == 1 and -1 not in labels, f"cluster {c} split or left out: {labels}"
    assert len(set(g.group[truth >= 0].tolist())) == 3
    assert (g.group[truth == -1] == -1).mean() >= 0.8, "loners are not forced into a group"
    sizes = [len(g.members(k)) for k in range(g.count)]
    assert sizes == sorted(sizes, reverse=True), "groups are numbered by size"
    assert g.tightness.shape == (g.count,) and (g.tightness > 0).all()


def test_centred_similarity_from_the_lists_equals_the_centred_vectors_products():
    v, _ = planted(5)
    v[7] = 0   # a drawing whose picture gave no vector
    idx, sim = top_k(v, v, 6, exclude_self=True, precision="fp32")
    idx[3, -1] = -1   # a list with a hole
    got = centred_similarity(normalised(v), idx, sim)
    want = rescored(centred(v), np.where(idx >= 0, idx, 0))
    keep = idx >= 0
    assert np.abs(got - want)[keep].max() <= 2e-6 and (got[~keep] == 0).all()
    assert np.abs(got).max() > 0.3, "the check compares real similarities"


def test_series_are_the_near_identical_drawings_only():
    v, _ = planted()
    idx, sim = top_k(v, v, 6, exclude_self=True, precision="fp32")
    series, lowest = series_of(idx, sim.astype(np.float64), DEFAULT_SETTINGS.series_similarity)
    assert series[0] == series[1] >= 0
    assert (series >= 0).sum() == 2 and len(lowest) == 1 and lowest[0] >= DEFAULT_SETTINGS.series_similarity


def test_same_collection_same_result_whatever_the_row_order_of_work():
    v, _ = planted(3)
    idx, sim = top_k(v, v, 6, exclude_self=True, precision="fp32")
    views = {"countries": ["A" if i < 25 else "B" for i in range(len(v))]}
    a = make_groups(v, idx, sim, np.zeros(len(v), int), views)
    b = make_groups(v.copy(), idx.copy(), sim.copy(), np.zeros(len(v), int), views)
    assert np.array_equal(a.group, b.group) and np.array_equal(a.series, b.series)
    assert a.homogeneity == b.homogeneity and a.artworks == b.artworks


def test_homogeneity_ranks_a_copying_class_above_a_random_one():
    v, truth = planted(1)
    keys = ["copying" if t == 0 else None for t in truth]
    rng = np.random.default_rng(0)
    for i in rng.choice(np.flatnonzero(truth == -1), 10, replace=False):
        keys[i] = "mixed"
    rows = {h.key: h for h in homogeneity(centred(v), {"countries": keys}, min_drawings=8)}
    assert set(rows) == {"copying", "mixed"}
    copying, mixed = rows["copying"], rows["mixed"]
    assert copying.similarity > copying.high >= copying.baseline >= copying.low
    assert copying.p <= 0.01 and copying.p < mixed.p
    assert copying.similarity > mixed.similarity
    assert len(copying.examples) == 4 and all(truth[i] == 0 for i in copying.examples)


def test_small_views_are_not_measured():
    v, _ = planted()
    assert homogeneity(v, {"years": ["2001"] * 5 + [None] * (len(v) - 5)}, min_drawings=8) == ()


def test_renumber_and_mutual_links():
    assert renumber(np.array([3, 3, 1, 1, 1, 0])).tolist() == [1, 1, 0, 0, 0, 2]
    # 0 and 1 list each other; 2 lists 0 but 0 does not list 2: no mutual link
    idx = np.array([[1], [0], [0]])
    sim = np.array([[0.9], [0.9], [0.95]])
    assert mutual_groups(idx, sim, 0.5, 2).tolist() == [0, 0, -1]


def test_hdbscan_is_available_for_the_benchmark():
    pytest.importorskip("sklearn")
    v, truth = planted()
    idx, sim = top_k(v, v, 6, exclude_self=True, precision="fp32")
    g = make_groups(v, idx, sim, np.zeros(len(v), int), {}, GroupSettings("hdbscan", 3, 0.6, 0.91, 8, 19))
    assert len(set(g.group[truth == 0].tolist())) == 1


def test_years_file(tmp_path):
    good = tmp_path / "years.csv"
    good.write_text("year,theme,description\n2003,My town,Draw where you live\n2004,Water,\n")
    assert read_years(good, []) == {"2003": ("My town", "Draw where you live"), "2004": ("Water", "")}
    bad = tmp_path / "bad.csv"
    bad.write_text("year,theme\n03,My town\n")
    with pytest.raises(InputError, match=r"bad.csv line 2: the year '03' is not a year. Write it with four digits"):
        read_years(bad, [])
    empty = tmp_path / "empty.csv"
    empty.write_text("year,theme\n2003,\n")
    with pytest.raises(InputError, match="the theme of 2003 is empty"):
        read_years(empty, [])
    twice = tmp_path / "twice.csv"
    twice.write_text("year,theme\n2003,A\n2003,B\n")
    with pytest.raises(InputError, match="line 3: the year 2003 is given twice"):
        read_years(twice, [])
    with pytest.raises(InputError, match="does not exist"):
        read_years(tmp_path / "none.csv", [])


def test_the_groups_most_typical_of_a_year():
    from generator.ml.groups import typical_groups

    # group 0: 4 drawings, 2 from 2003; group 1: 2 drawings, both from 2003; group 2: one drawing of 2003 only
    labels = np.array([0, 0, 0, 0, 1, 1, 2, 2, -1])
    years = ["2003", "2003", "2004", "2004", "2003", "2003", "2003", "2005", "2003"]
    assert typical_groups(labels, years) == {"2003": (1, 0), "2004": (0,)}


def test_a_drawing_page_names_a_few_of_a_large_series_and_counts_the_rest():
    # A page shows the first SERIES_SHOWN others and their count: its inputs hold no more than that, so a series
    # of thousands does not put thousands of cards into every member's page key.
    from types import SimpleNamespace

    from generator.site.groups import SERIES_SHOWN, drawing_links

    n = SERIES_SHOWN + 5
    cards = [{"url": f"drawings/d{i}/index.html", "label": f"Drawing {i}", "picture": "x"} for i in range(n)]
    groups = SimpleNamespace(group=np.full(n, -1), series=np.zeros(n, int))
    ctx = SimpleNamespace(site=SimpleNamespace(groups=groups), d_cards=cards, series={0: list(range(n))})
    links = drawing_links(ctx, 2)
    assert links["group"] is None and links["series_count"] == n - 1
    assert [s["url"] for s in links["series"]] == [cards[i]["url"] for i in range(SERIES_SHOWN + 1) if i != 2]
    assert all(set(s) == {"url", "label"} for s in links["series"])
    alone = drawing_links(SimpleNamespace(site=SimpleNamespace(groups=SimpleNamespace(
        group=np.array([-1]), series=np.array([-1]))), d_cards=cards[:1], series={}), 0)
    assert alone["series"] == [] and alone["series_count"] == 0


def test_a_views_examples_are_those_of_a_full_sort():
    from generator.ml.groups import _closest_first

    rng = np.random.default_rng(3)
    for n in (3, 40, 5000):
        closeness = np.round(rng.random(n), 5) + rng.choice([0, 1e-7, 4e-7, 6e-7], n)   # ties once rounded
        rows = np.sort(rng.choice(10 * n, n, replace=False))
        full = sorted(range(n), key=lambda t: (-round(float(closeness[t]), 6), int(rows[t])))
        assert _closest_first(closeness, rows, 4) == full[:4]
