"""The page writers and the one list that orders them.

Each writer is ``write_x(ctx, out)``: it reads the read-only :class:`SiteContext`
and writes pages and data files through :class:`SiteOutput`. :data:`PAGES` is the
order they run in; the pipeline calls :func:`render_site` once per build.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
import functools
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from generator.forks import beside, can_fork, usable_cores
from generator.fsutil import write_atomic
from generator.inputs.collection import AGE_GROUP_LABELS, Problem
from generator.site.extras import write_site_extras
from generator import i18n
from generator.site import datapackage, labels, scripts
from generator.site.context import SiteContext, SiteData
from generator.site.discoveries import write_discoveries
from generator.site.findpage import write_find_page
from generator.site.groups import drawing_links, write_groups, year_extras
from generator.site.images import write_pictures
from generator.site.iiif import write_iiif
from generator.i18n import gettext as _
from generator.site.labels import FACETS
from generator.site.linkmeta import artwork_meta, drawing_meta
from generator.site.mapdata import write_site_map
from generator.site.modelpage import write_model_page
from generator.site.output import PreviousSite, SiteOutput, asset_dir, context_bytes
from generator.site.related import write_related
from generator.site.search import write_search
from generator.site.stats import write_stats
from generator.site.urls import (artwork_url, collection_url, drawing_url, facet_index_url, pager_numbers, site_base,
                                 site_nav)
from generator.site.worldmap import world_map


def write_static(ctx: SiteContext, out: SiteOutput) -> None:
    static = asset_dir("static")
    shutil.copytree(static, out.root / "static",
                    ignore=shutil.ignore_patterns("__init__.py", "__pycache__", "vendor", *scripts.SOURCES))
    for name, text in scripts.joined_scripts(static, i18n.script_messages).items():   # each with the shared core (see scripts.py)
        write_atomic(out.root / "static" / name, text)
    write_atomic(out.root / ".nojekyll", b"")


# ---------------------------------------------------------------- one page per item

def write_drawing_pages(ctx: SiteContext, out: SiteOutput) -> None:
    with out.deferred():   # keys here, the pages to render rendered side by side when there are many
        _drawing_pages(ctx, out, _drawing_pages_shared(ctx))
    write_related(ctx, out.root)   # the lists under each drawing, drawn by static/related.js


def _drawing_pages_shared(ctx: SiteContext) -> bytes:
    """What every drawing page may show besides the drawing's own inputs (see :func:`_drawing_inputs`): the
    artworks (their cards, records and which have pictures), the country names, the site's addresses."""
    s = ctx.site
    return hashlib.blake2b(context_bytes((
        ctx.a_cards, s.artworks, [a.id in s.pictures for a in s.artworks], s.countries, i18n.active().code,
        ctx.image_base, ctx.site_base)), digest_size=16).digest()


def _drawing_inputs(ctx: SiteContext, i: int, found: list[int], sims: list[float], shared: bytes) -> tuple:
    """Everything the page of drawing ``i`` is made from (:func:`_drawing_context` reads nothing else of the
    drawings): its record and card (which says whether it has pictures), its nearest artworks, its confirmed
    artworks, its group and series, and ``shared``. Its page is rendered again only when one of them changed."""
    d = ctx.site.drawings[i]
    return (shared, d, ctx.d_cards[i], found, sims, ctx.confirmed_by_drawing.get(d.id, ()), drawing_links(ctx, i))


def _drawing_context(ctx: SiteContext, inputs: tuple) -> dict:
    _shared, d, card, found, sims, confirmed, links = inputs
    a_cards = ctx.a_cards
    confirmed = set(confirmed)
    matches = []
    for rank, (j, sim) in enumerate(zip(found, sims), start=1):
        a = a_cards[j]
        matches.append({**a, "rank": rank, "similarity": sim, "confirmed": a["id"] in confirmed})
    confirmed_ids = sorted(confirmed)
    confirmed_cards = [a_cards[ctx.a_index[a]] for a in confirmed_ids]
    return dict(d=d, card=card, image=ctx.display_picture("drawings", d.id), image_external=bool(ctx.image_base),
                featured=_featured_artwork(ctx, matches, confirmed_cards),
                confirmed=confirmed_cards, facets=ctx.facets_of(d), age_label=AGE_GROUP_LABELS.get(d.age_group or "", ""),
                title=card["label"], **links,
                meta=drawing_meta(ctx, d, card["label"], [ctx.a_by_id[a] for a in confirmed_ids]))


