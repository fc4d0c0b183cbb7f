"""The site's pictures: thumbnails and display pictures linked from the files the pipeline made, or the folder
for --image-base-url."""

from __future__ import annotations

from pathlib import Path

from generator.fsutil import link_or_copy, write_atomic
from generator.site.context import SiteContext, SiteData
from generator.site.output import SiteOutput

#: Marks a folder of display pictures written for --image-base-url, so a rebuild may replace it.
IMAGES_MARKER = ".sitegen-images"


def display_images_dir(out: Path) -> Path:
    """Where the display pictures go with --image-base-url: a folder next to the site, ``<out>-images``."""
    out = Path(out)
    return out.parent / f"{out.name}-images"


def _kinds(site: SiteData):
    return (("drawings", site.drawings), ("artworks", site.artworks))


def write_pictures(ctx: SiteContext, out: SiteOutput) -> None:
    """Thumbnails, and display pictures unless they are served from --image-base-url (see write_display_images).

    Where the pictures can say which files they are (``listing``, the cache's listing), a site updated in place
    keeps the pictures that already are those files without a path made or a file looked at for each (200,000
    pictures at 100,000 drawings). Anywhere else (a first build) nothing is kept, so nothing is listed."""
    pictures = ctx.site.pictures
    listing = getattr(pictures, "listing", None)
    in_place = out.previous is not None and out.previous.in_place
    inodes = listing() if listing is not None and in_place else None
    for kind, items in _kinds(ctx.site):
        for item in items:
            if item.id not in pictures:
                continue
            rels = [f"images/{kind}/{item.id}.thumb.webp"] + ([] if ctx.image_base else [f"images/{kind}/{item.id}.webp"])
            known = inodes(item.id) if inodes is not None else (None, None)
            files = None
            for n, rel in enumerate(rels):
                if out.keep_linked(rel, known[n]):
                    continue
                files = files or pictures[item.id]
                out.link(files[n], rel)   # (not when the picture is missing from the cache)


def write_display_images(site: SiteData, folder: Path) -> int:
    """Link (or copy) every display picture to ``folder/images/<kind>/<id>.webp``, the layout
    that --image-base-url points at; returns how many. ``folder`` is a fresh staging folder."""
    n = 0
    for kind, items in _kinds(site):
        dest_dir = Path(folder) / "images" / kind
        dest_dir.mkdir(parents=True, exist_ok=True)
        for item in items:
            src = site.pictures[item.id][1] if item.id in site.pictures else None
            if src is None or not src.is_file():
                continue
            link_or_copy(src, dest_dir / f"{item.id}.webp")
            n += 1
    write_atomic(Path(folder) / IMAGES_MARKER, "Display pictures written by 'sitegen build --image-base-url'. "
                 "Upload this folder's contents to that address; the next build replaces this folder.\n")
    return n
