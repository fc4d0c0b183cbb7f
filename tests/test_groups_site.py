"""Groups, series and homogeneity on the built demo: they find what the demo planted, every drawing page links
its group, the data files match their schemas, and a years file puts each year's theme on its page."""

from __future__ import annotations

import csv
import json
import re

import pytest

from tests.conftest import demo_settings

pytestmark = pytest.mark.slow


def _rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_every_drawing_page_links_its_group_and_flags_its_series(built_demo):
    _, _, out = built_demo
    rows = _rows(out / "data" / "groups.csv")
    assert any(r["group"] for r in rows) and any(r["series"] for r in rows)
    in_group = in_series = 0
    for r in rows:
        html = (out / "drawings" / r["drawing"] / "index.html").read_text(encoding="utf-8")
        if r["group"]:
            # a group with a page of its own is linked; the drawing page of a smaller one names its other drawings
            others = [o["drawing"] for o in rows if o["group"] == r["group"] and o["drawing"] != r["drawing"]]
            linked = f'href="../../group/{r["group"]}/index.html"' in html
            named = "Its other drawings:" in html and all(f'href="../../drawings/{o}/index.html"' in html for o in others)
            assert linked != named, r
            assert r["group"] == min([r["drawing"], *others]), "a group is named by its first drawing"
            in_group += 1
        if r["series"]:
            assert "series-flag" in html, r
            in_series += 1
    assert in_group >= 20 and in_series >= 2
    listed = {r["drawing"] for r in rows}
    other = next(p for p in (out / "drawings").iterdir() if p.name not in listed)
    html = (other / "index.html").read_text(encoding="utf-8")
    assert "groups/" not in html and "series-flag" not in html


def test_groups_find_the_planted_series_and_copying_classes(built_demo):
    from generator.demo.collection import planted_truth

    _, _, out = built_demo
    truth = planted_truth()
    series = {r["drawing"]: r["series"] for r in _rows(out / "data" / "groups.csv") if r["series"]}
    found = sum(1 for s in truth.series for a in s for b in s if a < b and series.get(a) and series.get(a) == series.get(b))
    planted = sum(len(s) * (len(s) - 1) // 2 for s in truth.series)
    assert found >= 0.6 * planted, f"{found} of {planted} planted pairs found in one series"
    homogeneity = {(r["view"], r["key"]): r for r in _rows(out / "data" / "homogeneity.csv")}
    measured = [(level, float(homogeneity["country-years", f"{c}-{y}"]["similarity"])) for c, y, level in truth.copying]
    most = max(measured)
    assert most[0] == max(level for level, _ in measured), f"the class copying most is not the most alike: {measured}"
    strongest = homogeneity["country-years", next(f"{c}-{y}" for c, y, lv in truth.copying if lv == most[0])]
    assert float(strongest["share_as_alike"]) < 0.05
    assert float(strongest["similarity"]) > float(strongest["random_high"])


def test_groups_pages_and_the_statistics_section(built_demo):
    _, _, out = built_demo
    index = (out / "groups" / "index.html").read_text(encoding="utf-8")
    from collections import Counter

    from generator.site.groups import GROUP_PAGE_MIN

    sizes = Counter(r["group"] for r in _rows(out / "data" / "groups.csv") if r["group"])
    listed = re.findall(r'<tr id="g-([^"]+)">.*?</td><td>(\d+)</td>', index)
    assert [k for k, _ in listed] == sorted(sizes, key=lambda k: (-sizes[k], k))[:len(listed)], "by size"
    assert all(int(n) == sizes[k] for k, n in listed)
    assert any(n < GROUP_PAGE_MIN for n in sizes.values()) and any(n >= GROUP_PAGE_MIN for n in sizes.values())
    for g, n in sizes.items():
        assert (out / "group" / g / "index.html").exists() == (n >= GROUP_PAGE_MIN), (g, n)
    with_page = {k for k, n in sizes.items() if n >= GROUP_PAGE_MIN}
    tight = (out / "groups" / "tightest" / "index.html").read_text(encoding="utf-8")
    assert set(re.findall(r'group/([^/"]+)/index.html', tight)) == with_page
    page = (out / "group" / min(with_page, key=lambda k: (-sizes[k], k)) / "index.html").read_text(encoding="utf-8")
    assert "Countries" in page and "The artworks its drawings most often resemble" in page
    stats = (out / "stats" / "index.html").read_text(encoding="utf-8")
    assert 'id="homogeneity"' in stats and "<svg" in stats.split('id="homogeneity"')[1]
    assert "Most alike" in stats and "Least alike" in stats


def test_data_files_are_in_the_package_with_schemas(built_demo):
    _, _, out = built_demo
    package = json.loads((out / "data" / "datapackage.json").read_text())
    resources = {r["path"]: r for r in package["resources"]}
    for name, columns in (("groups.csv", ["drawing", "group", "series"]),
                          ("homogeneity.csv", ["view", "key", "label", "drawings", "similarity", "random_mean",
                                               "random_low", "random_high", "share_as_alike"]),
                          ("themes.csv", ["year", "theme", "description"])):
        assert [f["name"] for f in resources[name]["schema"]["fields"]] == columns
        with open(out / "data" / name, newline="", encoding="utf-8") as f:
            assert next(csv.reader(f)) == columns
    frictionless = pytest.importorskip("frictionless")
    for name in ("groups.csv", "homogeneity.csv"):
        report = frictionless.validate(out / "data" / "datapackage.json", resource_name=name.removesuffix(".csv"))
        assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]


def test_years_file_puts_the_theme_on_the_year_page(built_demo, demo_dir, tmp_path):
    from generator.pipeline.stages import build

    settings, _, _ = built_demo
    years = tmp_path / "years.csv"
    years.write_text("year,theme,description\n2002,My town,Draw the street where you live\n2007,Water\n",
                     encoding="utf-8")
    again = demo_settings(demo_dir, tmp_path, years=years, find_page=False)
    again = type(again)(**{**again.__dict__, "cache": settings.cache})
    report = build(again)
    assert report.computed["groups"] == 0, "the groups come from the cache"
    page = (again.out / "years" / "2002" / "index.html").read_text(encoding="utf-8")
    assert "The theme that year: <strong>My town</strong>" in page and "Draw the street where you live" in page
    assert _rows(again.out / "data" / "themes.csv")[1] == {"year": "2007", "theme": "Water", "description": ""}