def _drawing_pages(ctx: SiteContext, out: SiteOutput, shared: bytes) -> None:
    nb = ctx.site.neighbours
    for i, (found, sims) in enumerate(zip(nb.artworks_index.tolist(), nb.artworks_similarity.tolist())):
        inputs = _drawing_inputs(ctx, i, found, sims, shared)
        out.page_from("drawing.html", drawing_url(inputs[1].id), inputs,
                      functools.partial(_drawing_context, ctx, inputs))


def _featured_artwork(ctx: SiteContext, matches: list[dict], confirmed: list[dict]) -> dict | None:
    """The artwork shown beside the drawing: its first confirmed artwork, else the model's best suggestion.

    Carries its display picture and, when the model ranks it, its rank and similarity."""
    if confirmed:
        ranked = next((m for m in matches if m["id"] == confirmed[0]["id"]), None)
        card = ranked or {**confirmed[0], "rank": None, "similarity": None, "confirmed": True}
    elif matches:
        card = matches[0]
    else:
        return None
    return {**card, "image": ctx.display_picture("artworks", card["id"])}


def write_artwork_pages(ctx: SiteContext, out: SiteOutput) -> None:
    with out.deferred():
        _artwork_pages(ctx, out)


def _artwork_pages(ctx: SiteContext, out: SiteOutput) -> None:
    s, nb = ctx.site, ctx.site.neighbours
    for j, (found, sims) in enumerate(zip(nb.of_artwork_index.tolist(), nb.of_artwork_similarity.tolist())):
        a = s.artworks[j]
        closest = [{**ctx.d_cards[i], "similarity": sim} for i, sim in zip(found, sims)]
        echoes = [ctx.d_cards[ctx.d_index[d]] for d in sorted(ctx.confirmed_by_artwork.get(a.id, ()))]
        info = s.artists.get(a.artist or "", {})
        out.page("artwork.html", artwork_url(a.id), a=a, card=ctx.a_cards[j],
                 image=ctx.display_picture("artworks", a.id), image_external=bool(ctx.image_base),
                 closest=closest, echoes=echoes,
                 reviewed=any(s.pair_sources.get((e["id"], a.id)) == "review" for e in echoes),
                 artist_info={k: v for k, v in sorted(info.items()) if k in ("years", "nationality", "genre")},
                 title=a.title, meta=artwork_meta(ctx, a, len(echoes), info.get("nationality")))


# ---------------------------------------------------------------- countries, years, age groups

def write_collections(ctx: SiteContext, out: SiteOutput) -> None:
    with out.deferred():   # thousands of pages: rendered side by side when there are many
        _write_collections(ctx, out)


def _write_collections(ctx: SiteContext, out: SiteOutput) -> None:
    size = max(1, ctx.site.settings.page_size)
    for facet in FACETS:
        facet_title = labels.facet_title(facet)
        named = labels.drawing_labels(ctx.site.countries, ctx.site.drawings, facet)   # in the site's order
        groups = ctx.collections[facet]
        entries = [g.entry() for g in groups]
        out.page("facet_index.html", facet_index_url(facet), facet=facet, facet_title=facet_title,
                 entries=entries, title=facet_title,
                 world=world_map(entries, ctx.site.countries) if facet == "countries" else None)
        for g in groups:
            pages = ctx.pages_of(g)
            for p in range(1, pages + 1):
                chunk = g.members[(p - 1) * size:p * size]
                pager = [{"n": n, "url": collection_url(facet, g.key, n) if n else None, "current": n == p}
                         for n in pager_numbers(p, pages)]
                extras = year_extras(ctx, g.key) if facet == "years" and p == 1 else {"theme": None, "typical": []}
                out.page("collection.html", collection_url(facet, g.key, p), facet=facet, facet_title=facet_title,
                         **extras,
                         label=g.label, items=[{**ctx.d_cards[i], "label": named[i]}
                                               for i in (ctx.d_index[d.id] for d in chunk)],
                         total=len(g.members), page=p, pages=pages, pager=pager,
                         prev_url=collection_url(facet, g.key, p - 1) if p > 1 else None,
                         next_url=collection_url(facet, g.key, p + 1) if p < pages else None,
                         title=_("%(view)s: %(group)s") % {"view": facet_title, "group": g.label})


# ---------------------------------------------------------------- the map

