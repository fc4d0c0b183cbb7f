"""Where the page writers write: one staging folder, the Jinja2 templates, and the record of what was written.

Templates escape everything (autoescape on, StrictUndefined), so titles and
names from CSV files are always shown as text. All links are relative: every
page knows its depth and prefixes ``root`` to site paths, so the site works from
a sub-folder of a web server and straight from the disk (``file://``).

A page whose key (template, context and what all pages share) equals the key it
had in the previous build, and whose file is as that build left it, is linked
from the previous site instead of being rendered again. When the site is updated in
place (the previous site is on disk exactly as recorded), such a page, and a picture
that is already the same file there, is not even linked: it is only listed as kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from generator.forks import can_fork, in_forks, usable_cores
from generator.fsutil import link_or_copy, linked_file_digest, write_atomic
from generator.inputs.collection import Problem
from generator import i18n
from generator.site.jsonout import data_json_text, json_for_script
from generator.site.urls import NAV, page_address


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


def template_environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(asset_dir("templates"))),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True, auto_reload=False, extensions=["jinja2.ext.i18n"])
    env.filters["sim"] = lambda v: f"{float(v):.3f}"
    env.filters["json_script"] = json_for_script
    env.filters["csp_attr"] = csp_attribute
    env.globals["nav"] = NAV
    env.globals["hreflang"] = ()     # (code, full address) of a page's versions, with --site-url
    env.globals["alternates"] = ()   # a page's versions in other languages (SiteOutput.versions)
    i18n.install(env)   # the active language (see i18n.activate): its messages and its numbers
    return env


def csp_attribute(policy: str) -> Markup:
    """The policy for a double-quoted attribute: ``&``, ``<``, ``>`` and ``"`` escaped, its single quotes
    left as they are (every page is shorter, the policy the browser reads is the same).

    >>> str(csp_attribute("img-src 'self' https://x.org/?a=1&b=\\"2\\""))
    "img-src 'self' https://x.org/?a=1&amp;b=&#34;2&#34;"
    """
    text = policy.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
    return Markup(text)


@dataclass(frozen=True)
class PreviousSite:
    """The site the previous build left in place: its folder, the key of each page, its files' sizes and times."""

    folder: Path
    pages: dict = field(default_factory=dict)    # page path -> key
    files: dict = field(default_factory=dict)    # file path -> [size, mtime_ns, ...]
    #: True when the site is updated in place: the files staying the same are left where they are (and listed
    #: in :attr:`SiteOutput.kept`) instead of being linked into the staging folder.
    in_place: bool = False


def context_bytes(ctx: dict) -> bytes:
    """A page's context as bytes that are equal exactly when the contexts are (for its key).

    Pickled without its memo, so that the bytes follow the values only, not which of them happen to be one
    object (a label read from the cache and the same label computed again give the same bytes): twice as fast
    as JSON text for the 100,000 drawing pages whose keys every build computes. A context whose dicts list
    their keys in another order only gives another key (the page is rendered again, never wrongly kept).
    """
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=5)
    pickler.fast = True   # no memo: equal values, equal bytes (contexts hold no cycles)
    pickler.dump(ctx)
    return buf.getvalue()


