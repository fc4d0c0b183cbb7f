"""The data download: CSV copies, JSON Schemas, the model card, embeddings and datapackage.json."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

from generator.contracts import Embedded, Embeddings, Neighbours
from generator.site import datapackage
from generator.site.datapackage import DATASETS, licence_entry, model_card, model_card_schema, schema_name_for
from tests.helpers import site_drawings

SITE_URL = "https://example.org/project"


@pytest.fixture(scope="session")
def published(built_demo, tmp_path_factory):
    """(site, settings) of the demo built again with a site address and the embeddings (from the same cache)."""
    from generator.pipeline.stages import build

    settings, _, _ = built_demo
    out = tmp_path_factory.mktemp("published") / "site"
    changed = settings.replace(out=out, site_url=SITE_URL, publish_embeddings=True, data_licence="CC0-1.0")
    build(changed)
    return out, changed


def json_files(data: Path) -> list[str]:
    return sorted(p.relative_to(data).as_posix() for p in data.rglob("*.json")
                  if p.parent.name != "schemas" and p.name != "datapackage.json")


def check_against_schemas(site: Path) -> list[str]:
    from jsonschema import Draft202012Validator

    data = site / "data"
    checked = []
    for rel in json_files(data):
        schema_file = data / "schemas" / f"{schema_name_for(rel)}.schema.json"
        assert schema_file.is_file(), f"no schema for data/{rel}"
        schema = json.loads(schema_file.read_text())
        Draft202012Validator.check_schema(schema)
        errors = sorted(Draft202012Validator(schema).iter_errors(json.loads((data / rel).read_text())), key=str)
        assert not errors, f"data/{rel}: {errors[0].message} at {list(errors[0].absolute_path)}"
        checked.append(rel)
    return checked


@pytest.mark.slow
def test_every_json_file_matches_its_schema(built_demo):
    _, _, site = built_demo
    checked = check_against_schemas(site)
    for name in ("pairs.json", "model-card.json"):
        assert name in checked
    # Which drawings a country, year or age group holds is in drawings.csv, not repeated in other files.
    assert not (site / "data" / "collections").exists()
    # The nearest artworks and the artworks are published as CSV only (described in datapackage.json), without
    # a JSON copy: no script of the site reads them, and at a million artworks a copy would cost hundreds of MB.
    for name in ("neighbours", "artworks"):
        assert not (site / "data" / f"{name}.json").exists() and (site / "data" / f"{name}.csv.gz").is_file()
        assert not (site / "data" / f"{name}.csv").exists()
    for name in ("pairs", "model-card"):
        schema = json.loads((site / "data" / "schemas" / f"{name}.schema.json").read_text())
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert "Not yet described" not in schema["description"], name


@pytest.mark.slow
def test_published_json_files_match_their_schemas(published):
    site, _ = published
    assert "embeddings.json" in check_against_schemas(site)
    schema = json.loads((site / "data" / "schemas" / "pairs.schema.json").read_text())
    assert schema["$id"] == f"{SITE_URL}/data/schemas/pairs.schema.json"


@pytest.mark.slow
def test_schemas_catch_a_broken_file(built_demo):
    from jsonschema import Draft202012Validator

    _, _, site = built_demo
    data = json.loads((site / "data" / "pairs.json").read_text())
    data["rows"][0][1] = 7
    schema = json.loads((site / "data" / "schemas" / "pairs.schema.json").read_text())
    assert not Draft202012Validator(schema).is_valid(data)


@pytest.mark.slow
def test_datapackage_is_valid_and_checksums_match(built_demo):
    import frictionless

    _, _, site = built_demo
    data = site / "data"
    package = json.loads((data / "datapackage.json").read_text())
    report = frictionless.validate(str(data / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "type", "note"])[:10]
    assert package["licenses"] == [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/",
                                    "title": "Creative Commons Attribution 4.0"}]
    assert "not covered by its licence" in package["description"]
    names = [r["name"] for r in package["resources"]]
    assert len(names) == len(set(names))
    for res in package["resources"]:
        path = data / res["path"]
        blob = path.read_bytes()
        assert res["bytes"] == len(blob), res["path"]
        assert res["hash"] == "sha256:" + hashlib.sha256(blob).hexdigest(), res["path"]
        assert res["format"] in ("csv", "json", "npy")
        if res["format"] == "csv":
            assert res["mediatype"] == "text/csv" and res["schema"]["fields"]
        if res["format"] == "json":
            assert res["mediatype"] == "application/json"
            assert (data / res["jsonSchema"]).is_file()
    # Every table and JSON file at the top of data/ is described.
    top = sorted(p.name for p in data.iterdir()
                 if p.name.endswith((".csv", ".csv.gz", ".json")) and p.name != "datapackage.json")
    assert sorted(r["path"] for r in package["resources"]) == top
    for ds in DATASETS:
        assert ds.csv_name in top
        assert (f"{ds.name}.json" in top) == ds.json_copy, ds.name   # the nearest artworks: CSV only
    assert "neighbours.json" not in top


@pytest.mark.slow
def test_datapackage_notices_a_changed_file(built_demo, tmp_path):
    import shutil

    import frictionless

    _, _, site = built_demo
    copy = tmp_path / "data"
    shutil.copytree(site / "data", copy)
    with open(copy / "pairs.csv", "a", encoding="utf-8") as fh:
        fh.write("no-such-drawing,no-such-artwork\n")
    report = frictionless.validate(str(copy / "datapackage.json"))
    assert not report.valid
    kinds = {e[0] for e in report.flatten(["type"])}
    assert "hash-count" in kinds


@pytest.mark.slow
def test_published_datapackage_with_embeddings_and_other_licence(published):
    import frictionless

    site, _ = published
    data = site / "data"
    report = frictionless.validate(str(data / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "type", "note"])[:10]
    package = json.loads((data / "datapackage.json").read_text())
    assert package["licenses"][0]["name"] == "CC0-1.0"
    assert package["homepage"] == SITE_URL
    assert {"embeddings-drawings", "embeddings-artworks", "embeddings-json"} <= {r["name"] for r in package["resources"]}


def read_csv(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_csv_files_agree_with_each_other_and_with_json(built_demo):
    _, report, site = built_demo
    data = site / "data"
    drawings = site_drawings(data.parent)
    # Tables with a row per drawing are published as CSV only.
    assert not (data / "drawings.json").exists() and not (data / "layout.json").exists()
    for d in drawings:
        assert d["page"] == f"drawings/{d['id']}/index.html" and (site / d["page"]).is_file()
        assert str(d["year"]) in d["id"] if d["year"] else True
    artworks = read_csv(data / "artworks.csv.gz")
    assert len(artworks) == report.artworks and len({a["id"] for a in artworks}) == len(artworks)
    for a in artworks:  # the page and the small picture follow from the id, as its column says
        assert (site / f"artworks/{a['id']}/index.html").is_file()
        assert (site / f"images/artworks/{a['id']}.thumb.webp").is_file() == bool(a["image"])
    rows = read_csv(data / "neighbours.csv.gz")
    assert list(rows[0]) == ["drawing", "rank", "artwork", "similarity"]
    per_drawing = {}
    for r in rows:
        per_drawing.setdefault(r["drawing"], []).append(int(r["rank"]))
        assert -1 <= float(r["similarity"]) <= 1
    assert list(per_drawing) == [d["id"] for d in drawings]
    assert all(ranks == list(range(1, len(ranks) + 1)) for ranks in per_drawing.values())
    package = json.loads((data / "datapackage.json").read_text())
    res = next(r for r in package["resources"] if r["path"] == "neighbours.csv.gz")
    assert res["schema"]["primaryKey"] == ["drawing", "rank"] and res["compression"] == "gz"
    assert res["bytes"] == (data / "neighbours.csv.gz").stat().st_size
    assert not (data / "neighbours.csv").exists()
    assert not any(r["path"] == "neighbours.json" for r in package["resources"])
    pairs = json.loads((data / "pairs.json").read_text())["rows"]
    assert [[r["drawing"], r["artwork"], r["source"]] for r in read_csv(data / "pairs.csv")] == pairs
    rows = read_csv(data / "layout.csv.gz")
    assert [r["id"] for r in rows] == [d["id"] for d in drawings] + [a["id"] for a in artworks]
    assert [r["kind"] for r in rows] == ["drawing"] * len(drawings) + ["artwork"] * len(artworks)


def test_artwork_extra_columns_are_kept():
    ds = next(d for d in DATASETS if d.name == "artworks")
    payload = {"artworks": [
        {"id": "a", "file": "a.jpg", "title": "A", "artist": None, "year": None, "image": "i",
         "extra": {"museum": "Louvre", "title": "clash"}},
        {"id": "b", "file": "b.jpg", "title": "B", "artist": "X", "year": "1900", "image": "i",
         "extra": {"medium": "oil"}}]}
    fields, header, rows = datapackage.dataset_table(ds, payload)
    assert header[-3:] == ["museum", "extra_title", "medium"]
    assert [f["name"] for f in fields] == header
    assert rows[1][-3:] == [None, None, "oil"]
    text = datapackage.csv_text(header, rows)
    assert text.splitlines()[1].endswith(",Louvre,clash,")


@pytest.mark.slow
def test_data_page_lists_files_with_sizes(built_demo):
    _, _, site = built_demo
    data = site / "data"
    page = (data / "index.html").read_text()
    package = json.loads((data / "datapackage.json").read_text())
    for res in package["resources"] + [{"path": "datapackage.json"}]:
        assert re.search(rf'<a href="{re.escape(res["path"])}">{re.escape(res["path"])}</a></td><td>'
                         r"\d+(\.\d)? (bytes|kB|MB|GB)</td>", page), res["path"]
    assert "Creative Commons Attribution 4.0" in page
    assert "not covered by its licence" in page
    assert page.count("<h1>") == 1


@pytest.mark.slow
def test_model_card_of_the_demo(built_demo):
    _, _, site = built_demo
    card = json.loads((site / "data" / "model-card.json").read_text())
    assert card["backbone"] == "efficientnet_lite0" and card["fine_tuned"] is False and card["training"] is None
    assert card["weights_source"].startswith("ImageNet")
    assert card["embedding"]["dimension"] == 1280 and card["embedding"]["similarity"] == "cosine"


def test_model_card_of_a_fine_tuned_model():
    from jsonschema import Draft202012Validator

    checkpoint = {"backbone": "efficientnet_lite0", "created_with": "sitegen 0.1.0", "best_epoch": 3,
                  "settings": {"epochs": 10, "lr": 1e-4, "data": Path("/home/someone/private/drawings")},
                  "metrics": {"pretrained": {"val": {"MAP": 0.2}}, "finetuned": {"val": {"MAP": float("nan")}}},
                  "history": [{"epoch": 1, "loss": np.float32(0.5)}],
                  "split": {"train": [["d", "a"]] * 5, "val": [["d", "a"]]}}
    vec = Embedded(["x"], np.ones((1, 8), np.float32))
    ranks, sims = np.zeros((1, 4), int), np.zeros((1, 4), np.float32)
    site = SimpleNamespace(settings=SimpleNamespace(model="runs/best.pt"), model_name="best.pt",
                           model_source="fine-tuned model best.pt", checkpoint=checkpoint,
                           neighbours=Neighbours(ranks, sims, ranks[:, :0], sims[:, :0], ranks, sims),
                           layout_method="UMAP", embeddings=Embeddings(vec, vec))
    card = model_card(site)
    assert card["fine_tuned"] is True and card["backbone"] == "efficientnet_lite0"
    t = card["training"]
    assert t["settings"]["data"] == "drawings"  # no folder of the training machine
    assert t["metrics"]["finetuned"]["val"]["MAP"] is None
    assert t["history"] == [{"epoch": 1, "loss": 0.5}]
    assert t["split_sizes"] == {"train": 5, "val": 1}
    assert card["embedding"]["dimension"] == 8
    doc = {"schema_version": 1, **json.loads(json.dumps(card, allow_nan=False))}
    Draft202012Validator(model_card_schema(1, None)).validate(doc)


@pytest.mark.slow
def test_published_embeddings(published):
    site, _ = published
    data = site / "data"
    index = json.loads((data / "embeddings.json").read_text())
    drawings = site_drawings(data.parent)
    assert index["drawings"]["ids"] == [d["id"] for d in drawings]
    for kind in ("drawings", "artworks"):
        vectors = np.load(data / index[kind]["file"], allow_pickle=False)
        assert vectors.dtype == np.float32
        assert vectors.shape == (len(index[kind]["ids"]), index["dimension"])
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3)
    # The similarity published for a drawing's first artwork is the dot product of their vectors.
    d_vec = np.load(data / "embeddings-drawings.npy")
    a_vec = np.load(data / "embeddings-artworks.npy")
    first = read_csv(data / "neighbours.csv.gz")[0]
    i = index["drawings"]["ids"].index(first["drawing"])
    j = index["artworks"]["ids"].index(first["artwork"])
    assert math.isclose(float(d_vec[i] @ a_vec[j]), float(first["similarity"]), abs_tol=2e-4)


@pytest.mark.slow
def test_embeddings_are_not_published_by_default(built_demo):
    _, _, site = built_demo
    assert not list((site / "data").glob("*.npy"))
    assert not (site / "data" / "embeddings.json").exists()


@pytest.mark.slow
def test_publishing_is_deterministic(published, tmp_path):
    from generator.pipeline.stages import build

    site, settings = published
    again = settings.replace(out=tmp_path / "again")
    build(again)
    names = ["404.html", "robots.txt", "sitemap.xml"] + \
        [p.relative_to(site).as_posix() for p in sorted((site / "data").rglob("*")) if p.is_file()]
    for name in names:
        assert (again.out / name).read_bytes() == (site / name).read_bytes(), name


def test_flags_reach_the_settings(monkeypatch, tmp_path):
    import generator.pipeline.stages as pipeline
    from generator.cli.main import cli

    seen = {}

    def fake_build(settings, **kw):
        seen["settings"] = settings
        return pipeline.BuildReport(out=settings.out)

    monkeypatch.setattr(pipeline, "build", fake_build)
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["build", "--drawings", "d", "--artworks", "a", "--publish-embeddings",
                                   "--data-licence", "CC0-1.0"])
    assert res.exit_code == 0, res.output
    assert seen["settings"].publish_embeddings is True
    assert seen["settings"].data_licence == "CC0-1.0"


def test_licence_entries():
    assert licence_entry("ODbL-1.0")["path"] == "https://opendatacommons.org/licenses/odbl/1-0/"
    assert licence_entry("https://example.org/terms") == {"path": "https://example.org/terms",
                                                           "title": "https://example.org/terms"}
    assert licence_entry("Archive terms") == {"name": "Archive terms", "title": "Archive terms"}


def test_the_tables_written_ahead_are_those_the_download_writes_itself(tmp_path, monkeypatch):
    # The per-drawing tables are written by their own writer (in the drawing pages' lane of an update in place)
    # and handed to the data download; without that writer the download writes them itself, the same bytes.
    from generator.pipeline.derive import derive
    from generator.site import datapackage, pages
    from tests.test_site_size import _titled_site

    site = _titled_site(tmp_path)
    data = {}
    for name, writers in (("ahead", pages.PAGES),
                          ("itself", tuple(w for w in pages.PAGES if w is not datapackage.write_data_tables))):
        monkeypatch.setattr(pages, "PAGES", writers)
        out = tmp_path / name
        out.mkdir()
        pages.render_site(site, out, prepare=derive)
        data[name] = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted((out / "data").rglob("*"))
                      if p.is_file()}
    assert data["ahead"] == data["itself"]
    assert {"data/drawings.csv", "data/neighbours.csv.gz", "data/layout.csv.gz"} <= set(data["ahead"])


def test_the_nearest_artworks_table_is_spelt_as_the_csv_writer_spells_its_rows():
    """The table of nearest artworks is written as text straight from the lists: the same bytes as the CSV writer
    gives for its rows, identifiers that need quoting and similarities of every kind included."""
    from generator.inputs.collection import csv_text

    d_ids = ["2009_14-17_1234_DEU", "with,comma", 'with "quotes"', "line\nbreak", " spaced ", "é", ""]
    a_ids = ["Monet_1", 'Artist, "Title"', "plain"]
    rng = np.random.default_rng(3)
    index = rng.integers(0, len(a_ids), (len(d_ids), 4))
    sims = np.array([[0.123456, -0.0, 1.0, 1e-05], [0.99995, -0.33335, 0.5, 0.30000001192092896]] * 4)[:len(d_ids)]
    sims = sims.astype(np.float32)
    site = SimpleNamespace(drawings=[SimpleNamespace(id=i) for i in d_ids],
                           artworks=[SimpleNamespace(id=i) for i in a_ids],
                           neighbours=SimpleNamespace(artworks_index=index, artworks_similarity=sims))
    payload = datapackage.neighbours_payload(site)
    rows = [[d, rank, a_ids[j], round(s, 4)] for d, found, row in zip(d_ids, index.tolist(), sims.tolist())
            for rank, (j, s) in enumerate(zip(found, row), start=1)]
    header = payload["columns"]
    assert csv_text(header, []) + payload["lines"] == csv_text(header, rows)
    third = list(csv.reader(io.StringIO(payload["lines"])))[4 * 3]   # the first row of the fourth drawing
    assert third == ["line\nbreak", "1", a_ids[index[3][0]], repr(round(float(sims[3][0]), 4))]