def write_map(ctx: SiteContext, out: SiteOutput) -> None:
    s = ctx.site
    # the map page loads compact chunks from data/map/ (see mapdata.py)
    files = write_site_map(ctx, out)
    out.page("map.html", "map/index.html", title=_("Map"), method=s.layout_method, layout_sample=s.layout_sample,
             n_drawings=len(s.drawings), n_artworks=len(s.artworks),
             map_facets=files.facets, map_count=files.count, map_layouts=files.layouts, map_tiled=files.tiled)


# ---------------------------------------------------------------- data files and home

def write_data(ctx: SiteContext, out: SiteOutput) -> None:
    """The main data files; their data page is written with the download (see datapackage)."""
    s = ctx.site
    # The tables with a row per drawing or artwork (drawings, artworks, neighbours, layout) are published as CSV
    # only (see datapackage.per_drawing_payloads): JSON copies would add megabytes for nothing the site reads.
    out.write_json("data/pairs.json", {"columns": ["drawing", "artwork", "source"],
                                       "rows": [[*p, s.pair_sources.get(p, "archive")] for p in s.pairs]})
    out.write_json("data/rejected.json", {"columns": ["drawing", "artwork"], "rows": [list(p) for p in s.rejected]})


def write_home(ctx: SiteContext, out: SiteOutput) -> None:
    s = ctx.site
    years = [d.year for d in s.drawings if d.year]
    out.page("home.html", "index.html", title=_("Home"), n_drawings=len(s.drawings), n_artworks=len(s.artworks),
             n_pairs=len(s.pairs), n_countries=len({d.country for d in s.drawings if d.country}),
             year_range=(min(years), max(years)) if years else None,
             facets=[(labels.facet_title(f), facet_index_url(f), [g.entry() for g in ctx.collections[f]]) for f in FACETS],
             samples=[ctx.drawing_card(d) for d in s.drawings[:: max(1, len(s.drawings) // 12)][:12]],
             model_name=s.model_name, model_source=s.model_source)


#: Every writer, in the order they run. The data download and the site extras come last:
#: they list every page and data file written before them.
PAGES = (
    write_static,
    write_pictures,
    write_drawing_pages,
    write_artwork_pages,
    write_collections,
    write_groups,
    write_discoveries,
    write_map,
    write_stats,
    write_search,
    write_data,
    datapackage.write_data_tables,   # in this process: it hands its tables' schemas to the data download
    write_iiif,
    write_model_page,
    write_find_page,
    write_home,
    datapackage.write_data_download,
    write_site_extras,
)

#: Writers run in a forked process while the others run, when the site is updated in place (a few pages to
#: render, the rest of each writer's time is its own Python work): none reads what another writes, they are
#: every writer that reads the computed fields (made in that process then: the map's arrangement and picture
#: sheets, the discoveries, the model's figures, the find page's index), and with the collections', the groups' and
#: the search's pages they take about half of the time at 100,000 drawings. The writers after them wait for them.
BESIDE = (write_collections, write_groups, write_discoveries, write_map, write_search, write_model_page,
          write_find_page)


@dataclass(frozen=True)
class RenderResult:
    pages: list[str]            # every page written, in order
    page_keys: dict[str, str]   # page -> key, for the next build's reuse
    reused: int                 # pages linked unchanged from the previous site
    problems: list[Problem]     # what could not be shown as it should (for the build report)
    kept: list[str] = dataclasses.field(default_factory=list)   # files left as they were (updated in place)


def render_site(site: SiteData, out: Path, *, salt: str = "", previous: PreviousSite | None = None,
                prepare=None) -> RenderResult:
    """Write the whole site into ``out`` (a fresh staging folder): in its language, or in each of its languages
    (``--languages``: the first at the top, the others in folders named by their codes). ``prepare`` (the
    pipeline's computed fields) is applied to the site data in each language before the pages that read them are
    written."""
    codes = site_languages(site.settings.language, site.settings.languages)
    results = []
    for code in codes:
        i18n.activate(code)
        folder = "" if code == codes[0] else f"{code}/"
        versions = tuple((other, i18n.language_name(other), _between(folder, "" if other == codes[0] else f"{other}/"))
                         for other in codes if other != code)
        here = site
        if folder and site.settings.site_url:   # the language's pages have their own public addresses
            here = dataclasses.replace(site, settings=dataclasses.replace(
                site.settings, site_url=site.settings.site_url.rstrip("/") + "/" + folder))
        top = site_base(site.settings.site_url)
        addresses = (tuple((c, top + ("" if c == codes[0] else f"{c}/")) for c in codes)
                     if top and len(codes) > 1 else ())
        results.append(_render_language(here, code, Path(out) / folder, salt if len(codes) == 1 else f"{salt}|{code}",
                                        _within(previous, folder), versions, folder, addresses, prepare))
        results[-1] = RenderResult([folder + p for p in results[-1].pages],
                                   {folder + p: k for p, k in results[-1].page_keys.items()},
                                   results[-1].reused, results[-1].problems, [folder + p for p in results[-1].kept])
    i18n.activate(codes[0])
    first = results[0]
    return RenderResult([p for r in results for p in r.pages], {p: k for r in results for p, k in r.page_keys.items()},
                        sum(r.reused for r in results), first.problems, [p for r in results for p in r.kept])


def site_languages(language: str, languages: str | None) -> list[str]:
    """The site's languages, the one at its top first.

    >>> site_languages("en", None), site_languages("en", "fr,en,fr")
    (['en'], ['fr', 'en'])
    """
    return list(dict.fromkeys(languages.split(","))) if languages else [language]


def _between(here: str, there: str) -> str:
    """The folder of one language's site seen from another's ("" is the top of the site).

    >>> _between("", "fr/"), _between("fr/", ""), _between("fr/", "de/")
    ('fr/', '../', '../de/')
    """
    return "../" * here.count("/") + there


def _within(previous: PreviousSite | None, folder: str) -> PreviousSite | None:
    """What the previous build left in ``folder`` (a language's site), for its pages to be reused."""
    if previous is None or not folder:
        return previous
    n = len(folder)
    return PreviousSite(previous.folder / folder, {p[n:]: k for p, k in previous.pages.items() if p.startswith(folder)},
                        {f[n:]: v for f, v in previous.files.items() if f.startswith(folder)}, previous.in_place)


def _render_language(site: SiteData, code: str, out: Path, salt: str, previous: PreviousSite | None,
                     versions: tuple, out_folder: str = "", addresses: tuple = (), prepare=None) -> RenderResult:
    i18n.activate(code)   # before anything is labelled: the context's labels follow it
    side = BESIDE if previous is not None and previous.in_place and usable_cores() > 1 and can_fork() else ()
    derived = None
    if side and prepare is not None:
        # The computed fields are made in the forked process, for the writers there that read them (see BESIDE).
        derived, prepare = prepare, None
    ctx = SiteContext.build(prepare(site) if prepare else site)
    Path(out).mkdir(parents=True, exist_ok=True)
    output = SiteOutput(out, title=i18n.gettext(site.settings.title), csp=ctx.csp, salt=salt,
                        previous=previous, versions=versions, shared=_between(str(out_folder), ""),
                        addresses=addresses)
    output.env.globals["find_page"] = site.browser_model is not None  # the header links to it
    output.env.globals["nav"] = site_nav(site.browser_model is not None)
    run_writers(PAGES, ctx, output, side,
                (lambda: dataclasses.replace(ctx, site=derived(ctx.site))) if derived is not None else None)
    return RenderResult(output.pages, output.page_keys, output.reused, output.problems, output.kept)


def run_writers(writers: tuple, ctx: SiteContext, out: SiteOutput, side: tuple = (),
                side_context: Callable[[], SiteContext] | None = None) -> None:
    """Each writer of ``writers`` in turn, those of ``side`` in a forked process meanwhile (the other processor
    core's work while this one writes the rest); what they wrote is then taken in as if they had run in their turn
    (the same pages, keys and problems, in the same order). The writers after the last of ``side`` start once it
    is done: they list what was written before them. ``side_context``: the context of the writers of ``side``,
    made in the forked process (the computed fields only they read), else ``ctx``."""
    side = tuple(w for w in writers if w in side)
    if not side:
        for write in writers:
            write(ctx, out)
        return
    last = max(writers.index(w) for w in side)
    wait = beside(lambda: _side_lane(side, side_context() if side_context else ctx, out))
    done: dict = {}
    try:
        for write in writers[:last + 1]:
            if write not in side:
                done[write] = out.apart(lambda: write(ctx, out))
    finally:
        done.update(zip(side, wait()))
    for write in writers[:last + 1]:   # in their turn
        out.add(done[write])
    for write in writers[last + 1:]:
        write(ctx, out)


def _side_lane(side: tuple, ctx: SiteContext, out: SiteOutput) -> list[tuple]:
    return [out.apart(lambda: write(ctx, out)) for write in side]