class SiteOutput:
    """The staging folder being filled, and what has been written to it."""

    def __init__(self, root: Path, *, title: str, csp: str, salt: str = "", previous: PreviousSite | None = None,
                 versions: tuple[tuple[str, str, str], ...] = (), shared: str = "",
                 addresses: tuple[tuple[str, str], ...] = ()):
        self.root = Path(root)
        #: Where the top of the site is, seen from this root ("../" for a language's folder): files that do not
        #: depend on the language and are large (the find page's runtime) are published there only.
        self.shared = shared
        #: The same site in other languages: (code, name, folder relative to this one's root), e.g.
        #: ("fr", "Français", "fr/") or ("en", "English", "../"); every page links its versions there.
        self.versions = versions
        #: Where a page's versions are on the web, in every language, this one included: (code, public address of
        #: that language's top folder), known only with --site-url. Search engines read a page's versions
        #: (hreflang) only from full addresses, so without them the head names none (the footer still links them).
        self.addresses = addresses
        self.env = template_environment()
        self.title = title
        self.csp = csp
        self.salt = salt            # what every page shares: code, templates, settings
        self.previous = previous
        self.pages: list[str] = []
        self.page_keys: dict[str, str] = {}
        self.reused = 0
        self.kept: list[str] = []   # files left as they are in the previous site (when updated in place)
        self.problems: list[Problem] = []   # for the build report
        self._deferred: list | None = None   # pages to render later (see deferred)
        self._folders: set[Path] = set()     # folders made for pictures
        #: What a writer leaves for a later one in this process (a writer run in a forked lane hands nothing).
        self.handed: dict[str, object] = {}

    @contextlib.contextmanager
    def deferred(self):
        """The pages written inside are rendered at its end (in batches of :data:`DEFERRED_BATCH`), by forked
        workers when there are many (see :func:`_render_batch`); a writer inside must not change a context it
        has handed over. Inside another, the pages are rendered with that one's."""
        if self._deferred is not None:
            yield
            return
        self._deferred = []
        try:
            yield
            self._render_deferred()
        finally:
            self._deferred = None

    def _render_deferred(self) -> None:
        batch, self._deferred = self._deferred or [], []
        _render_batch(self, batch)

    def page(self, template: str, rel_path: str, **ctx) -> None:
        self._write_page(template, rel_path, self._page_key(template, rel_path, ctx), lambda: ctx)

    def page_from(self, template: str, rel_path: str, inputs: tuple, context: Callable[[], dict]) -> None:
        """A page whose context, ``context()``, is made from ``inputs`` alone (besides what all pages share and
        what the caller put in ``inputs`` for every page of its kind): keyed by its inputs, so that an unchanged
        page costs the digest of a few values instead of its whole context (100,000 drawing pages at every
        build that adds a drawing)."""
        h = hashlib.blake2b(f"{self.salt}|{template}|{rel_path}|inputs|".encode(), digest_size=16)
        h.update(context_bytes(inputs))
        self._write_page(template, rel_path, h.hexdigest(), context)

    def _write_page(self, template: str, rel_path: str, key: str, context: Callable[[], dict]) -> None:
        self.pages.append(rel_path)
        self.page_keys[rel_path] = key
        path = self.root / rel_path
        if self._reuse(rel_path, key, path):
            return
        if self._deferred is not None:   # rendered later, maybe by forked workers (see deferred)
            self._deferred.append((template, rel_path, context))
            if len(self._deferred) >= DEFERRED_BATCH:
                self._render_deferred()
            return
        self._render(template, rel_path, context)

    def _render(self, template: str, rel_path: str, context: Callable[[], dict]) -> None:
        path = self.root / rel_path
        ctx = context()
        path.parent.mkdir(parents=True, exist_ok=True)
        root = "../" * rel_path.count("/")
        alternates = [(code, name, folder + rel_path) for code, name, folder in self.versions]
        hreflang = [(code, page_address(base, rel_path)) for code, base in self.addresses]
        html = self.env.get_template(template).render(root=root, site_title=self.title, page_path=rel_path,
                                                      csp=self.csp, alternates=alternates, hreflang=hreflang,
                                                      **ctx)
        # Pages are written into the staging folder, which no reader sees, so a plain write is safe here.
        path.write_bytes(html.encode("utf-8"))

    def write_json(self, rel_path: str, payload: dict) -> None:
        write_atomic(self.root / rel_path, data_json_text(payload))

    def _page_key(self, template: str, rel_path: str, ctx: dict) -> str:
        """What a page's bytes depend on: its template and context, and what all pages share."""
        h = hashlib.blake2b(f"{self.salt}|{template}|{rel_path}|".encode(), digest_size=16)
        h.update(context_bytes(ctx))
        return h.hexdigest()

    def _reuse(self, rel_path: str, key: str, dest: Path) -> bool:
        """Link the previous build's page when its key is unchanged and the file is as that build left it."""
        prev = self.previous
        if prev is None or prev.pages.get(rel_path) != key:
            return False
        recorded = prev.files.get(rel_path)
        if not recorded:
            return False
        if prev.in_place:   # found as recorded when the build began: left where it is, no folder made for it
            self.kept.append(rel_path)
            self.reused += 1
            return True
        old = prev.folder / rel_path
        try:
            st = old.stat()
        except OSError:
            return False
        if recorded[0] != st.st_size or recorded[1] != st.st_mtime_ns:
            return False
        dest.parent.mkdir(parents=True, exist_ok=True)
        link_or_copy(old, dest)
        self.reused += 1
        return True

    def apart(self, write: Callable[[], None]) -> tuple:
        """``write()``, and what it added to this output: (pages, their keys, files kept, problems, pages reused),
        taken out again, so that the output is as it was before (see :meth:`add`): work run side by side is
        recorded in the order it would have run in turn."""
        n_pages, n_kept, n_problems, reused = len(self.pages), len(self.kept), len(self.problems), self.reused
        write()
        pages = self.pages[n_pages:]
        record = (pages, [self.page_keys.pop(page) for page in pages], self.kept[n_kept:],
                  self.problems[n_problems:], self.reused - reused)
        del self.pages[n_pages:], self.kept[n_kept:], self.problems[n_problems:]
        self.reused = reused
        return record

    def add(self, record: tuple) -> None:
        """What :meth:`apart` took out, added here (in this process, or sent back from a forked one)."""
        pages, keys, kept, problems, reused = record
        for page in pages:   # each page's key again, in the order of the pages
            self.page_keys.pop(page, None)
        self.page_keys.update(zip(pages, keys))
        self.pages += pages
        self.kept += kept
        self.problems += problems
        self.reused += reused

    def keep_linked(self, rel_path: str, inode: int | None) -> bool:
        """Whether the previous site's file at ``rel_path`` is the file numbered ``inode`` (a picture linked from
        the cache), the site being updated in place: it is then kept as it is (True)."""
        prev = self.previous
        if inode is None or prev is None or not prev.in_place:
            return False
        recorded = prev.files.get(rel_path)
        # The site was found as recorded before this build began.
        if recorded and len(recorded) == 3 and recorded[2] == linked_file_digest(inode):
            self.kept.append(rel_path)
            return True
        return False

    def link(self, src: Path, rel_path: str) -> bool:
        """Publish the file ``src`` (a picture the pipeline made) at ``rel_path``, as a hard link (or a copy);
        False, and nothing published, when ``src`` is not a file.

        Updated in place, a picture that is already that very file in the previous site is kept as it is.
        """
        try:
            st = os.stat(src)
        except OSError:
            return False
        if not stat.S_ISREG(st.st_mode):
            return False
        if self.keep_linked(rel_path, st.st_ino):
            return True
        dest = self.root / rel_path
        if dest.parent not in self._folders:   # made once, not once per picture
            dest.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(dest.parent)
        link_or_copy(src, dest)
        return True


