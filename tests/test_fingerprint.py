"""The page fingerprint is a digest of the site data itself: every field counts unless it is computed from the
others, and a field added to the site data counts without anyone listing it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from generator.contracts import BrowserModel, Embedded, Embeddings, Groups, GroupSettings, Neighbours
from generator.inputs.collection import Artwork, Drawing
from generator.inputs.countries import Country, CountryTable
from generator.pipeline.incremental import site_fingerprint
from generator.settings import BuildSettings
from generator.site.context import SiteData


def _site(**changes) -> SiteData:
    d = [Drawing("d0", Path("in/d0.jpg"), "d0.jpg", None), Drawing("d1", Path("in/d1.jpg"), "d1.jpg", None)]
    a = [Artwork("a0", Path("art/a0.jpg"), "a0.jpg", "Title", "Artist", "1900")]
    nb = Neighbours(np.zeros((2, 1), np.int64), np.ones((2, 1), np.float32), np.array([[1], [0]]),
                    np.full((2, 1), 0.5, np.float32), np.array([[0]]), np.ones((1, 1), np.float32))
    emb = Embeddings(Embedded(["d0", "d1"], np.eye(2, 3, dtype=np.float32)),
                     Embedded(["a0"], np.ones((1, 3), np.float32)))
    site = SiteData(settings=BuildSettings(), drawings=d, artworks=a, pairs=[("d0", "a0")],
                    countries=CountryTable([Country("LBA", "Lebanon", "LBN")]), artists={"Artist": {"years": "1"}},
                    neighbours=nb, coords=np.zeros((3, 2)), layout_method="umap",
                    pictures={"d0": (Path("cache/images/h0-t.webp"), Path("cache/images/h0-d.webp"))},
                    model_source="pretrained", model_name="m", embeddings=emb)
    return dataclasses.replace(site, **changes)


#: A different value for every field of the site data that counts.
CHANGED = {
    "settings": BuildSettings(title="Another title"),
    "drawings": [Drawing("d0", Path("in/d0.jpg"), "d0.jpg", None)],
    "artworks": [Artwork("a0", Path("art/a0.jpg"), "a0.jpg", "Other title", "Artist", "1900")],
    "pairs": [],
    "countries": CountryTable([Country("LBA", "Liban", "LBN")]),
    "artists": {"Artist": {"years": "2"}},
    "neighbours": Neighbours(np.zeros((2, 1), np.int64), np.full((2, 1), 0.9, np.float32), np.array([[1], [0]]),
                             np.full((2, 1), 0.5, np.float32), np.array([[0]]), np.ones((1, 1), np.float32)),
    "coords": np.ones((3, 2)),
    "layout_method": "pca",
    "pictures": {"d0": (Path("cache/images/h1-t.webp"), Path("cache/images/h1-d.webp"))},
    "model_source": "a file",
    "model_name": "n",
    "checkpoint": {"history": [{"loss": 1.0}]},
    "embeddings": Embeddings(Embedded(["d0", "d1"], np.eye(2, 3, dtype=np.float32)),
                             Embedded(["a0"], np.full((1, 3), 2, np.float32))),
    "pairs_unreadable": 1,
    "pair_sources": {("d0", "a0"): "review"},
    "rejected": (("d1", "a0"),),
    "browser_model": BrowserModel(b"onnx", 224, 3, 2, 1.0, 0.99),
    "groups": Groups(GroupSettings("mutual", 2, 0.65, 0.91, 8, 19), np.array([0, 0]), np.array([-1, -1]),
                     np.ones(1, np.float32), (((0, 2),),), np.zeros(0, np.float32), (), {}),
    "themes": {"2003": ("My town", "")},
    "layout_sample": 100_000,
}


def test_every_field_that_is_not_derived_counts():
    fields = {f.name for f in dataclasses.fields(SiteData) if not f.metadata.get("derived")}
    assert fields == set(CHANGED), "give the new field of SiteData a changed value here"
    base = site_fingerprint(_site())
    assert site_fingerprint(_site()) == base  # the same data, the same fingerprint
    for name, value in CHANGED.items():
        assert site_fingerprint(_site(**{name: value})) != base, name


def test_derived_fields_and_where_the_cache_lives_do_not_count():
    base = site_fingerprint(_site())
    derived = [f.name for f in dataclasses.fields(SiteData) if f.metadata.get("derived")]
    assert {"discoveries", "model_figures", "find_index", "map", "atlas"} <= set(derived)
    for name in derived:
        assert site_fingerprint(_site(**{name: object()})) == base, name
    moved = {"d0": (Path("elsewhere/h0-t.webp"), Path("elsewhere/h0-d.webp"))}
    assert site_fingerprint(_site(pictures=moved)) == base
    assert site_fingerprint(_site(settings=BuildSettings(batch_size=3, cache=Path("c2")))) == base
    assert site_fingerprint(_site(), "code v2") != base


def test_a_field_added_to_the_site_data_counts_without_being_listed():
    @dataclasses.dataclass(frozen=True)
    class MoreSiteData(SiteData):
        shown_somewhere: tuple = ()

    plain = MoreSiteData(**{f.name: getattr(_site(), f.name) for f in dataclasses.fields(SiteData)})
    assert site_fingerprint(plain) != site_fingerprint(dataclasses.replace(plain, shown_somewhere=(1,)))


@pytest.mark.parametrize("a, b", [(np.zeros(4, np.float32), np.zeros(4, np.float64)),
                                  (np.zeros((2, 2)), np.zeros(4)), ([1, 2], (1, 2)), ("1", 1), (b"ab", "ab")])
def test_arrays_and_values_are_told_apart_by_type_and_shape(a, b):
    assert site_fingerprint(_site(), a) != site_fingerprint(_site(), b)
