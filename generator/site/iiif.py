"""IIIF Presentation 3 manifests: every published drawing and artwork, and one collection listing them.

Image viewers used by museums and libraries (Mirador, Universal Viewer...) open
a picture from its manifest: a label, a few metadata lines, a thumbnail and one
canvas painted with the display picture. IIIF identifiers must be absolute
addresses, so manifests are written only with --site-url; without it the build
says so and writes none. They are built with the ``iiif-prezi3`` library, which
checks their shape, and every identifier is given explicitly, so the same
inputs give the same bytes.

Only display pictures of published items appear: back scans are never part of
the site, so no manifest can name one.
"""

from __future__ import annotations

import json

from PIL import Image

from generator.i18n import N_, active, gettext as _, number
from generator.site.context import SiteContext
from generator.site.linkmeta import artwork_description, drawing_description, iiif_manifest_path, picture_address
from generator.site.labels import FACETS, artist_name, facet_key
from generator.site.output import SiteOutput, in_workers
from generator.site.urls import artwork_url, drawing_url, page_address, thumb_url

COLLECTION_PATH = "iiif/collection.json"
IIIF_NEEDS_SITE_URL = ("No IIIF manifests were written: IIIF needs the site's public address. Give it with "
                       "--site-url (for example https://user.github.io/archive/) to publish them.")


def _text(value: str, lang: str | None = None) -> dict:
    """A IIIF language map: ``value`` in ``lang``, by default the site's language ("none": no language, for
    titles and names given by the archive)."""
    return {lang or active().code: [value]}


def _pair(label: str, value: str) -> dict:
    # Labels are the site's words, in its language; values (titles, names) are in whatever language the archive
    # gave them.
    return {"label": _text(_(label)), "value": _text(value, "none")}


def _size(path) -> tuple[int, int]:
    with Image.open(path) as img:  # reads the header only
        return img.size


def _drawing_fields(ctx: SiteContext, i: int) -> tuple[str, str, str, list[dict]]:
    d = ctx.site.drawings[i]
    confirmed = [ctx.a_by_id[a] for a in sorted(ctx.confirmed_by_drawing.get(d.id, ()))]
    metadata = [_pair(N_("Archive number"), d.name.number if d.name else d.rel)]
    metadata += [_pair(f.one, ctx.facet_label(v, facet_key(d, v))) for v, f in FACETS.items()]
    metadata += [_pair(N_("Confirmed re-creation of"), f"{a.title}, {artist_name(a.artist)}") for a in confirmed]
    return ctx.d_cards[i]["label"], drawing_description(ctx, d, confirmed), drawing_url(d.id), metadata


def _artwork_fields(ctx: SiteContext, j: int) -> tuple[str, str, str, list[dict]]:
    a = ctx.site.artworks[j]
    n = len(ctx.confirmed_by_artwork.get(a.id, ()))
    metadata = [_pair(N_("Title"), a.title), _pair(N_("Artist"), artist_name(a.artist))]
    if a.year:
        metadata.append(_pair(N_("Year"), str(a.year)))
    return a.title, artwork_description(a, n), artwork_url(a.id), metadata