# ---------------------------------------------------------------- item pages in several processes

#: Item pages are rendered by this many processes (this one and forked ones) when there are at least
#: PARALLEL_MIN_PAGES of them (and the platform can fork); SITEGEN_RENDER_WORKERS overrides.
PARALLEL_MIN_PAGES = 4000


def render_workers() -> int:
    env = os.environ.get("SITEGEN_RENDER_WORKERS", "")
    if env.isdigit():
        return int(env)
    if not can_fork():
        return 1
    return min(4, usable_cores())


#: Pages waiting to be rendered are rendered once this many have gathered (their contexts are held until then).
DEFERRED_BATCH = 20_000


def _render_batch(out: SiteOutput, batch: list) -> None:
    """Render the pages gathered by :meth:`SiteOutput.deferred`: here, or here and in forked workers when there
    are many (see :func:`generator.forks.in_forks`).

    The writers ran in this process, so every page's key was computed once, in order, and a page whose key is
    unchanged cost nothing more; only the pages to render (all of them in a first build, a few thousand when
    drawings are added) are shared out. Each page depends only on its context, so the output is the same byte
    for byte either way."""
    workers = render_workers()
    if workers < 2 or len(batch) < PARALLEL_MIN_PAGES:
        for page in batch:
            out._render(*page)
        return

    def part(lo: int, hi: int) -> None:
        for page in batch[lo:hi]:
            out._render(*page)
    in_forks(part, len(batch), workers, 64)


def in_workers(write_range: Callable, ctx, out: SiteOutput, n: int) -> None:
    """``write_range(ctx, out, lo, hi)`` over ``range(n)``: in this process, or split between it and forked workers
    (the IIIF manifests: files, not pages).

    Every file depends only on the context, so the output is the same byte for byte either way.
    """
    workers = render_workers()
    if workers < 2 or n < PARALLEL_MIN_PAGES:
        write_range(ctx, out, 0, n)
        return

    def part(lo: int, hi: int) -> tuple:   # this process takes parts too: every part's record is added below
        return out.apart(lambda: write_range(ctx, out, lo, hi))
    for record in in_forks(part, n, workers, 256):   # in order, as a serial run lists them
        out.add(record)
