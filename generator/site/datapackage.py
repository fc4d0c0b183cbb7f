"""The data download: CSV copies of the site's JSON files, the model card, JSON Schemas and ``datapackage.json``.

Runs as the last step of rendering, when every ``data/*.json`` file has been
written. It reads those JSON files back (they are the contract) and writes, next
to them:

- ``<name>.csv`` for confirmed pairs and rejected suggestions, with the same values
  as their JSON files;
- the tables with a row per drawing or per artwork, made here from the build's
  data and published as CSV only (no JSON copy: no script of the site reads them):
  ``drawings.csv``, ``groups.csv``, and gzip-compressed (a fifth to a sixth of the
  size) ``artworks.csv.gz``, ``neighbours.csv.gz`` (ten rows per drawing) and
  ``layout.csv.gz``. A million artworks cost about 35 MB there, once;
- ``model-card.json``: which network computed the similarities and, for a model
  fine-tuned with ``sitegen train``, its training settings, metrics and history;
- with ``publish_embeddings``: ``embeddings-drawings.npy`` and
  ``embeddings-artworks.npy`` (float32, one row per item) and ``embeddings.json``
  naming the item of every row;
- ``schemas/<name>.schema.json``: a JSON Schema (draft 2020-12) for every JSON file;
- ``datapackage.json``: a Frictionless Data Package describing every file with
  its size, SHA-256 checksum and column types, and the data licence
  (``data_licence``; the pictures are not covered by it);
- the data page ``data/index.html`` listing each file with its size.

Which drawings a country, year or age group holds follows from ``drawings.csv``
(its ``country``, ``year`` and ``age_group`` columns): no file repeats it.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generator.fsutil import sha256_file, write_atomic
from generator.inputs.collection import csv_text
from generator.i18n import N_, file_size, gettext as _
from generator.site.groups import GROUP_PAGE_MIN, groups_payload, homogeneity_payload, themes_payload
from generator.site.iiif import iiif_listing
from generator.site.jsonout import SCHEMA_VERSION
from generator.site.search import SEARCH_FILES
from generator.site.stats import STATS_FILES

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

#: Known licences: identifier -> (title, address). Any other value is published by name (or as an address).
LICENCES = {
    "CC-BY-4.0": ("Creative Commons Attribution 4.0", "https://creativecommons.org/licenses/by/4.0/"),
    "CC-BY-SA-4.0": ("Creative Commons Attribution-ShareAlike 4.0", "https://creativecommons.org/licenses/by-sa/4.0/"),
    "CC-BY-NC-4.0": ("Creative Commons Attribution-NonCommercial 4.0",
                     "https://creativecommons.org/licenses/by-nc/4.0/"),
    "CC0-1.0": ("Creative Commons Zero 1.0 (public domain dedication)",
                "https://creativecommons.org/publicdomain/zero/1.0/"),
    "ODC-By-1.0": ("Open Data Commons Attribution License 1.0", "https://opendatacommons.org/licenses/by/1-0/"),
    "ODbL-1.0": ("Open Data Commons Open Database License 1.0", "https://opendatacommons.org/licenses/odbl/1-0/"),
    "PDDL-1.0": ("Open Data Commons Public Domain Dedication and License 1.0",
                 "https://opendatacommons.org/licenses/pddl/1-0/"),
}

IMAGES_NOT_COVERED = ("The pictures (drawings and artworks) are not part of this data and are not covered by its "
                      "licence: the drawings belong to the children who made them and their archive, and each "
                      "artwork keeps its own rights.")


# ---------------------------------------------------------------- what each table holds

@dataclass(frozen=True)
class Column:
    name: str
    type: str                 # Table Schema type: string, integer or number
    description: str
    nullable: bool = False
    enum: tuple | None = None
    minimum: float | None = None
    maximum: float | None = None

    def table_field(self) -> dict:
        field = {"name": self.name, "type": self.type, "description": self.description}
        constraints = {}
        if not self.nullable:
            constraints["required"] = True
        if self.enum:
            constraints["enum"] = list(self.enum)
        if self.minimum is not None:
            constraints["minimum"] = self.minimum
        if self.maximum is not None:
            constraints["maximum"] = self.maximum
        if constraints:
            field["constraints"] = constraints
        return field

    def json_schema(self) -> dict:
        base = {"string": "string", "integer": "integer", "number": "number"}[self.type]
        schema: dict = {"type": [base, "null"] if self.nullable else base, "description": self.description}
        if self.enum:
            schema["enum"] = list(self.enum) + ([None] if self.nullable else [])
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


def _c(name, type_, description, **kw) -> Column:
    return Column(name, type_, description, **kw)


_IMAGE = ("Address of its large picture (WebP), relative to the site's home (or to --image-base-url); empty when "
          "it could not be made.")

DRAWING_COLUMNS = (
    _c("id", "string", "The drawing's identifier: its archive number without side and scan quality, "
       "e.g. 2018_14-17_1653_SGP. Stable between builds. The drawing's page is drawings/ID/index.html and its "
       "small picture images/drawings/ID.thumb.webp (beside the large picture), ID being this identifier."),
    _c("file", "string", "File name of the scan in the archive."),
    _c("year", "integer", "Year the drawing was made (from its file name); empty when unknown.", nullable=True),
    _c("age_group", "string", "Age group of the child (3-5, 6-9, 10-13, 14-17, 18-25 or MS); empty when unknown.",
       nullable=True),
    _c("country", "string", "Country code from the file name; empty when unknown.", nullable=True),
    _c("country_name", "string", "Country name; empty when unknown.", nullable=True),
    _c("variant", "string", "Letter telling apart several drawings with the same number; usually empty.",
       nullable=True),
    _c("quality", "string", "Scan quality letter from the file name; empty when unknown.", nullable=True),
    _c("image", "string", _IMAGE, nullable=True),
)

ARTWORK_COLUMNS = (
    _c("id", "string", "The artwork's identifier, made from its file name. Stable between builds. The artwork's page "
       "is artworks/ID/index.html and its small picture images/artworks/ID.thumb.webp (beside the large picture), "
       "ID being this identifier."),
    _c("file", "string", "Its file, relative to the artworks folder."),
    _c("title", "string", "Title of the artwork."),
    _c("artist", "string", "Artist; empty when unknown.", nullable=True),
    _c("year", "string", "Date of the artwork as written in the artworks list (may be a range or 'c. 1890'); "
       "empty when unknown.", nullable=True),
    _c("image", "string", _IMAGE, nullable=True),
)

NEIGHBOUR_COLUMNS = (
    _c("drawing", "string", "Identifier of the drawing (see drawings.csv)."),
    _c("rank", "integer", "Position in the drawing's list: 1 is the most similar artwork.", minimum=1),
    _c("artwork", "string", "Identifier of the artwork (see artworks.csv)."),
    _c("similarity", "number", "Cosine similarity of the two pictures' feature vectors, from -1 to 1 "
       "(higher is more alike).", minimum=-1, maximum=1),
)

PAIR_COLUMNS = (
    _c("drawing", "string", "Identifier of the drawing (see drawings.csv)."),
    _c("artwork", "string", "Identifier of the artwork it re-creates (see artworks.csv)."),
    _c("source", "string", "Who confirmed it: 'archive' (the archive's list of re-creations) or 'review' (a "
       "decisions file saved from the site's review panel).", enum=("archive", "review")),
)

REJECTED_COLUMNS = (
    _c("drawing", "string", "Identifier of the drawing (see drawings.csv)."),
    _c("artwork", "string", "Identifier of the artwork a review found it does not re-create (see artworks.csv)."),
)

#: The decisions file saved by the review panel and read by 'sitegen build --decisions' (one object per row).
DECISION_COLUMNS = (
    _c("drawing", "string", "Identifier of the drawing, as in the id column of drawings.csv."),
    _c("artwork", "string", "Identifier of the artwork, as in the id column of artworks.csv."),
    _c("decision", "string", "'confirmed': the drawing re-creates the artwork; 'rejected': it does not.",
       enum=("confirmed", "rejected")),
    _c("note", "string", "Optional remark of the reviewer; never published.", nullable=True),
)

LAYOUT_COLUMNS = (
    _c("kind", "string", "'drawing' or 'artwork'.",
       enum=("drawing", "artwork")),
    _c("id", "string", "Identifier of the drawing or artwork."),
    _c("x", "number", "Horizontal position on the map, from -1 to 1.", minimum=-1, maximum=1),
    _c("y", "number", "Vertical position on the map, from -1 to 1.", minimum=-1, maximum=1),
)
LAYOUT_KINDS = {"d": "drawing", "a": "artwork"}

GROUP_COLUMNS = (
    _c("drawing", "string", "Identifier of the drawing (see drawings.csv); only drawings in a group or a series "
       "are listed."),
    _c("group", "string", "Its group of similar drawings, named by the identifier of the group's first drawing "
       "(it stays the same from one build to the next while that drawing stays in the group; the group's page "
       f"is group/GROUP/index.html when it has {GROUP_PAGE_MIN} drawings or more, else its row in "
       "groups/index.html); empty when it is in none.", nullable=True),
    _c("series", "string", "Its series of near-identical drawings (listed on series/index.html), named by "
       "the identifier of the series' first drawing; empty when it is in none.", nullable=True),
)

HOMOGENEITY_COLUMNS = (
    _c("view", "string", "What was measured: a country, a year, a country in one year, or an age group.",
       enum=("countries", "years", "country-years", "ages")),
    _c("key", "string", "The country code, year, COUNTRY-YEAR or age group."),
    _c("label", "string", "The same in words."),
    _c("drawings", "integer", "Its drawings (only those with enough drawings are measured).", minimum=1),
    _c("similarity", "number", "Mean similarity of every pair of its drawings (cosine of their feature vectors "
       "once the archive's average is taken away: about 0 for random drawings).", minimum=-1, maximum=1),
    _c("random_mean", "number", "The same figure for random sets of as many drawings of the archive: their mean.",
       minimum=-1, maximum=1),
    _c("random_low", "number", "2.5 % of the random sets are less alike than this.", minimum=-1, maximum=1),
    _c("random_high", "number", "2.5 % of the random sets are more alike than this.", minimum=-1, maximum=1),
    _c("share_as_alike", "number", "Share of random sets at least as alike as its drawings (the set itself "
       "counted): small means its drawings are more alike than chance.", minimum=0, maximum=1),
)

THEME_COLUMNS = (
    _c("year", "integer", "Year of the competition."),
    _c("theme", "string", "The theme the children were given that year."),
    _c("description", "string", "More about the theme; empty when none was given.", nullable=True),
)


@dataclass(frozen=True)
class Dataset:
    name: str          # file stem and resource name
    title: str
    description: str
    columns: tuple[Column, ...]
    list_key: str      # the JSON member holding the records or rows
    records: bool      # True: a list of objects; False: "columns" + a list of rows
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[tuple[str, str], ...] = ()  # (column, resource whose "id" it names)
    json_copy: bool = True   # False: published as CSV only (its rows come from per_drawing_payloads)
    compressed: bool = False  # True: published gzip-compressed (``<name>.csv.gz``), for tables made for programs

    @property
    def csv_name(self) -> str:
        return f"{self.name}.csv.gz" if self.compressed else f"{self.name}.csv"


_GZIP_NOTE = ("A CSV file compressed with gzip: pandas, R and DuckDB read it as it is; 7-Zip or a double-click "
              "unpacks it")

DATASETS = (
    Dataset("drawings", "Drawings", "Every published drawing: identifier, year, age group, country and picture "
            "(its page and small picture follow from the identifier: drawings/ID/index.html, "
            "images/drawings/ID.thumb.webp). Back sides of drawings are never published.", DRAWING_COLUMNS, "drawings", True,
            primary_key=("id",), json_copy=False),
    Dataset("artworks", "Artworks", "Every artwork: identifier, title, artist, date and picture (its page and "
            "small picture follow from the identifier: artworks/ID/index.html, images/artworks/ID.thumb.webp); "
            "extra columns of the artworks list are kept. " + _GZIP_NOTE + ".", ARTWORK_COLUMNS, "artworks", True,
            primary_key=("id",), json_copy=False, compressed=True),
    Dataset("neighbours", "Nearest artworks", "For each drawing, the artworks whose pictures are most similar "
            "to it: rank (1 = most similar) and similarity. Computed by the model described in model-card.json; "
            "suggestions, not attributions. " + _GZIP_NOTE + " (ten rows per drawing: a million rows for 100,000 "
            "drawings, more than a spreadsheet holds).",
            NEIGHBOUR_COLUMNS, "rows", False, primary_key=("drawing", "rank"),
            foreign_keys=(("drawing", "drawings"), ("artwork", "artworks")), json_copy=False, compressed=True),
    Dataset("pairs", "Confirmed re-creations", "Drawings known to re-create an artwork, from the archive's list "
            "or confirmed in a review (the source column says which).",
            PAIR_COLUMNS, "rows", False, foreign_keys=(("drawing", "drawings"), ("artwork", "artworks"))),
    Dataset("rejected", "Rejected suggestions", "Suggestions a review found wrong: the drawing does not re-create "
            "the artwork, so the site no longer suggests it for that drawing.", REJECTED_COLUMNS, "rows", False,
            foreign_keys=(("drawing", "drawings"), ("artwork", "artworks"))),
    Dataset("layout", "Map coordinates", "Position of every drawing and artwork on the site's map: similar "
            "pictures lie close together. " + _GZIP_NOTE + ".", LAYOUT_COLUMNS,
            "points", False, primary_key=("kind", "id"), json_copy=False, compressed=True),
    Dataset("groups", "Groups and series", "Drawings that belong together: each drawing's group of similar "
            "drawings and its series of near-identical drawings (a picture drawn twice, or a class drawing one "
            "motif). Computed from the model's similarities; drawings in neither are not listed.",
            GROUP_COLUMNS, "rows", False, primary_key=("drawing",), foreign_keys=(("drawing", "drawings"),),
            json_copy=False),
    Dataset("homogeneity", "Homogeneity", "How alike the drawings of each country, year, country-year and age "
            "group with enough drawings are, against random sets of as many drawings of the archive.",
            HOMOGENEITY_COLUMNS, "rows", False, primary_key=("view", "key"), json_copy=False),
    Dataset("themes", "Yearly themes", "The theme the children were given each year (from the years file; empty "
            "when none was given).", THEME_COLUMNS, "rows", False, primary_key=("year",), json_copy=False),
)


# ---------------------------------------------------------------- JSON Schemas

def _schema_doc(name: str, title: str, description: str, properties: dict, required: list[str],
                schema_version: int, site_url: str | None) -> dict:
    doc = {"$schema": JSON_SCHEMA_DIALECT}
    if site_url:
        doc["$id"] = f"{site_url.rstrip('/')}/data/schemas/{name}.schema.json"
    doc.update({"title": title, "description": description, "type": "object",
                "properties": {"schema_version": {"const": schema_version,
                                                  "description": "Raised whenever the layout of this file changes."},
                               **properties},
                "required": ["schema_version", *required]})
    return doc


def dataset_schema(ds: Dataset, schema_version: int, site_url: str | None) -> dict:
    if ds.records:
        item = {"type": "object", "properties": {c.name: c.json_schema() for c in ds.columns},
                "required": [c.name for c in ds.columns]}
        if ds.name == "artworks":
            item["properties"]["extra"] = {"type": "object", "additionalProperties": {"type": ["string", "null"]},
                                           "description": "Other columns of the artworks list, by column name."}
            item["required"].append("extra")
        props = {ds.list_key: {"type": "array", "items": item}}
        return _schema_doc(ds.name, f"{ds.title} ({ds.name}.json)", ds.description, props, [ds.list_key],
                           schema_version, site_url)
    names = [c.name for c in ds.columns]
    cells = []
    for c in ds.columns:
        cell = c.json_schema()
        if ds.name == "layout" and c.name == "kind":
            cell = {"enum": sorted(LAYOUT_KINDS), "description": "'d' for a drawing, 'a' for an artwork."}
        cells.append(cell)
    row = {"type": "array", "prefixItems": cells, "items": False, "minItems": len(cells)}
    props = {"columns": {"const": names, "description": "Names of the values in each row, in order."},
             ds.list_key: {"type": "array", "items": row}}
    required = ["columns", ds.list_key]
    if ds.name == "layout":
        props["method"] = {"type": "string", "description": "How the map was computed (e.g. UMAP)."}
        required.append("method")
    return _schema_doc(ds.name, f"{ds.title} ({ds.name}.json)", ds.description, props, required,
                       schema_version, site_url)


def model_card_schema(schema_version: int, site_url: str | None) -> dict:
    nullable_str = {"type": ["string", "null"]}
    props = {
        "model": {"type": "string", "description": "The model setting of the build (a name or a file name)."},
        "backbone": {"type": "string", "description": "Network architecture."},
        "weights_source": {"type": "string", "description": "Where the network's weights come from."},
        "fine_tuned": {"type": "boolean", "description": "True for a model fine-tuned with 'sitegen train'."},
        "embedding": {"type": "object", "properties": {
            "dimension": {"type": ["integer", "null"], "minimum": 1},
            "pooling": {"type": "string"}, "normalised": {"type": "boolean"}, "similarity": {"type": "string"}},
            "required": ["dimension", "similarity"], "description": "The feature vectors compared."},
        "neighbours_per_drawing": {"type": "integer", "minimum": 0},
        "layout_method": {"type": "string"},
        "training": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {
            "settings": {"type": "object"}, "metrics": {"type": "object"}, "history": {"type": "array"},
            "best_epoch": {"type": ["integer", "null"]}, "created_with": nullable_str,
            "split_sizes": {"type": "object", "additionalProperties": {"type": "integer"}},
            "cross_validation": {"type": ["object", "null"], "description": (
                "With 'sitegen train --folds K': the recipe trained and measured on K splits of the pairs; "
                "pretrained and fine-tuned figures on the drawings each split never learned from, mean and "
                "standard deviation.")},
            "mix": {"type": ["number", "null"], "description": (
                "Share of the fine-tuned weights kept, mixed with the pretrained ones (0: the pretrained "
                "network), chosen on the validation pairs.")}},
            "required": ["settings", "metrics", "history"]}],
            "description": "Training settings, metrics and history of a fine-tuned model; null otherwise."},
        "intended_use": {"type": "string"},
        "limitations": {"type": "string"},
    }
    return _schema_doc("model-card", "Model card (model-card.json)",
                       "Which neural network computed the similarities, and how it was trained.", props,
                       ["model", "backbone", "weights_source", "fine_tuned", "embedding", "training"],
                       schema_version, site_url)


def embeddings_schema(schema_version: int, site_url: str | None) -> dict:
    ids = {"type": "array", "items": {"type": "string"}}
    props = {"model": {"type": "string"}, "dimension": {"type": "integer", "minimum": 0},
             "dtype": {"const": "float32"},
             "drawings": {"type": "object", "properties": {"file": {"type": "string"}, "ids": ids},
                          "required": ["file", "ids"]},
             "artworks": {"type": "object", "properties": {"file": {"type": "string"}, "ids": ids},
                          "required": ["file", "ids"]}}
    return _schema_doc("embeddings", "Embeddings index (embeddings.json)",
                       "Names the drawing or artwork of every row of the .npy files.", props,
                       ["model", "dimension", "dtype", "drawings", "artworks"], schema_version, site_url)


def decisions_schema(site_url: str | None) -> dict:
    """The rows of a decisions.csv file (the review panel's download, read by 'sitegen build --decisions'),
    each row as an object; the file is CSV with the header drawing,artwork,decision,note, in UTF-8."""
    doc = {"$schema": JSON_SCHEMA_DIALECT}
    if site_url:
        doc["$id"] = f"{site_url.rstrip('/')}/data/schemas/decisions.schema.json"
    doc.update({"title": "Review decisions (decisions.csv)",
                "description": "A CSV file in UTF-8 whose first line is drawing,artwork,decision,note; each "
                "following line, read as an object with those members, must match this schema. Give it to "
                "'sitegen build --decisions' (several files allowed).",
                "type": "array",
                "items": {"type": "object", "properties": {c.name: c.json_schema() for c in DECISION_COLUMNS},
                          "required": [c.name for c in DECISION_COLUMNS if not c.nullable],
                          "additionalProperties": False}})
    return doc


def generic_schema(name: str, schema_version: int | None, site_url: str | None) -> dict:
    doc = {"$schema": JSON_SCHEMA_DIALECT}
    if site_url:
        doc["$id"] = f"{site_url.rstrip('/')}/data/schemas/{name}.schema.json"
    doc.update({"title": f"{name}.json", "description": "Not yet described in detail: a JSON object with a "
                "schema_version number.", "type": "object",
                "properties": {"schema_version": {"type": "integer"}}, "required": ["schema_version"]})
    return doc


def schema_name_for(rel: str) -> str:
    """The schema (file stem in data/schemas/) of a JSON file named relative to data/.

    >>> schema_name_for("artworks.json"), schema_name_for("search/meta.json")
    ('artworks', 'search')
    """
    parts = rel.split("/")
    return parts[0] if len(parts) > 1 else Path(rel).stem


# ---------------------------------------------------------------- writing

def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    return str(v)


#: The values the CSV writer spells as :func:`_cell` does (None as "", text as it is, numbers as their repr): not
#: true/false, dicts, lists, nor numpy's numbers (whose repr names their type).
_AS_WRITTEN = frozenset({str, int, float, type(None)})


def _csv_rows(rows: list[list]):
    """``rows`` with every value spelt as :func:`_cell` spells it; as they are when the CSV writer's own spelling is
    the same (the neighbours' million rows, the layout's)."""
    if {type(v) for row in rows for v in row} <= _AS_WRITTEN:
        return rows
    return ([_cell(v) for v in row] for row in rows)


def dataset_table(ds: Dataset, payload: dict) -> tuple[list[dict], list[str], list[list]]:
    """(Table Schema fields, header, rows) of one JSON file, keeping unknown members as extra columns."""
    known = [c for c in ds.columns]
    fields = [c.table_field() for c in known]
    if ds.records:
        records = payload.get(ds.list_key, [])
        names = {c.name for c in known}
        seen: dict[str, None] = {}   # first-seen order: the order of the user's artworks.csv
        if ds.name == "artworks":
            names.add("extra")
            for rec in records:
                seen.update(dict.fromkeys(rec.get("extra", ())))
        extra_keys = list(seen)
        others = sorted(set().union(*(rec.keys() for rec in records)) - names if records else ())
        header = [c.name for c in known] + others
        extra_names = []
        for k in extra_keys:
            name = k
            while name in header or name in extra_names:
                name = f"extra_{name}"
            extra_names.append(name)
        header += extra_names
        fields += [{"name": k, "type": "any", "description": "Not yet described."} for k in others]
        fields += [{"name": n, "type": "string", "description": f"Column '{k}' of the artworks list."}
                   for n, k in zip(extra_names, extra_keys)]
        columns = [c.name for c in known] + others
        rows = [[rec.get(k) for k in columns] for rec in records]
        if extra_keys:
            for row, rec in zip(rows, records):
                extra = rec.get("extra", {})
                row += [extra.get(k) for k in extra_keys]
        return fields, header, rows
    header = list(payload.get("columns", [c.name for c in known]))
    by_name = {c.name: c for c in known}
    fields = [by_name[n].table_field() if n in by_name else {"name": n, "type": "any", "description": "Not yet described."}
              for n in header]
    rows = payload.get(ds.list_key, [])
    if ds.name == "layout" and "kind" in header:
        at = header.index("kind")
        rows = [[LAYOUT_KINDS.get(v, v) if i == at else v for i, v in enumerate(r)] for r in rows]
    return fields, header, rows


def _plain(value):
    """A JSON-safe copy: numbers stay numbers (NaN and infinity become null), paths keep only their name."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Path):
        return value.name  # never publish the folders of the machine that trained the model
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    return str(value)


def model_card(site) -> dict:
    """What the model page and the download say about the network."""
    s = site
    checkpoint = s.checkpoint
    vectors = _vectors(s)
    dim = int(vectors[0].shape[1]) if vectors is not None and vectors[0].ndim == 2 else None
    training = None
    if checkpoint is not None:
        training = {"settings": _plain(checkpoint.get("settings", {})),
                    "metrics": _plain(checkpoint.get("metrics", {})),
                    "history": _plain(checkpoint.get("history", [])),
                    "best_epoch": _plain(checkpoint.get("best_epoch")),
                    "created_with": _plain(checkpoint.get("created_with")),
                    "split_sizes": {str(k): len(v) for k, v in sorted((checkpoint.get("split") or {}).items())},
                    "cross_validation": _plain(checkpoint.get("cross_validation")),
                    "mix": _plain(checkpoint.get("mix"))}
    nb = s.neighbours
    return {
        "model": s.model_name,
        "backbone": str(checkpoint["backbone"]) if checkpoint else str(s.settings.model),
        "weights_source": s.model_source,
        "fine_tuned": checkpoint is not None,
        "embedding": {"dimension": dim, "pooling": "global average of the last convolutional feature map",
                      "normalised": True, "similarity": "cosine"},
        "neighbours_per_drawing": nb.per_drawing,
        "layout_method": s.layout_method,
        "training": training,
        "intended_use": "Suggesting, for each children's drawing, famous artworks that look alike, to help "
                        "archivists and visitors find re-creations and influences.",
        "limitations": "The network compares pictures only (colours, shapes, composition); it knows nothing of "
                       "titles or history. A high similarity is a suggestion, not an attribution. Scan quality, "
                       "paper colour and framing can affect the results.",
    }


def _vectors(site):
    emb = site.embeddings
    if emb is None:
        return None
    return np.asarray(emb.drawings.vectors), np.asarray(emb.artworks.vectors)


def human_size(n: int) -> str:
    """Sizes in plain words.

    >>> human_size(512), human_size(12_345), human_size(3_400_000)
    ('512 bytes', '12.3 kB', '3.4 MB')
    """
    if n < 1000:
        return f"{n} bytes"
    for unit in ("kB", "MB", "GB", "TB"):
        n /= 1000
        if n < 1000 or unit == "TB":
            return f"{n:.1f} {unit}"
    raise AssertionError  # pragma: no cover


def package_name(title: str) -> str:
    """A Data Package name (lower case letters, digits, '-', '.', '_') made from the site title.

    >>> package_name("Children's drawings & the artworks they re-create")
    'childrens-drawings-the-artworks-they-re-create'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower().replace("'", "").replace("\u2019", "")).strip("-")
    return slug or "sitegen-data"


def licence_entry(licence: str) -> dict:
    if licence in LICENCES:
        title, url = LICENCES[licence]
        return {"name": licence, "path": url, "title": title}
    if re.match(r"https?://", licence):
        return {"path": licence, "title": licence}
    return {"name": licence, "title": licence}


def _resource(data_dir: Path, rel: str, name: str, title: str, description: str, fmt: str, mediatype: str,
              **more) -> dict:
    path = data_dir / rel
    res = {"name": name, "title": title, "description": description, "path": rel, "format": fmt,
           "mediatype": mediatype}
    if fmt in ("csv", "json"):
        res["encoding"] = "utf-8"
    res.update(more)
    res["bytes"] = path.stat().st_size
    res["hash"] = "sha256:" + sha256_file(path)
    return res


#: The data page's lines for the files written by the other page writers, in the page's order.
DATA_FILES = [
    {"name": "drawings.csv", "what": "Every published drawing: id, year, age group, country and picture."},
    {"name": "artworks.csv.gz", "what": "Every artwork: id, title, artist, year and picture."},
    {"name": "neighbours.csv.gz", "what": "For each drawing, its nearest artworks: rank (1 = most similar) and "
                                          "similarity (cosine, -1 to 1). " + _GZIP_NOTE + "."},
    {"name": "pairs.json", "what": "Confirmed re-creations (drawing, artwork, source): source 'archive' for the "
                                   "archive's list, 'review' for those confirmed in a review."},
    {"name": "rejected.json", "what": "Suggestions rejected in a review (drawing, artwork): no longer suggested."},
    {"name": "layout.csv.gz", "what": "Map coordinates of every drawing and artwork, between -1 and 1. "
                                      + _GZIP_NOTE + "."},
] + STATS_FILES + SEARCH_FILES

_OTHER_TITLES = {
    "model-card.json": ("Model card", "Which neural network computed the similarities: architecture, source of its "
                        "weights and, for a fine-tuned model, its training settings, metrics and history."),
    "embeddings.json": ("Embeddings index", "The drawing or artwork of every row of the two .npy files."),
}


PACKAGE_DESCRIPTION = N_("Data behind the website: the drawings and artworks it shows, the artworks most similar to "
                         "each drawing, the confirmed re-creations, the map coordinates and the model used.")

#: The titles of the files in datapackage.json, for the catalogue: a site in another language gives them (and the
#: files' descriptions, DATA_PAGE_WORDS) translated, as the Data Package format leaves titles and descriptions
#: free; the files' names, their columns and codes stay the same in every language, so that programs reading
#: them work on any of the site's languages. The columns' descriptions stay in English, with the columns' names.
PACKAGE_TITLES = (
    N_("Drawings"), N_("Artworks"), N_("Nearest artworks"), N_("Confirmed re-creations"), N_("Rejected suggestions"),
    N_("Map coordinates"), N_("Model card"), N_("Embeddings index"), N_("Embeddings of the drawings"),
    N_("Embeddings of the artworks"), N_("Stats"), N_("Stats artists"), N_("Stats artworks"), N_("Stats countries"),
    N_("Stats recreated by group"), N_("Stats year age"), N_("Stats years"), N_("Data shown on the site."),
    N_("Groups and series"), N_("Homogeneity"), N_("Yearly themes"),
)


def resource_title(title: str) -> str:
    """A file's title in the site's language ("Artworks (JSON)": the title of the CSV file's, then "(JSON)")."""
    if title.endswith(" (JSON)"):
        return _("%(title)s (JSON)") % {"title": _(title[: -len(" (JSON)")])}
    return _(title)


def write_data_download(ctx, out) -> None:
    """Write the download files into ``<site>/data`` and the data page listing them."""
    s = ctx.site
    settings = s.settings
    data_dir = out.root / "data"
    licence = settings.data_licence
    descriptions = {f["name"]: f["what"] for f in DATA_FILES}

    # Written first, so they are found below with every other JSON file.
    out.write_json("data/model-card.json", model_card(s))
    vectors = _write_embeddings(s, out) if settings.publish_embeddings else None
    json_files = _write_schemas(data_dir, settings.site_url, with_embeddings=vectors is not None)
    tables = out.handed.get(TABLES)
    if tables is None:   # not written ahead (a writer list without write_data_tables)
        tables = _write_tables(data_dir, [ds for ds in DATASETS if not ds.json_copy], per_drawing_payloads(ctx))
    resources = _table_resources(data_dir, tables)
    resources += _other_resources(data_dir, json_files, descriptions, with_embeddings=vectors is not None)
    for r in resources:   # in the site's language; names, columns and codes stay as they are
        r["title"], r["description"] = resource_title(r["title"]), _(r["description"])
    package = {
        "name": package_name(settings.title),
        "title": _(settings.title),
        "description": _(PACKAGE_DESCRIPTION) + " " + _(IMAGES_NOT_COVERED),
        "licenses": [licence_entry(licence)],
        "keywords": ["children's drawings", "art", "image similarity", "IMAJ"],
    }
    if settings.site_url:
        package["homepage"] = settings.site_url
    package["resources"] = resources
    write_atomic(data_dir / "datapackage.json", json.dumps(package, ensure_ascii=False, indent=2) + "\n")

    title, url = LICENCES.get(licence, (licence, licence if re.match(r"https?://", licence) else None))
    out.page("data.html", "data/index.html", title="Data", files=_listing(data_dir, resources, descriptions),
             download={"licence": licence, "licence_title": title, "licence_url": url,
                       "images_note": _(IMAGES_NOT_COVERED), "embeddings": vectors is not None},
             iiif=iiif_listing(ctx, out))


def _write_embeddings(s, out) -> tuple[np.ndarray, np.ndarray] | None:
    vectors = _vectors(s)
    if vectors is None:
        return None
    for kind, v in zip(("drawings", "artworks"), vectors):
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(v, dtype="<f4"), allow_pickle=False)
        write_atomic(out.root / "data" / f"embeddings-{kind}.npy", buf.getvalue())
    out.write_json("data/embeddings.json", {
        "model": s.model_name, "dimension": int(vectors[0].shape[1]) if vectors[0].ndim == 2 else 0,
        "dtype": "float32",
        "drawings": {"file": "embeddings-drawings.npy", "ids": list(s.embeddings.drawings.ids)},
        "artworks": {"file": "embeddings-artworks.npy", "ids": list(s.embeddings.artworks.ids)}})
    return vectors


def _write_schemas(data_dir: Path, site_url: str | None, with_embeddings: bool) -> list[str]:
    """One JSON Schema per kind of JSON file; returns the JSON files found (relative to data/)."""
    schemas = {ds.name: dataset_schema(ds, SCHEMA_VERSION, site_url) for ds in DATASETS if ds.json_copy}
    schemas["model-card"] = model_card_schema(SCHEMA_VERSION, site_url)
    schemas["decisions"] = decisions_schema(site_url)
    if with_embeddings:
        schemas["embeddings"] = embeddings_schema(SCHEMA_VERSION, site_url)
    json_files = sorted(p.relative_to(data_dir).as_posix() for p in data_dir.rglob("*.json")
                        if p.parent.name != "schemas" and p.name != "datapackage.json")
    for rel in json_files:
        name = schema_name_for(rel)
        if name not in schemas:
            schemas[name] = generic_schema(name, SCHEMA_VERSION, site_url)
    for name, doc in sorted(schemas.items()):
        write_atomic(data_dir / "schemas" / f"{name}.schema.json", json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    return json_files


def per_drawing_payloads(ctx) -> dict[str, Callable[[], dict]]:
    """The tables with a row (or ten) per drawing or a row per artwork, published as CSV only, in the shape of the
    JSON tables (no script of the site reads them: a JSON copy of the artworks would add 270 MB at a million).
    Each is made when asked for, so that one at a time is in memory (all of them at once, as rows of Python
    values, held half a gigabyte at 100,000 drawings and 250,000 artworks)."""
    return {"groups": lambda: groups_payload(ctx), "homogeneity": lambda: homogeneity_payload(ctx),
            "themes": lambda: themes_payload(ctx), "drawings": lambda: {"drawings": _drawing_records(ctx)},
            "artworks": lambda: {"artworks": _artwork_records(ctx)}, "neighbours": lambda: neighbours_payload(ctx.site),
            "layout": lambda: _layout_payload(ctx.site)}


def _artwork_records(ctx) -> list[dict]:
    s = ctx.site
    return [{
        "id": a.id, "file": a.rel, "title": a.title, "artist": a.artist, "year": a.year, "extra": dict(a.extra),
        # As for the drawings, the page and the small picture follow from the id.
        "image": ctx.display_picture("artworks", a.id),
    } for a in s.artworks]


def _drawing_records(ctx) -> list[dict]:
    s = ctx.site
    return [{
        "id": d.id, "file": d.rel.rsplit("/", 1)[-1], "year": d.year, "age_group": d.age_group,
        "country": d.country, "country_name": ctx.country_name(d.country) if d.country else None,
        "variant": d.name.variant if d.name else None, "quality": d.quality,
        # The page and the small picture follow from the id (see the id column): 100,000 rows need not
        # repeat them. The large picture is given, as it may be missing or elsewhere (--image-base-url).
        "image": ctx.display_picture("drawings", d.id),
    } for d in s.drawings]


def _layout_payload(s) -> dict:
    nd = len(s.drawings)
    # Names are in drawings.csv and artworks.csv: the map's table does not repeat them.
    xy = np.asarray(s.coords)[:, :2].tolist()
    points = [["d", d.id, round(x, 4), round(y, 4)] for d, (x, y) in zip(s.drawings, xy)]
    points += [["a", a.id, round(x, 4), round(y, 4)] for a, (x, y) in zip(s.artworks, xy[nd:])]
    return {"method": s.layout_method, "columns": [c.name for c in LAYOUT_COLUMNS], "points": points}


def neighbours_payload(site) -> dict:
    """The nearest artworks of every drawing, in the shape of the other tables (columns), its rows as CSV lines
    (``lines``: ten a drawing, a million at 100,000 drawings, spelt straight from the lists as the CSV writer spells
    them, instead of made into rows of Python values for it, which took twice as long at every build)."""
    nb = site.neighbours
    a_ids = [csv_field(a.id) for a in site.artworks]
    lines = []
    for d, found, sims in zip(site.drawings, nb.artworks_index.tolist(), nb.artworks_similarity.tolist()):
        d_id = csv_field(d.id)
        lines += [f"{d_id},{rank},{a_ids[j]},{round(sim, 4)!r}\n" for rank, (j, sim) in enumerate(zip(found, sims), 1)]
    return {"columns": [c.name for c in NEIGHBOUR_COLUMNS], "lines": "".join(lines)}


def csv_field(text: str) -> str:
    """One field of text as :func:`csv_text` spells it: quoted (its quotes doubled) where it holds a comma, a quote
    or a line break, else as it is.

    >>> csv_field("2009_14-17_1234_DEU"), csv_field('say "hi", then')
    ('2009_14-17_1234_DEU', '"say ""hi"", then"')
    """
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


#: What :func:`write_data_tables` hands to :func:`write_data_download` (``SiteOutput.handed``).
TABLES = "data tables"


def write_data_tables(ctx, out) -> None:
    """The data download's tables with a row (or ten) per drawing or artwork, published as CSV only: written ahead
    of the download, which lists them with every other file (they read nothing another writer writes, so they are
    written while the pages that read the computed fields are, when the site is updated in place). Their table
    schemas are handed to :func:`write_data_download` in this process."""
    out.handed[TABLES] = _write_tables(out.root / "data", [ds for ds in DATASETS if not ds.json_copy],
                                       per_drawing_payloads(ctx))


def _write_tables(data_dir: Path, datasets: list, csv_only: dict[str, Callable[[], dict]] | None = None) -> dict:
    """Write each table of ``datasets`` as CSV (gzipped where it says so): from its JSON file in ``data_dir``, or
    from ``csv_only`` (name -> what makes its payload) when it has none; its table schema, by name."""
    schemas = {}
    # The compressed tables are compressed in threads (zlib lets go of the interpreter while it works), beside
    # the making of the next tables' text.
    with ThreadPoolExecutor(max_workers=2) as pool:
        writes = []
        for ds in datasets:
            src = data_dir / f"{ds.name}.json"
            if ds.json_copy and not src.is_file():
                continue
            payload = json.loads(src.read_text(encoding="utf-8")) if ds.json_copy else csv_only[ds.name]()
            fields, header, rows = dataset_table(ds, payload)
            data = (csv_text(header, _csv_rows(rows)) + payload.get("lines", "")).encode("utf-8")
            del payload, rows
            writes.append(pool.submit(_write_table, data_dir / ds.csv_name, data, ds.compressed))
            table_schema: dict = {"fields": fields, "missingValues": [""]}
            if ds.primary_key:
                table_schema["primaryKey"] = list(ds.primary_key)
            if ds.foreign_keys:
                table_schema["foreignKeys"] = [{"fields": col, "reference": {"resource": res, "fields": "id"}}
                                               for col, res in ds.foreign_keys]
            schemas[ds.name] = table_schema
        for w in writes:
            w.result()
    return schemas


def _table_resources(data_dir: Path, written: dict[str, dict]) -> list[dict]:
    """A CSV beside each main JSON file (written here), and both described as resources, with the tables without
    a JSON copy, already ``written`` (name -> table schema); each resource gives its file's size and digest."""
    schemas = {**written, **_write_tables(data_dir, [ds for ds in DATASETS if ds.json_copy])}
    described = []
    for ds in DATASETS:
        if ds.name not in schemas:
            continue
        table_schema = schemas[ds.name]
        more = {"compression": "gz"} if ds.compressed else {}
        described.append(_resource(data_dir, ds.csv_name, ds.name, ds.title, ds.description, "csv",
                                   "text/csv", profile="tabular-data-resource", schema=table_schema, **more))
        if ds.json_copy:
            described.append(_resource(data_dir, f"{ds.name}.json", f"{ds.name}-json", f"{ds.title} (JSON)",
                                       ds.description, "json", "application/json", profile="data-resource",
                                       jsonSchema=f"schemas/{ds.name}.schema.json"))
    return described


def _write_table(path: Path, data: bytes, compressed: bool) -> None:
    write_atomic(path, gzip_bytes(data) if compressed else data)


def _other_resources(data_dir: Path, json_files: list[str], descriptions: dict[str, str],
                     with_embeddings: bool) -> list[dict]:
    """Every other JSON file, the other CSV files, the vectors."""
    resources = []
    main = {ds.name for ds in DATASETS}
    for rel in json_files:
        if Path(rel).stem in main:
            continue
        title, what = _OTHER_TITLES.get(rel, (Path(rel).stem.replace("-", " ").capitalize(),
                                              descriptions.get(rel, "Data shown on the site.")))
        resources.append(_resource(data_dir, rel, package_name(Path(rel).with_suffix("").as_posix()) + "-json",
                                   title, what, "json", "application/json", profile="data-resource",
                                   jsonSchema=f"schemas/{schema_name_for(rel)}.schema.json"))
    # CSV files written by other page writers (statistics...): their columns are typed from their values.
    own_csvs = {ds.csv_name for ds in DATASETS}
    for path in sorted(data_dir.glob("*.csv")):
        if path.name in own_csvs:
            continue
        header, rows = _read_csv(path)
        resources.append(_resource(data_dir, path.name, package_name(path.stem), path.stem.replace("-", " ").capitalize(),
                                   descriptions.get(path.name, "Data shown on the site."), "csv", "text/csv",
                                   profile="tabular-data-resource",
                                   schema={"fields": infer_fields(header, rows), "missingValues": [""]}))
    if with_embeddings:
        for kind in ("drawings", "artworks"):
            resources.append(_resource(
                data_dir, f"embeddings-{kind}.npy", f"embeddings-{kind}", f"Embeddings of the {kind}",
                f"Feature vectors of the {kind} (NumPy .npy, float32, one row per item in the order of "
                f"embeddings.json). Cosine similarity of two rows is the similarity shown on the site.",
                "npy", "application/octet-stream"))
    return resources


def _listing(data_dir: Path, resources: list[dict], descriptions: dict[str, str]) -> list[dict]:
    """The data page's list: each file a visitor may want, with its size, in the site's language (the files
    themselves keep their English names and columns; datapackage.json gives titles and descriptions translated)."""
    json_copies = {f"{ds.name}.json" for ds in DATASETS}
    listing = []
    for r in resources:
        what = _("The same as %(name)s.csv, as JSON.") % {"name": Path(r['path']).stem} \
            if r["path"] in json_copies else _(r["description"])
        listing.append({"name": r["path"], "size": file_size(r["bytes"]), "what": what})
    listing.append({"name": "datapackage.json", "size": file_size((data_dir / "datapackage.json").stat().st_size),
                    "what": _("Description of the files above (columns, types, size, SHA-256 checksum) in the "
                              "Frictionless Data Package format, with the licence.")})
    listing.append({"name": "schemas/", "size": file_size(_folder_size(data_dir / "schemas")),
                    "what": _("A JSON Schema (draft 2020-12) for every JSON file.")})
    for name, what in descriptions.items():  # folders of other pages
        if name.endswith("/") and (data_dir / name).is_dir():
            listing.append({"name": name, "size": file_size(_folder_size(data_dir / name)), "what": _(what)})
    return listing


#: The English descriptions the data page shows (written above and in the other page writers, often joined from
#: parts), for the catalogue: the page shows them translated. tests/test_i18n.py checks that the English data
#: page shows nothing else, so a description changed there fails until it is changed here too.
DATA_PAGE_WORDS = (
    N_("Drawings that belong together: each drawing's group of similar drawings and its series of near-identical "
       "drawings (a picture drawn twice, or a class drawing one motif). Computed from the model's similarities; "
       "drawings in neither are not listed."),
    N_("How alike the drawings of each country, year, country-year and age group with enough drawings are, against "
       "random sets of as many drawings of the archive."),
    N_("The theme the children were given each year (from the years file; empty when none was given)."),
    N_("Every published drawing: identifier, year, age group, country and picture (its page and small picture follow "
       "from the identifier: drawings/ID/index.html, images/drawings/ID.thumb.webp). Back sides of drawings are "
       "never published."),
    N_("Every artwork: identifier, title, artist, date and picture (its page and small picture follow from the "
       "identifier: artworks/ID/index.html, images/artworks/ID.thumb.webp); extra columns of the artworks list are "
       "kept. A CSV file compressed with gzip: pandas, R and DuckDB read it as it is; 7-Zip or a double-click unpacks "
       "it."),
    N_("For each drawing, the artworks whose pictures are most similar to it: rank (1 = most similar) and "
       "similarity. Computed by the model described in model-card.json; suggestions, not attributions. A CSV file "
       "compressed with gzip: pandas, R and DuckDB read it as it is; 7-Zip or a double-click unpacks it (ten rows per "
       "drawing: a million rows for 100,000 drawings, more than a spreadsheet holds)."),
    N_("Drawings known to re-create an artwork, from the archive's list or confirmed in a review (the source column "
       "says which)."),
    N_("Suggestions a review found wrong: the drawing does not re-create the artwork, so the site no longer suggests "
       "it for that drawing."),
    N_("Position of every drawing and artwork on the site's map: similar pictures lie close together. A CSV file "
       "compressed with gzip: pandas, R and DuckDB read it as it is; 7-Zip or a double-click unpacks it."),
    N_("Which neural network computed the similarities: architecture, source of its weights and, for a fine-tuned "
       "model, its training settings, metrics and history."),
    N_("The drawing or artwork of every row of the two .npy files."),
    N_("Feature vectors of the drawings (NumPy .npy, float32, one row per item in the order of embeddings.json). "
       "Cosine similarity of two rows is the similarity shown on the site."),
    N_("Feature vectors of the artworks (NumPy .npy, float32, one row per item in the order of embeddings.json). "
       "Cosine similarity of two rows is the similarity shown on the site."),
    N_("The numbers of the statistics page: drawings per year, age group and country, and the most re-created "
       "artworks and artists."),
    N_("The same per artist."),
    N_("For every artwork re-created at least once or ranked first for a drawing: drawings confirmed to re-create "
       "it, and drawings for which the model ranks it first."),
    N_("Drawings per country."),
    N_("The three most re-created artworks per country, year and age group, under both measures."),
    N_("Drawings per year (rows) and age group (columns), with totals."),
    N_("Drawings per year."),
    N_("The search index used by the search page (JavaScript files, one per two first letters of a word)."),
    N_("The pictures (drawings and artworks) are not part of this data and are not covered by its licence: the "
       "drawings belong to the children who made them and their archive, and each artwork keeps its own rights."),
)


_INTEGER = re.compile(r"-?\d+")
_NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def gzip_bytes(data: bytes) -> bytes:
    """gzip ``data`` with no file name and no time stamp in the header, so the same table gives the same bytes.

    zlib's usual level (6): the neighbours' table of 100,000 drawings (45 MB) is 9% larger than at the highest
    level (9.4 MB against 8.7 MB) and compressed six times faster (1.3 s against 8.4 s), at every build that
    adds a drawing.

    >>> import gzip; gzip.decompress(gzip_bytes(b"a,b\\n")) == b"a,b\\n" and gzip_bytes(b"x") == gzip_bytes(b"x")
    True
    """
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as gz:
        gz.write(data)
    return buf.getvalue()


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return (rows[0] if rows else []), rows[1:]


def infer_fields(header: list[str], rows: list[list[str]]) -> list[dict]:
    """Table Schema fields typed from the values: integer, number or string (empty cells are missing).

    >>> [f["type"] for f in infer_fields(["a", "b", "c"], [["1", "1.5", "x"], ["", "2", "3"]])]
    ['integer', 'number', 'string']
    """
    fields = []
    for i, name in enumerate(header):
        values = [r[i] for r in rows if i < len(r) and r[i] != ""]
        if values and all(_INTEGER.fullmatch(v) for v in values):
            kind = "integer"
        elif values and all(_NUMBER.fullmatch(v) for v in values):
            kind = "number"
        else:
            kind = "string"
        fields.append({"name": name, "type": kind})
    return fields


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file())
