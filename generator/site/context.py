"""What the pages are made from: the site data the pipeline hands over, and one read-only context built from it.

:class:`SiteData` is the contract between the pipeline and the site: the
published items, their neighbours, the map, the pictures that could be made,
what the pipeline read about the model, and what it computed for the pages from
all that (the discoveries, the model's figures, the find page's index, the map's
arrangement and its picture sheets). :class:`SiteContext` adds, once, what
every page writer looks up: item rows, confirmed pairs, cards, labels and the
collection views.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generator.settings import BuildSettings
from generator.contracts import (AtlasSheets, BrowserModel, CompactIndex, ConfirmedPairFigures, Discoveries,
                                 Embeddings, Groups, MapArrangement, Neighbours)
from generator.inputs.collection import AGE_GROUPS, Artwork, Drawing
from generator.inputs.countries import CountryTable
from generator import i18n
from generator.site import labels
from generator.site.groups import group_views, series_lists
from generator.site.labels import FACETS, UNKNOWN
from generator.site.urls import (artwork_url, check_image_base_url, collection_url, display_src, drawing_url,
                                 site_base, thumb_url)


#: The metadata of a :class:`SiteData` field computed from the others (left out of the page fingerprint).
DERIVED = {"derived": True}
# A field's metadata may also name a ``fingerprint`` function: what of its value counts for the page
# fingerprint (pipeline/incremental.py); every other field counts whole.


def picture_names(pictures: Mapping[str, tuple[Path, Path]]):
    """(item id, thumbnail's file name, display picture's file name) of each item with pictures. A mapping that
    knows the names without making the paths (the pipeline's, with ``named()``) is asked for them: 350,000 pairs
    of paths made only to take their names cost seconds and a few hundred megabytes."""
    named = getattr(pictures, "named", None)
    if named is not None:
        return named()
    return ((item_id, thumb.name, display.name) for item_id, (thumb, display) in pictures.items())


@dataclass(frozen=True)
class SiteData:
    """Everything the site shows, as the pipeline computed it; rows of the arrays follow the item lists."""

    #: only the settings that can change what a page says count for the page fingerprint
    settings: BuildSettings = field(metadata={"fingerprint": BuildSettings.page_fingerprint})
    #: the items count for the fingerprint by their repr (a dataclass's repr names every field: a new field counts
    #: too): one string for 100,000 drawings, where walking them field by field took seconds
    drawings: list[Drawing] = field(metadata={"fingerprint": repr})
    artworks: list[Artwork] = field(metadata={"fingerprint": repr})
    pairs: list[tuple[str, str]]
    countries: CountryTable
    artists: dict
    neighbours: Neighbours
    coords: np.ndarray
    layout_method: str
    #: item id -> (thumbnail, display picture) in the cache; an item whose pictures could not be made is absent
    #: (the pictures are named by their content: their folder, the cache's, does not count for the fingerprint)
    pictures: Mapping[str, tuple[Path, Path]] = field(metadata={"fingerprint": lambda pictures: json.dumps(sorted(
        picture_names(pictures)))})
    model_source: str
    model_name: str
    #: the training record of a model fine-tuned with 'sitegen train' (settings, metrics, split...); else None
    checkpoint: dict | None = None
    embeddings: Embeddings | None = field(default=None, metadata={"fingerprint": lambda e: e and e.fingerprint()})
    pairs_unreadable: int = 0  # confirmed pairs left out of ``pairs``: a picture of theirs could not be read
    #: (drawing, artwork) -> "archive" (the pairs file) or "review" (a decisions file); absent: "archive"
    pair_sources: dict[tuple[str, str], str] = field(default_factory=dict)
    #: (drawing, artwork) suggestions rejected in a review: no longer suggested, listed in the data download
    rejected: tuple[tuple[str, str], ...] = ()
    browser_model: BrowserModel | None = None  # the model for the find page; None: no find page
    #: groups of drawings, series of near-identical drawings, homogeneity of the views (pipeline's groups stage)
    groups: Groups | None = None
    #: year -> (the competition's theme, its description or "") from the years file
    themes: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: how many items the map's UMAP laid out when it laid out a sample (the others placed beside them); 0: all
    layout_sample: int = 0
    # What the pipeline computes from the fields above for the pages (pipeline/derive.py). Being functions
    # of them and of the code, they are left out of the page fingerprint (``derived`` in their metadata).
    #: the discoveries pages' candidates, best first
    discoveries: Discoveries | None = field(default=None, metadata=DERIVED)
    #: the model page's figures on the confirmed pairs; None when there is no pair to measure
    model_figures: ConfirmedPairFigures | None = field(default=None, metadata=DERIVED)
    #: the find page's compact index of the artworks; None: no find page
    find_index: CompactIndex | None = field(default=None, metadata=DERIVED)
    #: the map's point order, its arrangements and their named groups
    map: MapArrangement | None = field(default=None, metadata=DERIVED)
    #: the map's picture sheets, finished files to copy
    atlas: AtlasSheets | None = field(default=None, metadata=DERIVED)
    #: the map's items and their facets' labels and orders (``site.mapdata.map_items``), as the map was made from
    map_items: tuple | None = field(default=None, metadata=DERIVED)


@dataclass(frozen=True)
class Group:
    """One country, year or age group of a collection view, with its drawings in site order."""

    facet: str
    key: str
    label: str
    members: tuple[Drawing, ...]

    @property
    def url(self) -> str:
        return collection_url(self.facet, self.key)

    def entry(self) -> dict:
        return {"key": self.key, "label": self.label, "count": len(self.members), "url": self.url}


def _csp(image_base: str | None) -> str:
    img = "'self' data:"
    if image_base:
        img += " " + image_base + "/"
    # Scripts, styles and fetches fall under default-src 'self': naming them again would add 60 bytes to each
    # of 100,000 pages and change nothing.
    return f"default-src 'self'; img-src {img}; object-src 'none'; base-uri 'none'; form-action 'none'"


@dataclass(frozen=True)
class SiteContext:
    """The site data and the lookups every page writer shares; built once by :meth:`build`, never changed."""

    site: SiteData
    image_base: str | None      # --image-base-url without its trailing slash
    site_base: str | None       # --site-url ending in '/' (link previews, IIIF), or None
    csp: str                    # every page's Content-Security-Policy
    d_index: dict[str, int]     # item id -> row
    a_index: dict[str, int]
    a_by_id: dict[str, Artwork]
    confirmed_by_drawing: dict[str, tuple[str, ...]]
    confirmed_by_artwork: dict[str, tuple[str, ...]]
    d_cards: tuple[dict, ...]   # what a grid or list shows of each item, in row order
    a_cards: tuple[dict, ...]
    collections: dict[str, tuple[Group, ...]]  # facet -> its groups, in menu order
    group_views: tuple = ()     # the groups of similar drawings as the pages show them (site/groups.py)
    series: tuple = ()          # the drawing rows of each series of near-identical drawings

    @classmethod
    def build(cls, site: SiteData) -> SiteContext:
        s = site
        image_base = check_image_base_url(s.settings.image_base_url) if s.settings.image_base_url else None
        by_drawing: dict[str, list[str]] = defaultdict(list)
        by_artwork: dict[str, list[str]] = defaultdict(list)
        for d_id, a_id in s.pairs:
            by_drawing[d_id].append(a_id)
            by_artwork[a_id].append(d_id)
        label_of: dict[tuple[str, str], str] = {}

        def label(facet: str, key: str) -> str:
            if (facet, key) not in label_of:
                label_of[facet, key] = labels.facet_label(s.countries, facet, key)
            return label_of[facet, key]
        return cls(
            site=s, image_base=image_base, site_base=site_base(s.settings.site_url), csp=_csp(image_base),
            d_index={d.id: i for i, d in enumerate(s.drawings)}, a_index={a.id: j for j, a in enumerate(s.artworks)},
            a_by_id={a.id: a for a in s.artworks},
            confirmed_by_drawing={k: tuple(v) for k, v in by_drawing.items()},
            confirmed_by_artwork={k: tuple(v) for k, v in by_artwork.items()},
            d_cards=tuple(_drawing_card(s, d, label)
                          for d, label in zip(s.drawings, labels.drawing_labels(s.countries, s.drawings))),
            a_cards=tuple(_artwork_card(s, a) for a in s.artworks),
            collections={f: _groups(s, f, label) for f in FACETS},
            group_views=group_views(s, lambda code: labels.country_name(s.countries, code)),
            series=series_lists(s))

    # -------------------------------------------------------- words
    def country_name(self, code: str | None) -> str:
        return labels.country_name(self.site.countries, code)

    def facet_label(self, facet: str, key: str) -> str:
        return labels.facet_label(self.site.countries, facet, key)

    def facets_of(self, d: Drawing) -> list[tuple[str, str, str]]:
        """(view title, group label, group page) of each collection view ``d`` belongs to."""
        out = []
        for facet in FACETS:
            title = labels.facet_title(facet)
            key = labels.facet_key(d, facet)
            out.append((title, self.facet_label(facet, key), collection_url(facet, key)))
        return out

    # -------------------------------------------------------- pictures
    def has_pictures(self, item_id: str) -> bool:
        return item_id in self.site.pictures

    def display_picture(self, kind: str, item_id: str) -> str | None:
        """The display picture's address, or None when it could not be made (the page shows no picture)."""
        return display_src(self.image_base, kind, item_id) if self.has_pictures(item_id) else None

    def drawing_card(self, d: Drawing) -> dict:
        return self.d_cards[self.d_index[d.id]]

    def pages_of(self, group: Group) -> int:
        return max(1, math.ceil(len(group.members) / max(1, self.site.settings.page_size)))


def _thumb(site: SiteData, kind: str, item_id: str) -> str | None:
    return thumb_url(kind, item_id) if item_id in site.pictures else None


def _drawing_card(site: SiteData, d: Drawing, label: str) -> dict:
    return {"id": d.id, "url": drawing_url(d.id), "thumb": _thumb(site, "drawings", d.id), "label": label,
            "country": labels.country_name(site.countries, d.country), "year": d.year, "age_group": d.age_group}


def _artwork_card(site: SiteData, a: Artwork) -> dict:
    return {"id": a.id, "url": artwork_url(a.id), "thumb": _thumb(site, "artworks", a.id), "title": a.title,
            "artist": labels.artist_name(a.artist), "year": a.year or ""}


def _groups(site: SiteData, facet: str, label) -> tuple[Group, ...]:
    members: dict[str, list[Drawing]] = defaultdict(list)
    for d in site.drawings:
        members[labels.facet_key(d, facet)].append(d)
    keys = set(members)
    tail = [UNKNOWN] if UNKNOWN in keys else []
    if facet == "ages":
        order = [k for k in [g.lower() for g in AGE_GROUPS] + [UNKNOWN] if k in keys]
    elif facet == "countries":
        order = sorted((k for k in keys if k != UNKNOWN),
                       key=lambda k: i18n.collate(labels.country_name(site.countries, k).lower())) + tail
    else:
        order = sorted(k for k in keys if k != UNKNOWN) + tail
    return tuple(Group(facet, k, label(facet, k), tuple(members[k])) for k in order)
