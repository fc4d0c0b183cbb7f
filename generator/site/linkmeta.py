"""What a drawing or artwork page tells other sites: link-preview tags and schema.org data.

Chat apps and social networks build a link's preview from the page's Open Graph
and Twitter card tags; search engines read the schema.org data in its
``application/ld+json`` script (and the page's description tag). Both need absolute addresses: a preview is
fetched without the page around it, so a relative picture address cannot be
resolved. The page address comes from --site-url; the picture's address from
--image-base-url when the pictures are served from there, else from --site-url.
Without either, the tags carry only the title and description, which are
correct wherever the page is served.

The archive publishes no children's names, so a drawing's schema.org
description names no creator.
"""

from __future__ import annotations

from generator.inputs.collection import AGE_GROUP_LABELS, Artwork, Drawing
from generator.i18n import gettext as _, ngettext, number
from generator.site.jsonout import json_for_script
from generator.site.labels import artist_name
from generator.site.urls import artwork_url, drawing_url, image_url, page_address, thumb_url

SCHEMA_CONTEXT = "https://schema.org"


def iiif_manifest_path(kind: str, item_id: str) -> str:
    """Where an item's IIIF manifest is written; ``kind`` is "drawings" or "artworks"."""
    return f"iiif/{kind}/{item_id}.json"


def picture_address(ctx, kind: str, item_id: str) -> str | None:
    """The display picture's absolute address, or None when it has none or none can be known."""
    if not ctx.has_pictures(item_id):
        return None
    if ctx.image_base:
        return f"{ctx.image_base}/{image_url(kind, item_id)}"
    base = ctx.site_base
    return page_address(base, image_url(kind, item_id)) if base else None


def drawing_description(ctx, d: Drawing, confirmed: list[Artwork]) -> str:
    """One or two plain sentences about a drawing, for link previews and manifests."""
    who = _("A children's drawing")
    if d.age_group:
        words = AGE_GROUP_LABELS.get(d.age_group)
        who += f" ({_(words) if words else d.age_group})"
    where = f", {ctx.country_name(d.country)}" if d.country else ""
    when = f", {d.year}" if d.year else ""
    if confirmed:
        names = "; ".join(_by(a) for a in confirmed)
        return _("%(drawing)s. The archive records it as a re-creation of %(artworks)s.") % {
            "drawing": f"{who}{where}{when}", "artworks": names}
    return _("%(drawing)s, and the artworks it most resembles.") % {"drawing": f"{who}{where}{when}"}


def _by(a: Artwork) -> str:
    return _("%(title)s by %(artist)s") % {"title": a.title, "artist": artist_name(a.artist)}


def artwork_description(a: Artwork, n_recreations: int) -> str:
    text = _by(a) + (f", {a.year}" if a.year else "") + "."
    if n_recreations:
        # (the English singular keeps the wording English pages always had)
        text += " " + ngettext("%(num)s children's drawing in the archive re-create it.",
                               "%(num)s children's drawings in the archive re-create it.",
                               n_recreations) % {"num": number(n_recreations)}
    else:
        text += " " + _("See the children's drawings that most resemble it.")
    return text


def _artwork_ld(ctx, a: Artwork, base: str | None, nationality: str | None = None) -> dict:
    doc = {"@type": "VisualArtwork", "name": a.title}
    if a.artist:
        creator = {"@type": "Person", "name": a.artist}
        if nationality:
            creator["nationality"] = nationality
        doc["creator"] = creator
    if a.year:
        doc["dateCreated"] = a.year
    if base:
        doc["url"] = page_address(base, artwork_url(a.id))
    return doc


def _page_meta(ctx, kind: str, item_id: str, page: str, title: str, description: str, ld: dict) -> dict:
    base = ctx.site_base
    image = picture_address(ctx, kind, item_id)
    # No "description": search engines read the page's description tag, which says the same.
    ld = {"@context": SCHEMA_CONTEXT, **ld, "name": title}
    if base:
        ld["url"] = page_address(base, page)
        if ctx.has_pictures(item_id):
            ld["thumbnailUrl"] = page_address(base, thumb_url(kind, item_id))
    if image:
        ld["image"] = image
    return {"title": title, "description": description, "image": image,
            "url": page_address(base, page) if base else None, "jsonld": json_for_script(ld),
            "iiif": iiif_manifest_path(kind, item_id) if base and ctx.has_pictures(item_id) else None}


def drawing_meta(ctx, d: Drawing, title: str, confirmed: list[Artwork]) -> dict:
    """The link-preview tags, schema.org data (a CreativeWork, based on its confirmed artworks) and IIIF link."""
    base = ctx.site_base
    ld: dict = {"@type": "CreativeWork", "genre": "Children's drawing"}
    if d.year:
        ld["dateCreated"] = str(d.year)
    if d.country:
        ld["countryOfOrigin"] = {"@type": "Country", "name": ctx.country_name(d.country)}
    if confirmed:
        based = [_artwork_ld(ctx, a, base) for a in confirmed]
        ld["isBasedOn"] = based[0] if len(based) == 1 else based
    return _page_meta(ctx, "drawings", d.id, drawing_url(d.id), title, drawing_description(ctx, d, confirmed), ld)


def artwork_meta(ctx, a: Artwork, n_recreations: int, nationality: str | None) -> dict:
    """The link-preview tags, schema.org data (a VisualArtwork) and IIIF link of an artwork page."""
    ld = _artwork_ld(ctx, a, None, nationality)
    return _page_meta(ctx, "artworks", a.id, artwork_url(a.id), a.title, artwork_description(a, n_recreations), ld)
