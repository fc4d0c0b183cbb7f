"""Link previews (Open Graph, Twitter card), schema.org data and IIIF manifests of item pages."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from generator.inputs.collection import Artwork
from generator.site.iiif import IIIF_NEEDS_SITE_URL
from generator.site.linkmeta import artwork_meta
from generator.site.output import template_environment

SITE_URL = "https://example.org/archive"
BASE = SITE_URL + "/"


class _Head(HTMLParser):
    """The meta tags, links and JSON-LD blocks of a page, and the links of its body."""

    def __init__(self):
        super().__init__()
        self.meta: dict[str, str] = {}
        self.jsonld: list[str] = []
        self.links: list[dict] = []
        self.anchors: list[tuple[str, str]] = []
        self._in_ld = self._in_a = False
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and ("property" in a or "name" in a):
            key = a.get("property") or a.get("name")
            assert key not in self.meta, f"{key} given twice"
            self.meta[key] = a["content"]
        elif tag == "script" and a.get("type") == "application/ld+json":
            self._in_ld, self._text = True, ""
        elif tag == "link":
            self.links.append(a)
        elif tag == "a":
            self._in_a, self._text, self._href = True, "", a.get("href", "")

    def handle_data(self, data):
        if self._in_ld or self._in_a:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "script" and self._in_ld:
            self.jsonld.append(self._text)
            self._in_ld = False
        elif tag == "a" and self._in_a:
            self.anchors.append((self._href, self._text))
            self._in_a = False


def parse(path: Path) -> _Head:
    p = _Head()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def pairs(settings) -> list[tuple[str, str]]:
    from generator.pipeline.stages import gather

    coll = gather(settings)
    return sorted(coll.pairs)


@pytest.fixture(scope="module")
def with_address(built_demo, tmp_path_factory):
    """(settings, report, site) of the demo built again with --site-url (from the same cache)."""
    from generator.pipeline.stages import build

    settings, _, _ = built_demo
    changed = settings.replace(out=tmp_path_factory.mktemp("linkmeta") / "site", site_url=SITE_URL)
    return changed, build(changed), changed.out


# ---------------------------------------------------------------- without the build


def test_json_ld_and_tags_are_escaped_and_stay_one_element():
    """A hostile title cannot close the JSON-LD block or break out of an attribute."""
    title = 'Night </script><script>alert(1)</script> & "Day" <!--'
    a = Artwork(id="x", path=Path("x.jpg"), rel="x.jpg", title=title, artist="A <b>", year="1900")
    ctx = SimpleNamespace(site=SimpleNamespace(settings=SimpleNamespace(site_url=None)), image_base=None, site_base=None,
                          has_pictures=lambda item_id: True)
    meta = artwork_meta(ctx, a, 2, None)
    html = template_environment().get_template("_meta.html").render(meta=meta, site_title="S", root="../../")
    assert "</script><script>" not in html and "<!--" not in html.replace("{#", "")
    page = _Head()
    page.feed(html)
    assert len(page.jsonld) == 1
    doc = json.loads(page.jsonld[0])
    assert doc["name"] == title and doc["creator"]["name"] == "A <b>" and doc["@type"] == "VisualArtwork"
    assert page.meta["og:title"] == title and "og:image" not in page.meta and "og:url" not in page.meta
    assert page.meta["twitter:card"] == "summary"


def test_picture_from_image_base_url_is_absolute_without_site_url():
    a = Artwork(id="x", path=Path("x.jpg"), rel="x.jpg", title="T", artist=None, year=None)
    ctx = SimpleNamespace(site=SimpleNamespace(settings=SimpleNamespace(site_url=None)),
                          image_base="https://cdn.example.org/a", site_base=None, has_pictures=lambda item_id: True)
    meta = artwork_meta(ctx, a, 0, None)
    assert meta["image"] == "https://cdn.example.org/a/images/artworks/x.webp"
    assert meta["url"] is None and meta["iiif"] is None
    assert "url" not in json.loads(meta["jsonld"])


# ---------------------------------------------------------------- built sites


@pytest.mark.slow
def test_pages_with_site_url_have_previews_and_json_ld(with_address):
    settings, _, site = with_address
    drawing, artwork = pairs(settings)[0]
    page = parse(site / "drawings" / drawing / "index.html")
    m = page.meta
    assert m["og:url"] == f"{BASE}drawings/{drawing}/" and m["og:title"] and m["description"]
    assert "og:description" not in m   # preview makers read the description tag: not written twice
    assert m["og:image"] == f"{BASE}images/drawings/{drawing}.webp"
    assert "twitter:image" not in m  # Twitter falls back to og:image
    assert (site / "images" / "drawings" / f"{drawing}.webp").is_file()
    assert m["twitter:card"] == "summary_large_image"
    [ld] = [json.loads(t) for t in page.jsonld]
    assert ld["@context"] == "https://schema.org" and ld["@type"] == "CreativeWork"
    assert ld["url"] == m["og:url"] and ld["image"] == m["og:image"]
    based = ld["isBasedOn"] if isinstance(ld["isBasedOn"], list) else [ld["isBasedOn"]]
    assert f"{BASE}artworks/{artwork}/" in [b["url"] for b in based]
    assert all(b["@type"] == "VisualArtwork" and b["name"] for b in based)
    assert "creator" not in ld  # the archive publishes no children's names

    art = parse(site / "artworks" / artwork / "index.html")
    [ald] = [json.loads(t) for t in art.jsonld]
    assert ald["@type"] == "VisualArtwork" and ald["url"] == f"{BASE}artworks/{artwork}/"
    assert art.meta["og:image"] == f"{BASE}images/artworks/{artwork}.webp"


@pytest.mark.slow
def test_pages_without_site_url_write_only_what_is_correct(built_demo):
    settings, report, site = built_demo
    drawing, artwork = pairs(settings)[0]
    for page in (site / "drawings" / drawing / "index.html", site / "artworks" / artwork / "index.html"):
        p = parse(page)
        assert p.meta["og:title"] and p.meta["description"] and p.meta["twitter:card"] == "summary"
        assert not {"og:image", "og:url", "twitter:image"} & set(p.meta)
        [ld] = [json.loads(t) for t in p.jsonld]
        assert "url" not in ld and "image" not in ld
        assert not any("iiif" in href for href, _ in p.anchors)
    ld = json.loads(parse(site / "drawings" / drawing / "index.html").jsonld[0])
    assert ld["isBasedOn"] and "url" not in json.dumps(ld["isBasedOn"])
    assert not (site / "iiif").exists()
    assert IIIF_NEEDS_SITE_URL in report.lines()
    assert "--site-url" in IIIF_NEEDS_SITE_URL


def _ids(doc) -> list[str]:
    if isinstance(doc, dict):
        return ([doc["id"]] if "id" in doc else []) + [i for v in doc.values() for i in _ids(v)]
    if isinstance(doc, list):
        return [i for v in doc for i in _ids(v)]
    return []


def _local(site: Path, address: str) -> Path:
    assert address.startswith(BASE), address
    return site / address[len(BASE):]


def _open_like_a_viewer(site: Path, doc: dict) -> None:
    """What a viewer does with a manifest: its canvas, the painting annotation on it, and the picture."""
    assert doc["@context"] == "http://iiif.io/api/presentation/3/context.json" and doc["type"] == "Manifest"
    assert doc["label"] and doc["metadata"] and doc["summary"]
    [canvas] = doc["items"]
    assert canvas["type"] == "Canvas" and canvas["width"] > 0 and canvas["height"] > 0
    [page] = canvas["items"]
    [anno] = page["items"]
    assert page["type"] == "AnnotationPage" and anno["type"] == "Annotation"
    assert anno["motivation"] == "painting" and anno["target"] == canvas["id"]
    body = anno["body"]
    assert body["type"] == "Image" and body["format"] == "image/webp"
    with Image.open(_local(site, body["id"])) as img:
        assert img.size == (body["width"], body["height"]) == (canvas["width"], canvas["height"])
    [thumb] = doc["thumbnail"]
    with Image.open(_local(site, thumb["id"])) as img:
        assert img.size == (thumb["width"], thumb["height"])
    assert _local(site, doc["homepage"][0]["id"]).joinpath("index.html").is_file()


@pytest.mark.slow
def test_iiif_manifests_load_and_paint_pictures_of_the_site(with_address):
    from iiif_prezi3 import Collection, Manifest

    settings, report, site = with_address
    assert IIIF_NEEDS_SITE_URL not in report.lines()
    coll = json.loads((site / "iiif" / "collection.json").read_text(encoding="utf-8"))
    Collection(**coll)
    listed = [ref["id"] for ref in coll["items"]]
    files = sorted((site / "iiif").rglob("*.json"))
    assert len(listed) == len(set(listed)) == len(files) - 1
    n_drawings = len(list((site / "drawings").glob("*/index.html")))
    n_artworks = len(list((site / "artworks").glob("*/index.html")))
    assert len(listed) == n_drawings + n_artworks
    for address in listed:
        path = _local(site, address)
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text)
        assert doc["id"] == address
        Manifest(**doc)
        _open_like_a_viewer(site, doc)
        assert all(i.startswith(BASE) for i in _ids(doc)), address
        assert "_V_" not in text  # back scans are never named
    assert all(i.startswith(BASE) for i in _ids(coll))


@pytest.mark.slow
def test_item_pages_and_data_page_link_the_manifests(with_address):
    settings, _, site = with_address
    drawing, artwork = pairs(settings)[0]
    for kind, item in (("drawings", drawing), ("artworks", artwork)):
        page = parse(site / kind / item / "index.html")
        [href] = [h for h, text in page.anchors if text == "IIIF manifest"]
        assert href == f"../../iiif/{kind}/{item}.json"
        assert (site / kind / item / href).resolve().is_file()
    data = parse(site / "data" / "index.html")
    assert ("../iiif/collection.json", "The IIIF collection") in data.anchors


@pytest.mark.slow
def test_manifests_are_the_same_bytes_when_built_again(with_address, tmp_path):
    from generator.pipeline.stages import build

    settings, _, site = with_address
    again = settings.replace(out=tmp_path / "site")
    build(again)
    first = {p.relative_to(site): p.read_bytes() for p in sorted((site / "iiif").rglob("*.json"))}
    second = {p.relative_to(again.out): p.read_bytes() for p in sorted((again.out / "iiif").rglob("*.json"))}
    assert first == second and first