def manifest(ctx: SiteContext, kind: str, row: int, base: str) -> dict:
    """The manifest of drawing or artwork ``row`` (``kind`` "drawings" or "artworks") as JSON-LD."""
    from iiif_prezi3 import AnnotationBody, Canvas, KeyValueString, Manifest

    item = (ctx.site.drawings if kind == "drawings" else ctx.site.artworks)[row]
    label, summary, page, metadata = (_drawing_fields if kind == "drawings" else _artwork_fields)(ctx, row)
    thumb_file, display_file = ctx.site.pictures[item.id]
    man_id = page_address(base, iiif_manifest_path(kind, item.id))
    stem = man_id[: -len(".json")]
    tw, th = _size(thumb_file)
    dw, dh = _size(display_file)
    m = Manifest(id=man_id, label=_text(label, None if kind == "drawings" else "none"), summary=_text(summary),
                 metadata=[KeyValueString(**p) for p in metadata],
                 thumbnail=[AnnotationBody(id=page_address(base, thumb_url(kind, item.id)), type="Image",
                                           format="image/webp", width=tw, height=th)],
                 homepage=[{"id": page_address(base, page), "type": "Text", "label": _text(label),
                            "format": "text/html"}],
                 partOf=[{"id": page_address(base, COLLECTION_PATH), "type": "Collection"}])
    canvas = Canvas(id=f"{stem}/canvas/1", label=_text(label), width=dw, height=dh)
    canvas.add_image(picture_address(ctx, kind, item.id), anno_id=f"{stem}/annotation/1",
                     anno_page_id=f"{stem}/page/1", format="image/webp", width=dw, height=dh)
    m.items = [canvas]
    return json.loads(m.jsonld())


def _dump(doc: dict) -> str:
    # Keys keep the library's order (id, type, label first, as IIIF readers expect); compact, UTF-8.
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def _with_pictures(ctx: SiteContext) -> list[tuple[str, int]]:
    return [(kind, row) for kind, items in (("drawings", ctx.site.drawings), ("artworks", ctx.site.artworks))
            for row, item in enumerate(items) if ctx.has_pictures(item.id)]


def _manifest_range(ctx: SiteContext, out: SiteOutput, lo: int, hi: int) -> None:
    base = ctx.site_base
    for kind, row in _with_pictures(ctx)[lo:hi]:
        item = (ctx.site.drawings if kind == "drawings" else ctx.site.artworks)[row]
        path = out.root / iiif_manifest_path(kind, item.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        # The staging folder is swapped in as a whole, so a plain write is safe here.
        path.write_text(_dump(manifest(ctx, kind, row, base)), encoding="utf-8")


def collection(ctx: SiteContext, base: str) -> dict:
    """The collection listing every manifest, drawings first, in site order."""
    from iiif_prezi3 import Collection, ManifestRef

    refs = []
    for kind, row in _with_pictures(ctx):
        if kind == "drawings":
            item, label = ctx.site.drawings[row], _text(ctx.d_cards[row]["label"])
        else:
            item = ctx.site.artworks[row]
            label = _text(f"{item.title} ({artist_name(item.artist)})", "none")
        refs.append(ManifestRef(id=page_address(base, iiif_manifest_path(kind, item.id)), type="Manifest", label=label))
    kinds = [kind for kind, _ in _with_pictures(ctx)]
    coll = Collection(id=page_address(base, COLLECTION_PATH), label=_text(ctx.site.settings.title),
                      summary=_text(_("%(drawings)s children's drawings and %(artworks)s artworks, one manifest each.")
                                    % {"drawings": number(sum(k == "drawings" for k in kinds)),
                                       "artworks": number(sum(k == "artworks" for k in kinds))}),
                      homepage=[{"id": base, "type": "Text", "label": _text(ctx.site.settings.title),
                                 "format": "text/html"}],
                      items=refs)
    return json.loads(coll.jsonld())


def write_iiif(ctx: SiteContext, out: SiteOutput) -> None:
    """One manifest per item with pictures, and the collection; nothing without --site-url."""
    base = ctx.site_base
    if not base:
        return
    (out.root / "iiif").mkdir(parents=True, exist_ok=True)
    in_workers(_manifest_range, ctx, out, len(_with_pictures(ctx)))
    (out.root / COLLECTION_PATH).write_text(_dump(collection(ctx, base)), encoding="utf-8")


def iiif_listing(ctx: SiteContext, out: SiteOutput) -> dict | None:
    """What the data page says of the manifests: the collection's path and how many; None when none were written."""
    if not (out.root / COLLECTION_PATH).is_file():
        return None
    return {"collection": COLLECTION_PATH, "count": len(_with_pictures(ctx)),
            "pattern": iiif_manifest_path("drawings", "<id>") + ", " + iiif_manifest_path("artworks", "<id>")}
