"""The words the site shows for groups and items: facet titles, age groups, countries, unknown values.

Each is given in the site's language (see :mod:`generator.i18n`); the constants hold the English ids."""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from pathlib import PurePosixPath

from generator.inputs.collection import AGE_GROUP_LABELS, Artwork, Drawing
from generator.inputs.countries import CountryTable
from generator import i18n
from generator.i18n import N_, country, gettext as _

#: The key of a drawing's group when its country, year or age group is not known.
UNKNOWN = "unknown"
UNKNOWN_ARTIST = N_("Unknown artist")



@dataclass(frozen=True)
class Facet:
    """One way the site groups the drawings (by country, year or age group): every name it has, spelt here
    only. The words are English messages of the catalogue: :func:`facet_title` and the others give them in the
    site's language."""

    view: str       # the collection view: its folder and the key the pages use ("countries")
    field: str      # the drawing's attribute, as the statistics and data files name it ("country")
    key: str        # its name in the scripts' data: the map's columns, the discoveries' filters ("country")
    title: str      # the view's title ("Countries")
    one: str        # what one group is, shown beside its value ("Country")
    unknown: str    # the group of the drawings for which it is not known ("Unknown country")


#: The site's collection views, in the order of the menus: view -> facet.
FACETS = {f.view: f for f in (
    Facet("countries", "country", "country", N_("Countries"), N_("Country"), N_("Unknown country")),
    Facet("years", "year", "year", N_("Years"), N_("Year"), N_("Unknown year")),
    Facet("ages", "age_group", "age", N_("Age groups"), N_("Age group"), N_("Unknown age group")),
)}
#: The same facets by the drawing attribute they group on.
BY_FIELD = {f.field: f for f in FACETS.values()}
#: The archive's age groups in words (generator/inputs/collection.py AGE_GROUP_LABELS), for the catalogue.
_AGE_WORDS = (N_("3 to 5 years"), N_("6 to 9 years"), N_("10 to 13 years"), N_("14 to 17 years"),
              N_("18 to 25 years"), N_("medico-social institutions"))
#: The artist details an artwork page may show (artists.csv).
_ARTIST_DETAILS = (N_("Artist's years"), N_("Artist's nationality"), N_("Artist's genre"))


def facet_title(facet: str) -> str:
    """The title of a collection view in the site's language."""
    return _(FACETS[facet].title)


def facet_one(facet: str) -> str:
    """What one group of a collection view is ("Country"), in the site's language."""
    return _(FACETS[facet].one)


def artist_name(artist: str | None) -> str:
    return artist or _(UNKNOWN_ARTIST)


def age_group_label(group: str) -> str:
    """
    >>> age_group_label("MS")
    'MS (medico-social institutions)'
    """
    return f"{group} ({age_words(group)})"


def age_words(group: str) -> str:
    """An age group in words ("6 to 9 years"), in the site's language; the group itself where it has none."""
    words = AGE_GROUP_LABELS.get(group)
    return _(words) if words else group


#: country table -> {(language, code): name}: a page writer names the same 150 countries 100,000 times.
_COUNTRY_NAMES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def country_name(countries: CountryTable, code: str | None) -> str:
    if not code or code == UNKNOWN:
        return _(FACETS["countries"].unknown)
    names = _COUNTRY_NAMES.get(countries)
    if names is None:
        names = _COUNTRY_NAMES[countries] = {}
    key = (i18n.active(), code)
    name = names.get(key)
    if name is None:
        found = countries.lookup(code)
        name = names[key] = country(found.iso3, found.name) if found else countries.name(code)
    return name


def facet_key(d: Drawing, facet: str) -> str:
    """The group of ``d`` in a collection view: a country code, a year or a lower-case age group."""
    if facet == "countries":
        return d.country or UNKNOWN
    if facet == "years":
        return str(d.year) if d.year else UNKNOWN
    return d.age_group.lower() if d.age_group else UNKNOWN


