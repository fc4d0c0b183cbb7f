"""Every address of the site, relative to its home (the templates prefix ``root``).

The browser's scripts build the same addresses (``static/core/address.js``) from the prefixes written into
their data files (:data:`PAGE_FOLDERS`, :data:`PICTURE_FOLDERS`).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from generator.errors import ConfigError
from generator.i18n import N_

#: Map and search data name an item by kind ("d" drawing, "a" artwork); its page and pictures live under these.
PAGE_FOLDERS = {"d": "drawings/", "a": "artworks/"}
PICTURE_FOLDERS = {"d": "images/drawings/", "a": "images/artworks/"}
#: The find page and the files it downloads (the model, the artworks' index, the runtime's files).
FIND_FOLDER = "find/"
FIND_PAGE = FIND_FOLDER + "index.html"
FIND_RUNTIME = "static/vendor/onnxruntime-web/"
#: The header's links to the site's sections, in order (label, page); see site_nav.
#: The labels are the English message ids: pages show them in the site's language.
NAV = ((N_("Countries"), "countries/index.html"), (N_("Years"), "years/index.html"),
       (N_("Age groups"), "ages/index.html"), (N_("Map"), "map/index.html"),
       (N_("Groups"), "groups/index.html"),
       (N_("Discoveries"), "discoveries/index.html"), (N_("Statistics"), "stats/index.html"),
       (N_("Search"), "search/index.html"), (N_("Find an artwork"), FIND_PAGE), (N_("Model"), "model/index.html"),
       (N_("Data"), "data/index.html"))


def site_nav(find_page: bool) -> tuple[tuple[str, str], ...]:
    """The header's links: the find page's only when the site has one.

    >>> [label for label, _ in site_nav(False)][-3:]
    ['Search', 'Model', 'Data']
    """
    return tuple(n for n in NAV if find_page or n[1] != FIND_PAGE)


def drawing_url(d_id: str) -> str:
    return f"drawings/{d_id}/index.html"


def artwork_url(a_id: str) -> str:
    return f"artworks/{a_id}/index.html"


def thumb_url(kind: str, item_id: str) -> str:
    """The small picture of a drawing or artwork; ``kind`` is "drawings" or "artworks"."""
    return f"images/{kind}/{item_id}.thumb.webp"


def image_url(kind: str, item_id: str) -> str:
    """The display picture, relative to the site's home or to --image-base-url."""
    return f"images/{kind}/{item_id}.webp"


def facet_index_url(facet: str) -> str:
    return f"{facet}/index.html"


def collection_url(facet: str, key: str, page: int = 1) -> str:
    """A page of one country, year or age group.

    >>> collection_url("ages", "6-9"), collection_url("years", "2009", 2)
    ('ages/6-9/index.html', 'years/2009/page-2/index.html')
    """
    return f"{facet}/{key}/index.html" if page == 1 else f"{facet}/{key}/page-{page}/index.html"


def discoveries_url(page: int = 1) -> str:
    """A page of the discoveries (the best unconfirmed suggestions).

    >>> discoveries_url(), discoveries_url(3)
    ('discoveries/index.html', 'discoveries/page-3/index.html')
    """
    return "discoveries/index.html" if page == 1 else f"discoveries/page-{page}/index.html"


def pager_numbers(page: int, pages: int, around: int = 2) -> list[int]:
    """The page numbers a collection page links to: the first, the last and those near the current one;
    0 stands for a gap. A pager listing every page would grow each page with the collection's size.

    >>> pager_numbers(1, 3), pager_numbers(10, 40)
    ([1, 2, 3], [1, 0, 8, 9, 10, 11, 12, 0, 40])
    """
    shown = sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)})
    numbers: list[int] = []
    for n in shown:
        if numbers and n > numbers[-1] + 1:
            numbers.append(0)
        numbers.append(n)
    return numbers


def display_src(image_base: str | None, kind: str, item_id: str) -> str:
    """The display picture's address: site-relative, or absolute under --image-base-url."""
    rel = image_url(kind, item_id)
    return f"{image_base}/{rel}" if image_base else rel


def site_base(site_url: str | None) -> str | None:
    """The site's public address (--site-url) ending in '/', or None.

    >>> site_base("https://example.org/archive"), site_base(None)
    ('https://example.org/archive/', None)
    """
    return site_url.rstrip("/") + "/" if site_url else None


def page_address(base: str, rel_path: str) -> str:
    """The public address of a site path under ``base`` (``…/index.html`` becomes its folder, as in the sitemap).

    >>> page_address("https://a.org/p/", "drawings/x y/index.html"), page_address("https://a.org/p/", "images/x.webp")
    ('https://a.org/p/drawings/x%20y/', 'https://a.org/p/images/x.webp')
    """
    if rel_path == "index.html":
        rel_path = ""
    elif rel_path.endswith("/index.html"):
        rel_path = rel_path[: -len("index.html")]
    return base + quote(rel_path, safe="/")


def check_image_base_url(url: str) -> str:
    """The address without its trailing slash; refuses anything but a plain http(s) address.

    It goes into every page's Content-Security-Policy, so quotes, spaces, ';' or ',' could
    add policy directives.

    >>> check_image_base_url("https://cdn.example.org/archive/")
    'https://cdn.example.org/archive'
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment or \
            any(c.isspace() or c in "'\";,<>\\?#" for c in url):
        raise ConfigError(f"--image-base-url {url!r} is not a plain http(s) address. Give one like "
                          "https://pictures.example.org/archive (no quotes, spaces, ';', ',', '?' or '#').")
    return url.rstrip("/")
