"""--image-base-url: display pictures leave the site for ``<out>-images``; pages and data point at the URL."""

from __future__ import annotations

import json
import re
from html import unescape as html_unescape
from pathlib import Path

import pytest

from generator.settings import BuildSettings
from generator.errors import SitegenError
from generator.pipeline.stages import build
from generator.site.images import IMAGES_MARKER
from generator.site.urls import check_image_base_url

from .helpers import write_jpeg
from .sitecheck import broken_links
from tests.helpers import site_artworks, site_drawings

pytestmark = pytest.mark.slow

URL = "https://pictures.example.org/archive"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("image-base-url")
    for i in range(8):
        write_jpeg(root / "drawings" / f"2003_6-9_{i:04d}_FRA_R_C.jpg", (90, 70), seed=i)
    for i in range(4):
        write_jpeg(root / "artworks" / f"art_{i}.jpg", (80, 100), seed=50 + i)
    settings = BuildSettings(drawings=root / "drawings", artworks=root / "artworks", out=root / "site",
                             cache=root / "cache", image_base_url=URL + "/", thumb_size=48, display_size=96)
    return settings, build(settings)


def test_display_pictures_go_next_to_the_site(built):
    settings, report = built
    out, images = settings.out, settings.out.parent / "site-images"
    assert report.images_out == images and any(str(images) in line for line in report.lines())
    assert (images / IMAGES_MARKER).is_file()
    assert not list(out.glob("images/*/*[!b].webp")), "display pictures must not be in the site"
    drawings = site_drawings(out)
    artworks = site_artworks(out)
    assert len(drawings) == 8 and len(artworks) == 4
    for kind, items in (("drawings", drawings), ("artworks", artworks)):
        for it in items:
            assert it["image"] == f"{URL}/images/{kind}/{it['id']}.webp"
            assert (out / it["thumbnail"]).is_file()  # thumbnails stay in the site
            assert (images / "images" / kind / f"{it['id']}.webp").is_file()
    from PIL import Image
    with Image.open(images / "images" / "artworks" / f"{artworks[0]['id']}.webp") as im:
        assert max(im.size) == 96
    with Image.open(out / artworks[0]["thumbnail"]) as im:
        assert max(im.size) == 48


def test_pages_load_the_url_and_the_policy_allows_it(built):
    settings, _ = built
    out = settings.out
    pages = list(out.glob("drawings/*/index.html")) + list(out.glob("artworks/*/index.html"))
    assert len(pages) == 12
    for page in pages:
        html = page.read_text(encoding="utf-8")
        kind, item_id = page.parent.parent.name, page.parent.name
        assert f'<img src="{URL}/images/{kind}/{item_id}.webp"' in html
        csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html)
        assert csp and f"img-src 'self' data: {URL}/;" in html_unescape(csp.group(1))
    assert broken_links(out) == []


def test_no_op_rebuild_and_switching_back(built):
    settings, _ = built
    images = settings.out.parent / "site-images"
    again = build(settings)
    assert again.computed["pages"] == 0 and (images / IMAGES_MARKER).is_file()
    plain = build(settings.replace(image_base_url=None))
    assert plain.images_out is None and plain.computed["pages"] > 0
    drawings = site_drawings(settings.out)
    assert all((settings.out / d["image"]).is_file() for d in drawings)
    assert broken_links(settings.out) == []


def test_refuses_unsafe_addresses_and_foreign_folders(built, tmp_path):
    for bad in ("javascript:alert(1)", "https://a.org/x; script-src *", "https://a.org/x'", "ftp://a.org/",
                "https://a.org/?x", "https://a.org/ x", "/images"):
        with pytest.raises(SitegenError):
            check_image_base_url(bad)
    settings, _ = built
    foreign = tmp_path / "site-images"
    write_jpeg(foreign / "holiday.jpg")
    with pytest.raises(SitegenError, match="something else is there"):
        build(settings.replace(out=tmp_path / "site", cache=tmp_path / "cache"))
    assert (foreign / "holiday.jpg").is_file()


def test_forked_page_rendering_is_byte_identical(built, tmp_path, monkeypatch):
    """Large sites render item pages in forked workers; the site must not change."""
    from generator.site import output

    settings, _ = built
    # with a site address, so that the IIIF manifests (files written by forked workers too) are compared as well
    serial = settings.replace(image_base_url=None, out=tmp_path / "serial", site_url="https://example.org/archive/")
    monkeypatch.setenv("SITEGEN_RENDER_WORKERS", "1")
    build(serial)
    monkeypatch.setenv("SITEGEN_RENDER_WORKERS", "2")
    monkeypatch.setattr(output, "PARALLEL_MIN_PAGES", 1)
    monkeypatch.setattr(output, "DEFERRED_BATCH", 7)   # pages rendered batch after batch, as for 100,000
    parallel = build(serial.replace(out=tmp_path / "parallel"))
    assert parallel.computed["pages"] > 12

    def tree(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
                if p.is_file() and p.suffix in (".html", ".json", ".xml", ".txt", ".csv")}
    a, b = tree(tmp_path / "serial"), tree(tmp_path / "parallel")
    assert a.keys() == b.keys() and len(a) > 30
    assert [k for k in a if a[k] != b[k]] == []
