"""The stage between the map and the pages: what the pages show that has to be computed.

Each function takes the site data the earlier stages made and returns one typed result
(:mod:`generator.contracts`), which :func:`derive` puts into its field of :class:`SiteData`:

* the discoveries' candidates, scored and ranked (``ml/discover.py``);
* the model page's figures on the confirmed pairs, leaving out those a fine-tuned model learned from
  (``ml/evaluate.py``);
* the find page's compact index of the artworks (``ml/findindex.py``);
* the map's point order and tiles, its other arrangements and their named groups (``ml/maplayouts.py``), and
  its picture sheets (and, for a very large map, its picture tiles), made in the build cache
  (``pipeline/atlas.py``, ``pipeline/maptiles.py``).

The pages then only write these out. The results are functions of the other fields and of the code, so
the page fingerprint leaves them out and they are computed only when pages are rendered.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from generator.contracts import (PAGE_SCORE, CompactIndex, ConfirmedPairFigures, Discoveries, MapArrangement)
from generator.ml.discover import eligible_drawings, score_candidates
from generator.ml.evaluate import held_out_pairs, learned_pairs, retrieval_metrics_from_embeddings
from generator.ml.findindex import compact_index
from generator.ml.maplayouts import alternative_layouts, morton_codes, morton_order, quadtree_tiles, quantise
from generator.pipeline.atlas import TILED_FROM, make_atlas
from generator.site.context import SiteData
from generator.site.mapdata import NONE_VALUE, MapItem, map_items

#: Picture sheets of the map decoded side by side.
ATLAS_WORKERS = 2


def score_discoveries(site: SiteData, score: str = PAGE_SCORE) -> Discoveries:
    """The suggestions of the drawings without a confirmed artwork, best first, as many as the setting allows,
    and the number of those drawings."""
    confirmed = {d for d, _ in site.pairs}
    eligible = eligible_drawings([d.id for d in site.drawings], confirmed)
    c = score_candidates(site.neighbours, eligible, score)
    return Discoveries(c.take(slice(0, site.settings.discoveries)), len(eligible), score)


def confirmed_pair_figures(site: SiteData, checkpoint: dict | None) -> ConfirmedPairFigures | None:
    """The figures of the model page on the site's confirmed pairs, leaving out every pair a fine-tuned
    model learned from (see ``held_out_pairs`` in ``ml/evaluate.py``)."""
    s = site
    unreadable = s.pairs_unreadable
    if not s.embeddings or not (s.pairs or unreadable):
        return None
    d_row = {d.id: i for i, d in enumerate(s.drawings)}
    a_row = {a.id: j for j, a in enumerate(s.artworks)}
    pairs = [(d_row[d], a_row[a]) for d, a in s.pairs]
    kept, learned_from = pairs, 0
    if checkpoint is not None and checkpoint.get("split"):
        kept, learned_from = held_out_pairs(learned_pairs(checkpoint), [d.rel for d in s.drawings],
                                            [a.rel for a in s.artworks], pairs)
    metrics = None
    if kept:
        rel: dict[int, set[int]] = {}
        for d, a in kept:
            rel.setdefault(d, set()).add(a)
        q = sorted(rel)
        dv = s.embeddings.drawings.vectors
        av = s.embeddings.artworks.vectors
        metrics = retrieval_metrics_from_embeddings(dv[q], av, [rel[i] for i in q]).as_dict()
    return ConfirmedPairFigures(metrics, len(pairs) + unreadable, len(kept), learned_from, unreadable)


def find_index(site: SiteData) -> CompactIndex | None:
    """The artworks' compact index the find page downloads; None when there is no find page."""
    if site.browser_model is None or site.embeddings is None:
        return None
    return compact_index(site.embeddings.artworks.vectors, site.embeddings.drawings.vectors)


def arrange_map(items: list[MapItem], country_names: dict[str, str]) -> MapArrangement:
    """The map's points along a Z-order curve, quantised and cut into the tiles of a quadtree, with every
    arrangement the page offers.

    The quantisation is a fixed function of the layout's coordinates (already in [-1, 1]; an incremental
    layout keeps the earlier points' coordinates), so new points leave the earlier points' tiles alone."""
    order, qx, qy, tiles = _points_in_tiles(items)
    layouts = alternative_layouts([items[i] for i in order], qx, qy, NONE_VALUE, country_names)
    return MapArrangement(order, qx, qy, tuple(layouts), tiles)


def _points_in_tiles(items: list[MapItem]) -> tuple:
    """The items' order along the curve, their quantised coordinates in that order and the tiles."""
    qx = quantise(np.array([it.x for it in items], np.float64))
    qy = quantise(np.array([it.y for it in items], np.float64))
    order = morton_order(qx, qy, [f"{it.kind}:{it.id}" for it in items])
    qx, qy = qx[order], qy[order]
    return order, qx, qy, quadtree_tiles(morton_codes(qx, qy))


def map_stage(items: list[MapItem], country_names: dict[str, str], cache_dir: Path,
              workers: int = ATLAS_WORKERS, tiled_from: int = TILED_FROM):
    """(the arrangement, the picture sheets) of the map's ``items``; the sheets are made in ``cache_dir``, and
    from ``tiled_from`` items on the map's picture tiles too."""
    arrangement = arrange_map(items, country_names)
    return arrangement, _sheets(items, arrangement.order, arrangement.x, arrangement.y, arrangement.tiles, cache_dir,
                                workers, tiled_from)


def _sheets(items: list[MapItem], order, qx, qy, tiles, cache_dir: Path, workers: int = ATLAS_WORKERS,
            tiled_from: int = TILED_FROM):
    """The picture sheets (and tiles) of the items in the map's point order."""
    return make_atlas([items[i].thumb for i in order], tiles, Path(cache_dir), workers, qx, qy, tiled_from)


def make_map_pictures(drawings, artworks, pairs, countries, coords, pictures, cache_dir: Path) -> None:
    """The map's picture sheets (and tiles) of these items made in the build cache, as :func:`derive` makes them
    from the site data (the same items, the same keys). A rebuild that adds a few items makes them while the groups
    are computed in a forked process, so that the pages' stage finds them made."""
    items, _ = map_items(SimpleNamespace(drawings=drawings, artworks=artworks, pairs=pairs, countries=countries,
                                         coords=coords, pictures=pictures))
    _sheets(items, *_points_in_tiles(items), cache_dir)   # what the sheets follow, not the other arrangements


def derive(site: SiteData) -> SiteData:
    """``site`` with every computed field filled in."""
    items, extra = map_items(site)
    arrangement, sheets = map_stage(items, extra["labels"]["country"], Path(site.settings.cache))
    return dataclasses.replace(site, discoveries=score_discoveries(site),
                               model_figures=confirmed_pair_figures(site, site.checkpoint),
                               find_index=find_index(site), map=arrangement, atlas=sheets, map_items=(items, extra))
