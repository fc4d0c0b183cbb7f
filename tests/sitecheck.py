"""A small crawler for built sites: every internal link and asset must resolve to a file."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and name in ("href", "src") and not (tag == "meta"):
                self.refs.append(value)
            if value and name == "srcset":
                self.refs.extend(part.strip().split(" ")[0] for part in value.split(","))


def html_refs(path: Path) -> list[str]:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.refs


def broken_links(site: Path) -> list[tuple[str, str]]:
    """(page, reference) for every internal reference that does not resolve to a file in ``site``."""
    site = site.resolve()
    broken = []
    for page in sorted(site.rglob("*.html")):
        for ref in html_refs(page):
            parts = urlsplit(ref)
            if parts.scheme or parts.netloc or ref.startswith(("#", "mailto:", "data:")):
                continue
            if not parts.path:
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if site not in target.parents and target != site or not target.is_file():
                broken.append((str(page.relative_to(site)), ref))
    return broken
