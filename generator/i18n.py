"""The site's language: its gettext catalogue, its numbers, its country names, and the messages of its scripts.

Every text the site shows is written in English in the templates (``{% trans %}``, ``_()``), in the page
writers (:func:`gettext`) and in the browser scripts (``t()``, ``tn()`` in ``static/core/i18n.js``). The
English text is the message id; a language is one catalogue,
``generator/locale/<lang>/LC_MESSAGES/sitegen.po``, read (and compiled in memory) when a build uses it.
English needs no catalogue: its messages are the ids, and its numbers are written as they always were
(``1234``), so an English site is the same byte for byte as before the site could speak other languages.

One build renders one language: :func:`activate` sets it before the first page is written (forked render
workers inherit it), and everything here follows it.
"""

from __future__ import annotations

import contextlib
import functools
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from babel import Locale
from babel.core import get_global
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from jinja2 import pass_context
from markupsafe import Markup

from generator.settings import LOCALE_DIR, DOMAIN, available_languages

__all__ = ["Language", "activate", "active", "gettext", "ngettext", "number", "country", "script_messages",
           "available_languages", "LOCALE_DIR", "DOMAIN", "N_"]


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is defined; it is translated where it is shown."""
    return message


#: The default title of the site (settings.BuildSettings.title), for the catalogue: a title of one's own is
#: shown as it is given.
DEFAULT_TITLE = N_("Children's drawings and the artworks they re-create")


@dataclass(frozen=True)
class Language:
    code: str
    translations: NullTranslations

    @property
    def english(self) -> bool:
        return self.code == "en"


def catalogue_path(code: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.lru_cache(maxsize=None)
def load(code: str) -> Language:
    """The language ``code``: English (no catalogue) or one of :func:`available_languages`."""
    if code == "en":
        return Language("en", NullTranslations())
    if code not in available_languages():
        raise ValueError(f"no catalogue for language {code!r} (have: {', '.join(available_languages())})")
    with catalogue_path(code).open("rb") as f:
        catalog = read_po(f, locale=code, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)   # fuzzy entries are never shown (and the catalogue test refuses them)
    buf.seek(0)
    return Language(code, Translations(buf, domain=DOMAIN))


_active: Language = load("en")


def language_name(code: str) -> str:
    """A language's name in that language, as a link to it reads: "English", "Français".

    >>> language_name("fr"), language_name("en")
    ('Français', 'English')
    """
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def activate(code: str) -> Language:
    global _active
    _active = load(code)
    return _active


def active() -> Language:
    return _active


@contextlib.contextmanager
def restored():
    """Whatever a block activates, the language active before it is active again after it (a build in French
    leaves the process speaking as it found it)."""
    before = _active
    try:
        yield
    finally:
        activate(before.code)


def gettext(message: str) -> str:
    return _active.translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _active.translations.ngettext(singular, plural, n)


def number(value) -> str:
    """A whole number as the language writes it: ``1234`` in English (as the site always did), ``1 234`` in
    French (with the narrow no-break space Babel gives).

    >>> number(1234), load("fr") and activate("fr") and number(1234), activate("en") and number(1234)
    ('1234', '1\\u202f234', '1234')
    """
    if _active.english or isinstance(value, bool) or not isinstance(value, int):
        return str(value)
    return format_decimal(value, locale=_active.code)


def grouped(n: int) -> str:
    """A whole number with its thousands marked: ``1,234`` in English, ``1 234`` in French.

    >>> grouped(1234)
    '1,234'
    """
    if _active.english:
        return f"{n:,}"
    return format_decimal(n, locale=_active.code)


def collate(text: str) -> str:
    """A key that sorts names as the language's readers expect: as they are in English (the order the site always
    had); elsewhere with accents set aside ("Égypte" among the E, not after "Zimbabwe").

    >>> activate("fr") and sorted(["Zambie", "Égypte", "Bénin", "Burundi"], key=collate)
    ['Bénin', 'Burundi', 'Égypte', 'Zambie']
    >>> activate("en") and None
    """
    if _active.english:
        return text
    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()
    return f"{folded}\x00{text}"


def file_size(n: int) -> str:
    """A file's size in plain words: ``12.3 kB`` in English (as datapackage.human_size, which the data page
    always used), ``12,3 ko`` in French.

    >>> file_size(12_345), activate("fr") and file_size(12_345), activate("fr") and file_size(512)
    ('12.3 kB', '12,3\xa0ko', '512\xa0octets')
    >>> activate("en") and None
    """
    if n < 1000:
        return f"{n} bytes" if _active.english else gettext("%(n)s bytes") % {"n": number(n)}
    value, unit = n / 1000, N_("kB")
    for bigger in (N_("MB"), N_("GB"), N_("TB")):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{value:.1f} {unit}" if _active.english else f"{decimal(value, 1)}\xa0{gettext(unit)}"


def ordinal(n: int) -> str:
    """A rank in words of figures: ``1st``, ``2nd`` in English; ``1er``, ``2e`` in French; the number elsewhere.

    >>> [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 21)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '21st']
    >>> activate("fr") and [ordinal(n) for n in (1, 2)]
    ['1er', '2e']
    >>> activate("en") and None
    """
    if _active.english:
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix}"
    if _active.code == "fr":
        return "1er" if n == 1 else f"{number(n)}e"
    return number(n)


@functools.lru_cache(maxsize=None)
def _territories(code: str) -> dict[str, str]:
    return dict(Locale.parse(code).territories)


def country(iso3: str | None, english: str) -> str:
    """A country's name in the active language, from its ISO alpha-3 code (Babel's territory names);
    ``english`` (the country table's name) in English, or where the code has no name in Babel.

    >>> activate("fr") and (country("DEU", "Germany"), country("LBN", "Lebanon"), country(None, "Yugoslavia"))
    ('Allemagne', 'Liban', 'Yugoslavia')
    >>> activate("en") and country("DEU", "Germany")
    'Germany'
    """
    if _active.english or not iso3:
        return english
    alpha2 = get_global("territory_aliases").get(iso3.upper())
    names = _territories(_active.code)
    if alpha2 and alpha2[0] in names:
        return names[alpha2[0]]
    return gettext(english)


# ---------------------------------------------------------------- templates

def _format(variables: dict) -> dict:
    return {k: number(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in variables.items()}


@pass_context
def template_gettext(__context, __string: str, **variables) -> str:
    """Jinja2's new-style gettext, with whole numbers written as the language writes them."""
    rv = gettext(__string)
    if __context.eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % _format(variables)


@pass_context
def template_ngettext(__context, __singular: str, __plural: str, __num: int, **variables) -> str:
    variables.setdefault("num", __num)
    rv = ngettext(__singular, __plural, __num)
    if __context.eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % _format(variables)


def install(env) -> None:
    """Give a Jinja2 environment (with ``jinja2.ext.i18n``) the active language."""
    env.newstyle_gettext = True
    env.globals.update(gettext=template_gettext, _=template_gettext, ngettext=template_ngettext)
    env.globals["lang"] = _active.code
    env.filters["num"] = number
    env.filters["decimal"] = decimal
    env.filters["sim"] = lambda v: decimal(float(v), 3)


def decimal(value: float, digits: int) -> str:
    """A number with ``digits`` decimals, as the language writes it (``0.125`` in English, ``0,125`` in French).

    >>> decimal(0.1254, 3), activate("fr") and decimal(1234.5, 1), activate("en") and decimal(2.0, 1)
    ('0.125', '1\u202f234,5', '2.0')
    """
    if _active.english:
        return f"{value:.{digits}f}"
    return format_decimal(round(value, digits), format="#,##0." + "0" * digits, locale=_active.code,
                          decimal_quantization=True)


# ---------------------------------------------------------------- scripts

def script_messages(msgids: list[str | tuple[str, str]]) -> dict:
    """The messages table the joined scripts read (static/core/i18n.js): message id -> translation, or, for
    a message with plural forms, its singular id -> the catalogue's forms. ``"__plural__"`` names, for each
    form in order, the CLDR category (``Intl.PluralRules`` in the browser) of the smallest number the
    catalogue gives that form; a number of a category not listed takes the last form. Empty in English:
    the scripts show the ids."""
    if _active.english:
        return {}
    catalog = _active.translations
    plural_of = catalog.plural
    rule = Locale.parse(_active.code).plural_form
    found: dict[int, str] = {}
    for n in [*range(0, 1001), 10**6, 10**9]:
        found.setdefault(int(plural_of(n)), rule(n))
    categories = [found.get(i, "other") for i in range(max(found) + 1)]
    table: dict = {"__plural__": categories}
    for m in msgids:
        if isinstance(m, tuple):
            forms = [catalog._catalog.get((m[0], i)) for i in range(len(categories))]
            if all(forms):
                table[m[0]] = forms
        else:
            text = gettext(m)
            if text != m:
                table[m] = text
    return dict(sorted(table.items()))
