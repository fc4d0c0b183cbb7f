"""Rendering: page contexts, Jinja2 templates, JSON data files and static assets.

Templates escape everything (autoescape on, StrictUndefined), so titles and
names from CSV files are always shown as text. All links are relative: every
page knows its depth and prefixes ``root`` to site paths, so the site works from
a sub-folder of a web server and straight from the disk (``file://``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from generator.inputs.collection import AGE_GROUP_LABELS, AGE_GROUPS, Artwork, Drawing
from generator.build.config import BuildSettings
from generator.inputs.countries import CountryTable
from generator.build.fsutil import write_atomic

SCHEMA_VERSION = 1
UNKNOWN = "unknown"


def asset_dir(name: str) -> Path:
    """The folder of templates or static files, installed (package data) or in a source checkout."""
    try:
        found = resources.files(f"generator.{name}")
        path = Path(str(found))
        if path.is_dir() and any(path.iterdir()):
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parents[2] / name


# ---------------------------------------------------------------- site data

@dataclass
class SiteData:
    settings: BuildSettings
    drawings: list[Drawing]
    artworks: list[Artwork]
    pairs: list[tuple[str, str]]
    countries: CountryTable
    artists: dict
    neighbours: dict[str, np.ndarray]
    coords: np.ndarray
    layout_method: str
    derivatives: dict[str, tuple[Path, Path]]
    model_source: str
    model_name: str
    extra_pages: dict = field(default_factory=dict)
    embeddings: dict | None = None  # {"drawings": Embedded, "artworks": Embedded}, for the data download
    pairs_unreadable: int = 0  # confirmed pairs left out of ``pairs``: a picture of theirs could not be read
    # Incremental rendering: the previous site, the key of each of its pages, and what every key
    # shares (code, templates, settings). A page whose key is unchanged is linked, not rendered.
    previous_site: Path | None = None
    previous_pages: dict = field(default_factory=dict)    # page path -> key
    previous_files: dict = field(default_factory=dict)    # file path -> [size, mtime_ns, ...]
    render_salt: str = ""


def drawing_url(d_id: str) -> str:
    return f"drawings/{d_id}/index.html"


def artwork_url(a_id: str) -> str:
    return f"artworks/{a_id}/index.html"


def thumb_url(kind: str, item_id: str) -> str:
    return f"images/{kind}/{item_id}.thumb.webp"


def image_url(kind: str, item_id: str) -> str:
    return f"images/{kind}/{item_id}.webp"


#: Marks a folder of display pictures written for --image-base-url, so a rebuild may replace it.
IMAGES_MARKER = ".sitegen-images"


def display_images_dir(out: Path) -> Path:
    """Where the display pictures go with --image-base-url: a folder next to the site, ``<out>-images``."""
    out = Path(out)
    return out.parent / f"{out.name}-images"


def check_image_base_url(url: str) -> str:
    """The address without its trailing slash; refuses anything but a plain http(s) address.

    It goes into every page's Content-Security-Policy, so quotes, spaces, ';' or ',' could
    add policy directives.

    >>> check_image_base_url("https://cdn.example.org/archive/")
    'https://cdn.example.org/archive'
    """
    from urllib.parse import urlsplit

    from generator.errors import ConfigError

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment or \
            any(c.isspace() or c in "'\";,<>\\?#" for c in url):
        raise ConfigError(f"--image-base-url {url!r} is not a plain http(s) address. Give one like "
                          "https://pictures.example.org/archive (no quotes, spaces, ';', ',', '?' or '#').")
    return url.rstrip("/")


def collection_url(facet: str, key: str, page: int = 1) -> str:
    return f"{facet}/{key}/index.html" if page == 1 else f"{facet}/{key}/page-{page}/index.html"


def facet_key_drawing(d: Drawing, facet: str) -> str:
    if facet == "countries":
        return d.country or UNKNOWN
    if facet == "years":
        return str(d.year) if d.year else UNKNOWN
    return (d.age_group.lower() if d.age_group else UNKNOWN)


FACETS = {
    "countries": "Countries",
    "years": "Years",
    "ages": "Age groups",
}


class Renderer:
    def __init__(self, site: SiteData, out: Path):
        self.site = site
        self.out = out
        self.env = Environment(loader=FileSystemLoader(str(asset_dir("templates"))),
                               autoescape=select_autoescape(default=True, default_for_string=True),
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                               keep_trailing_newline=True, auto_reload=False)
        self.env.filters["sim"] = lambda v: f"{float(v):.3f}"
        self.env.filters["json_script"] = json_for_script
        self.pages: list[str] = []
        self.page_keys: dict[str, str] = {}
        self.reused = 0
        self._csp = None
        self._card_lists: tuple[list[dict], list[dict]] | None = None
        self._facet_labels: dict[tuple[str, str], str] = {}
        s = site
        self.d_index = {d.id: i for i, d in enumerate(s.drawings)}
        self.a_index = {a.id: j for j, a in enumerate(s.artworks)}
        # --image-base-url: display pictures are served from there, not from the site.
        self.image_base = check_image_base_url(s.settings.image_base_url) if s.settings.image_base_url else None
        self.d_by_id = {d.id: d for d in s.drawings}
        self.a_by_id = {a.id: a for a in s.artworks}
        self.confirmed_by_drawing: dict[str, list[str]] = defaultdict(list)
        self.confirmed_by_artwork: dict[str, list[str]] = defaultdict(list)
        for d_id, a_id in s.pairs:
            self.confirmed_by_drawing[d_id].append(a_id)
            self.confirmed_by_artwork[a_id].append(d_id)

    # -------------------------------------------------------- helpers
    def country_name(self, code: str | None) -> str:
        if not code or code == UNKNOWN:
            return "Unknown country"
        return self.site.countries.name(code)

    def facet_label(self, facet: str, key: str) -> str:
        if key == UNKNOWN:
            return {"countries": "Unknown country", "years": "Unknown year", "ages": "Unknown age group"}[facet]
        if facet == "countries":
            return self.country_name(key)
        if facet == "ages":
            group = key.upper() if key == "ms" else key
            return f"{group} ({AGE_GROUP_LABELS.get(group, group)})"
        return key

    def drawing_card(self, d: Drawing) -> dict:
        return {"id": d.id, "url": drawing_url(d.id), "thumb": thumb_url("drawings", d.id),
                "label": self.drawing_label(d), "country": self.country_name(d.country),
                "year": d.year, "age_group": d.age_group}

    def drawing_label(self, d: Drawing) -> str:
        if d.name is None:
            return f"Drawing {Path(d.rel).stem}"
        return f"Drawing {d.name.number}, {self.country_name(d.country)}, {d.year}"

    def artwork_card(self, a: Artwork) -> dict:
        return {"id": a.id, "url": artwork_url(a.id), "thumb": thumb_url("artworks", a.id), "title": a.title,
                "artist": a.artist or "Unknown artist", "year": a.year or ""}

    def display_src(self, kind: str, item_id: str) -> str:
        """The display picture's address: site-relative, or absolute under --image-base-url."""
        rel = image_url(kind, item_id)
        return f"{self.image_base}/{rel}" if self.image_base else rel

    def page(self, template: str, rel_path: str, **ctx) -> None:
        key = self._page_key(template, rel_path, ctx)
        self.pages.append(rel_path)
        self.page_keys[rel_path] = key
        path = self.out / rel_path
        path.parent.mkdir(parents=True, exist_ok=True)
        if self._reuse(rel_path, key, path):
            return
        depth = rel_path.count("/")
        root = "../" * depth
        html = self.env.get_template(template).render(root=root, site_title=self.site.settings.title,
                                                      page_path=rel_path, csp=self._csp or self.csp(), **ctx)
        # The staging folder is swapped in as a whole, so a plain write is safe here.
        path.write_bytes(html.encode("utf-8"))

    def _page_key(self, template: str, rel_path: str, ctx: dict) -> str:
        """What a page's bytes depend on: its template and context, and what all pages share."""
        text = json.dumps(ctx, sort_keys=True, default=repr, ensure_ascii=False)
        return hashlib.sha256(f"{self.site.render_salt}|{template}|{rel_path}|{text}".encode()).hexdigest()[:32]

    def _reuse(self, rel_path: str, key: str, dest: Path) -> bool:
        """Link the previous build's page when its key is unchanged and the file is as that build left it."""
        s = self.site
        if s.previous_site is None or s.previous_pages.get(rel_path) != key:
            return False
        old = s.previous_site / rel_path
        recorded = s.previous_files.get(rel_path)
        try:
            st = old.stat()
        except OSError:
            return False
        if not recorded or recorded[0] != st.st_size or recorded[1] != st.st_mtime_ns:
            return False
        try:
            os.link(old, dest)
        except OSError:
            shutil.copy2(old, dest)
        self.reused += 1
        return True

    def csp(self) -> str:
        if self._csp:
            return self._csp
        img = "'self' data:"
        if self.image_base:
            img += " " + self.image_base + "/"
        self._csp = (f"default-src 'self'; img-src {img}; style-src 'self'; script-src 'self'; "
                     "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'")
        return self._csp

    def write_json(self, rel_path: str, payload: dict) -> None:
        payload = {"schema_version": SCHEMA_VERSION, **payload}
        write_atomic(self.out / rel_path, json.dumps(payload, ensure_ascii=False, sort_keys=True,
                                                     separators=(",", ":")) + "\n")

    # -------------------------------------------------------- the site
    def render(self) -> None:
        self.copy_static()
        self.copy_images()
        self.render_drawings()
        self.render_artworks()
        self.render_collections()
        self.render_map()
        self.render_explore()  # statistics and search
        self.render_data()
        from generator.site.modelpage import render_model_page
        render_model_page(self)
        self.render_home()
        # Keep last: they list every page and data file written above
        from generator.publish import web as publish
        from generator.site import datapackage
        datapackage.write_data_download(self)
        publish.write_site_extras(self)

    def copy_static(self) -> None:
        shutil.copytree(asset_dir("static"), self.out / "static",
                        ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
        write_atomic(self.out / ".nojekyll", b"")

    def copy_images(self) -> None:
        s = self.site
        for kind, items in (("drawings", s.drawings), ("artworks", s.artworks)):
            folder = self.out / "images" / kind
            folder.mkdir(parents=True, exist_ok=True)
            for item in items:
                thumb, display = s.derivatives[item.id]
                pictures = [(thumb, folder / f"{item.id}.thumb.webp")]
                if not self.image_base:  # else they go to display_images_dir(), see write_display_images
                    pictures.append((display, folder / f"{item.id}.webp"))
                for src, dest in pictures:
                    if not src.is_file():
                        continue
                    try:
                        os.link(src, dest)
                    except OSError:
                        shutil.copyfile(src, dest)

    # Issue #5 (speed): item pages are rendered from cards made once per item, and, for large
    # collections, by forked worker processes, each writing a contiguous range of pages.
    # Every page depends only on the site data, so the output is the same byte for byte.
    def _cards(self) -> tuple[list[dict], list[dict]]:
        if self._card_lists is None:
            self._card_lists = ([self.drawing_card(d) for d in self.site.drawings],
                                [self.artwork_card(a) for a in self.site.artworks])
        return self._card_lists

    def _facets(self, d: Drawing) -> list[tuple[str, str, str]]:
        out = []
        for f in FACETS:
            key = facet_key_drawing(d, f)
            label = self._facet_labels.get((f, key))
            if label is None:
                label = self._facet_labels[(f, key)] = self.facet_label(f, key)
            out.append((FACETS[f], label, collection_url(f, key)))
        return out

    def render_drawings(self) -> None:
        self._in_workers(self._render_drawing_range, len(self.site.drawings))

    def _render_drawing_range(self, lo: int, hi: int) -> None:
        s = self.site
        nb = s.neighbours
        d_cards, a_cards = self._cards()
        da_i, da_s = nb["da_i"][lo:hi].tolist(), nb["da_s"][lo:hi].tolist()
        dd_i, dd_s = nb["dd_i"][lo:hi].tolist(), nb["dd_s"][lo:hi].tolist()
        external = bool(self.image_base)
        for i in range(lo, hi):
            d = s.drawings[i]
            confirmed = set(self.confirmed_by_drawing.get(d.id, ()))
            matches = []
            for rank, (j, sim) in enumerate(zip(da_i[i - lo], da_s[i - lo]), start=1):
                card = a_cards[j]
                matches.append({**card, "rank": rank, "similarity": sim, "confirmed": card["id"] in confirmed})
            similar = [{**d_cards[j], "similarity": sim} for j, sim in zip(dd_i[i - lo], dd_s[i - lo])]
            self.page("drawing.html", drawing_url(d.id), d=d, card=d_cards[i],
                      image=self.display_src("drawings", d.id), image_external=external, matches=matches,
                      confirmed=[a_cards[self.a_index[a]] for a in sorted(confirmed)],
                      similar=similar, facets=self._facets(d), age_label=AGE_GROUP_LABELS.get(d.age_group or "", ""),
                      title=d_cards[i]["label"])

    def render_artworks(self) -> None:
        self._in_workers(self._render_artwork_range, len(self.site.artworks))

    def _render_artwork_range(self, lo: int, hi: int) -> None:
        s = self.site
        nb = s.neighbours
        d_cards, a_cards = self._cards()
        ad_i, ad_s = nb["ad_i"][lo:hi].tolist(), nb["ad_s"][lo:hi].tolist()
        external = bool(self.image_base)
        for j in range(lo, hi):
            a = s.artworks[j]
            closest = [{**d_cards[i], "similarity": sim} for i, sim in zip(ad_i[j - lo], ad_s[j - lo])]
            echoes = [d_cards[self.d_index[d]] for d in sorted(self.confirmed_by_artwork.get(a.id, ()))]
            info = s.artists.get(a.artist or "", {})
            self.page("artwork.html", artwork_url(a.id), a=a, card=a_cards[j],
                      image=self.display_src("artworks", a.id), image_external=external,
                      closest=closest, echoes=echoes,
                      artist_info={k: v for k, v in sorted(info.items()) if k in ("years", "nationality", "genre")},
                      title=a.title)

    def _in_workers(self, render_range, n: int) -> None:
        """``render_range(lo, hi)`` over ``range(n)``: in this process, or split between forked workers."""
        workers = render_workers()
        if workers < 2 or n < PARALLEL_MIN_PAGES:
            render_range(0, n)
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        global _FORKED
        self._cards()  # made once, before the fork, and shared by the workers
        self.csp()
        step = max(256, -(-n // (workers * 8)))  # several ranges per worker: even finish
        _FORKED = self
        try:
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
                futures = [pool.submit(_forked_range, render_range.__name__, lo, min(n, lo + step))
                           for lo in range(0, n, step)]
                for fut in futures:  # in order, so self.pages lists the pages as a serial run would
                    pages, keys, reused = fut.result()
                    self.pages.extend(pages)
                    self.page_keys.update(keys)
                    self.reused += reused
        finally:
            _FORKED = None

    def facet_groups(self, facet: str) -> dict[str, list[Drawing]]:
        groups: dict[str, list[Drawing]] = defaultdict(list)
        for d in self.site.drawings:
            groups[facet_key_drawing(d, facet)].append(d)
        return groups

    def facet_order(self, facet: str, keys) -> list[str]:
        if facet == "ages":
            order = [g.lower() for g in AGE_GROUPS] + [UNKNOWN]
            return [k for k in order if k in keys]
        if facet == "countries":
            return sorted((k for k in keys if k != UNKNOWN), key=lambda k: self.country_name(k).lower()) + \
                   ([UNKNOWN] if UNKNOWN in keys else [])
        return sorted(k for k in keys if k != UNKNOWN) + ([UNKNOWN] if UNKNOWN in keys else [])

    def render_collections(self) -> None:
        size = max(1, self.site.settings.page_size)
        self.collection_summary = {}
        for facet, facet_title in FACETS.items():
            groups = self.facet_groups(facet)
            keys = self.facet_order(facet, groups)
            entries = [{"key": k, "label": self.facet_label(facet, k), "count": len(groups[k]),
                        "url": collection_url(facet, k)} for k in keys]
            self.collection_summary[facet] = entries
            self.page("facet_index.html", f"{facet}/index.html", facet=facet, facet_title=facet_title,
                      entries=entries, title=facet_title)
            for k in keys:
                members = groups[k]
                pages = max(1, math.ceil(len(members) / size))
                for p in range(1, pages + 1):
                    chunk = members[(p - 1) * size:p * size]
                    pager = [{"n": n, "url": collection_url(facet, k, n), "current": n == p}
                             for n in range(1, pages + 1)]
                    self.page("collection.html", collection_url(facet, k, p), facet=facet, facet_title=facet_title,
                              label=self.facet_label(facet, k),
                              items=[self._cards()[0][self.d_index[d.id]] for d in chunk],
                              total=len(members), page=p, pages=pages, pager=pager,
                              prev_url=collection_url(facet, k, p - 1) if p > 1 else None,
                              next_url=collection_url(facet, k, p + 1) if p < pages else None,
                              title=f"{facet_title}: {self.facet_label(facet, k)}")
                self.write_json(f"data/collections/{facet}-{k}.json", {
                    "facet": facet, "key": k, "label": self.facet_label(facet, k),
                    "count": len(members), "drawings": [d.id for d in members]})

    def map_points(self) -> list[list]:
        s = self.site
        pts = []
        nd = len(s.drawings)
        for i, d in enumerate(s.drawings):
            x, y = s.coords[i]
            pts.append(["d", d.id, round(float(x), 4), round(float(y), 4), self.drawing_label(d)])
        for j, a in enumerate(s.artworks):
            x, y = s.coords[nd + j]
            pts.append(["a", a.id, round(float(x), 4), round(float(y), 4),
                        f"{a.title} ({a.artist or 'Unknown artist'})"])
        return pts

    def render_map(self) -> None:
        pts = self.map_points()
        payload = {"method": self.site.layout_method,
                   "columns": ["kind", "id", "x", "y", "label"], "points": pts}
        self.write_json("data/layout.json", payload)
        # the map page loads compact chunks from data/map/ (see mapdata.py)
        from generator.site.mapdata import write_site_map
        self.map_files = write_site_map(self)
        self.page("map.html", "map/index.html", title="Map", method=self.site.layout_method,
                  n_drawings=len(self.site.drawings), n_artworks=len(self.site.artworks),
                  map_facets=self.map_files.facets, map_count=self.map_files.count)

    # statistics and search pages, written by their own modules
    def render_explore(self) -> None:
        from generator.site.search import render_search
        from generator.site.stats import render_stats
        self.explore_data_files = render_stats(self) + render_search(self)

    def render_data(self) -> None:
        s = self.site
        self.write_json("data/drawings.json", {"drawings": [{
            "id": d.id, "file": Path(d.rel).name, "year": d.year, "age_group": d.age_group,
            "country": d.country, "country_name": self.country_name(d.country) if d.country else None,
            "variant": d.name.variant if d.name else None, "quality": d.quality,
            "page": drawing_url(d.id), "thumbnail": thumb_url("drawings", d.id),
            "image": self.display_src("drawings", d.id),
        } for d in s.drawings]})
        self.write_json("data/artworks.json", {"artworks": [{
            "id": a.id, "file": a.rel, "title": a.title, "artist": a.artist, "year": a.year,
            "extra": dict(a.extra), "page": artwork_url(a.id), "thumbnail": thumb_url("artworks", a.id),
            "image": self.display_src("artworks", a.id),
        } for a in s.artworks]})
        nb = s.neighbours
        rows = []
        for i, d in enumerate(s.drawings):
            for rank, (j, sim) in enumerate(zip(nb["da_i"][i], nb["da_s"][i]), start=1):
                rows.append([d.id, rank, s.artworks[int(j)].id, round(float(sim), 4)])
        self.write_json("data/neighbours.json", {"model": s.model_name, "k": int(nb["da_i"].shape[1]),
                                                 "columns": ["drawing", "rank", "artwork", "similarity"],
                                                 "rows": rows})
        self.write_json("data/pairs.json", {"columns": ["drawing", "artwork"], "rows": [list(p) for p in s.pairs]})
        self.page("data.html", "data/index.html", title="Data", files=self.data_files())

    def data_files(self) -> list[dict]:
        return [
            {"name": "drawings.json", "what": "Every published drawing: id, year, age group, country, page and pictures."},
            {"name": "artworks.json", "what": "Every artwork: id, title, artist, year, page and pictures."},
            {"name": "neighbours.json", "what": "For each drawing, its nearest artworks: rank (1 = most similar) and similarity (cosine, -1 to 1)."},
            {"name": "pairs.json", "what": "Confirmed re-creations (drawing, artwork) given by the archive."},
            {"name": "layout.json", "what": "Map coordinates of every drawing and artwork, between -1 and 1."},
            {"name": "collections/", "what": "One file per country, year and age group, listing its drawings."},
        ] + getattr(self, "explore_data_files", [])  # stats-*.csv, stats.json, map/, search/

    def render_home(self) -> None:
        s = self.site
        years = [d.year for d in s.drawings if d.year]
        self.page("home.html", "index.html", title="Home", n_drawings=len(s.drawings), n_artworks=len(s.artworks),
                  n_pairs=len(s.pairs), n_countries=len({d.country for d in s.drawings if d.country}),
                  year_range=(min(years), max(years)) if years else None,
                  facets=[(FACETS[f], f"{f}/index.html", self.collection_summary[f]) for f in FACETS],
                  samples=[self.drawing_card(d) for d in s.drawings[:: max(1, len(s.drawings) // 12)][:12]],
                  model_name=s.model_name, model_source=s.model_source)


def json_for_script(value) -> str:
    """JSON that is safe inside a <script> element: '<', '>' and '&' cannot close the tag."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


#: Item pages are rendered by this many forked processes when there are at least
#: PARALLEL_MIN_PAGES of them (and the platform can fork); SITEGEN_RENDER_WORKERS overrides.
PARALLEL_MIN_PAGES = 4000
_FORKED: "Renderer | None" = None


def render_workers() -> int:
    import multiprocessing

    env = os.environ.get("SITEGEN_RENDER_WORKERS", "")
    if env.isdigit():
        return int(env)
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _forked_range(method: str, lo: int, hi: int) -> tuple[list[str], dict[str, str], int]:
    """In a forked worker: render pages lo..hi with the parent's Renderer; the pages, their keys, how many reused."""
    r = _FORKED
    before, reused = len(r.pages), r.reused
    getattr(r, method)(lo, hi)
    pages = r.pages[before:]
    return pages, {p: r.page_keys[p] for p in pages}, r.reused - reused


def write_display_images(site: SiteData, folder: Path) -> int:
    """Hard-link (or copy) every display picture to ``folder/images/<kind>/<id>.webp``, the layout
    that --image-base-url points at; returns how many. ``folder`` is a fresh staging folder."""
    n = 0
    for kind, items in (("drawings", site.drawings), ("artworks", site.artworks)):
        dest_dir = Path(folder) / "images" / kind
        dest_dir.mkdir(parents=True, exist_ok=True)
        for item in items:
            src = site.derivatives[item.id][1]
            if not src.is_file():
                continue
            dest = dest_dir / f"{item.id}.webp"
            try:
                os.link(src, dest)
            except OSError:
                shutil.copyfile(src, dest)
            n += 1
    write_atomic(Path(folder) / IMAGES_MARKER, "Display pictures written by 'sitegen build --image-base-url'. "
                 "Upload this folder's contents to that address; the next build replaces this folder.\n")
    return n


def render_site(site: SiteData, out: Path) -> Renderer:
    """Write the whole site into ``out`` (a fresh staging folder); returns the renderer (pages, keys, reuse)."""
    out.mkdir(parents=True, exist_ok=True)
    r = Renderer(site, out)
    r.render()
    return r