def facet_label(countries: CountryTable, facet: str, key: str) -> str:
    """The name of a group of a collection view (``facet`` as in :data:`FACETS`)."""
    if key == UNKNOWN:
        return _(FACETS[facet].unknown)
    if facet == "countries":
        return country_name(countries, key)
    if facet == "ages":
        return age_group_label(key.upper() if key == "ms" else key)
    return key


def drawing_label(countries: CountryTable, d: Drawing, within: str | None = None) -> str:
    """"Drawing 1234, Germany, 2009"; ``within`` a country's or a year's list, that part is left out."""
    return drawing_labels(countries, (d,), within)[0]


def drawing_labels(countries: CountryTable, drawings, within: str | None = None) -> list[str]:
    """:func:`drawing_label` of each of ``drawings``, the words and the country names looked up once for all of
    them (a site labels 100,000 drawings several times over)."""
    template = _("Drawing %(number)s")
    names: dict[str | None, str] = {}
    out = []
    for d in drawings:
        if d.name is None:
            out.append(template % {"number": PurePosixPath(d.rel).stem})
            continue
        parts = [template % {"number": d.name.number}]
        if within != "countries":
            name = names.get(d.country)
            if name is None:
                name = names[d.country] = country_name(countries, d.country)
            if name:
                parts.append(name)
        if within != "years":
            year = str(d.year)
            if year:
                parts.append(year)
        out.append(", ".join(parts))
    return out


def artwork_label(a: Artwork) -> str:
    """An artwork named with its artist, as on the map."""
    return f"{a.title} ({artist_name(a.artist)})"


#: The digits ending an artwork's id (``vincent_van_gogh_12``).
_ID_NUMBER = re.compile(r"([0-9]+)$")


def spelt_title(item_id: str, artist: str | None) -> str | None:
    """The title the browser spells for an artwork (static/core/ids.js ``spellTitle``): the artist and the
    number ending its id, as the artworks' reader titles a picture named as "Best Artworks of All Time" names
    them (``Vincent_van_Gogh/Vincent_van_Gogh_12.jpg``) when no artworks.csv gives its title. The data files
    for the browser leave out a title that this spells (at a million artworks, tens of megabytes).

    >>> spelt_title("vincent_van_gogh_12", "Vincent van Gogh"), spelt_title("monet", "Claude Monet")
    ('Vincent van Gogh, no. 12', None)
    """
    m = _ID_NUMBER.search(item_id)
    return f"{artist}, no. {m.group(1)}" if m and artist else None


#: A drawing id named as the archive names its scans: year, age group, number, country[, variant].
_IMAJ_ID = re.compile(r"^(\d{4})_([^_]+)_([^_]+)_([A-Za-z]{3})(?:_[^_]+)?$")


def spelt_label(item_id: str, countries: dict[str, str]) -> str | None:
    """The label the browser spells from a drawing's id (static/core/ids.js, for the lists under a drawing, the
    search results and the map), or None where the id does not follow the archive's pattern. Where it differs from the site's label, the data files carry the site's label.

    >>> spelt_label("2009_14-17_1234_DEU_a", {"DEU": "Germany"}), spelt_label("scan 12", {})
    ('Drawing 1234, Germany, 2009', None)
    """
    m = _IMAJ_ID.match(item_id)
    if not m:
        return None
    year, _age, number, code = m.groups()
    return _("Drawing %(number)s, %(country)s, %(year)s") % {
        "number": number, "country": countries.get(code.upper(), code.upper()), "year": year}


def spelt_age_group(item_id: str) -> str | None:
    """The age group the browser reads from a drawing's id (static/core/ids.js) (None where the id does not follow the pattern).

    >>> spelt_age_group("2009_14-17_1234_DEU_a"), spelt_age_group("scan 12")
    ('14-17', None)
    """
    m = _IMAJ_ID.match(item_id)
    return m.group(2) if m else None
