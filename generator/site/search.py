"""A search index that works offline, from ``file://`` as well as from a web server.

Why not Pagefind? Its output was byte-identical on two runs when it was tried
here (``python -m pagefind --site DIR``), but its browser side loads the index with ``fetch()`` and WebAssembly:
``fetch()`` is refused on ``file://`` pages and WebAssembly needs the CSP to
allow ``'wasm-unsafe-eval'``. So the site carries its own small index instead,
made of ``.js`` files loaded with ``<script>`` tags:

``data/search/meta.js``
    ``window.SITEGEN_SEARCH_META``: number of documents, chunk size, shard names.
``data/search/t-<prefix>.js``
    every token starting with those two letters -> the numbers of the documents
    holding it (a visitor typing "monet" loads only ``t-mo.js``), as gaps, a run of documents one after the
    other as one negative number (see :func:`postings`); the numbers that one document alone holds (an
    artwork's catalogue number, a drawing's number) are listed apart by their count of digits, under ``"#6"``
    for six, two small numbers each (see :func:`number_pairs`).
``data/search/docs-NNN.js``
    the documents themselves, by chunks of 500: ``{"artists": [[name, id prefix]], "docs": [...]}``, each
    document its kind, label, detail, page; a drawing named as the archive names its scans by its id alone, an
    artwork by its id, title, artist and date, a row of one artist's artworks whose titles the browser
    spells by the rests of their ids alone, and a row of drawings by their ids; see :func:`doc_entry` and
    :func:`doc_chunk`.

The artworks come first, by artist and then by title: an artist's artworks are numbered one after the other,
so the words of the artist's name (and of the folder the pictures are in) cost one number each, not one for each
artwork, and a chunk names an artist once.

Tokens are folded (accents dropped, lower case) the same way in Python and in
the browser (``static/core/text.js``, checked against this module by the tests); a query matches the documents holding, for every word of
the query, a token that starts with that word.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections import defaultdict

from generator.fsutil import write_atomic
from generator.site.jsonout import artists_by_number, compact_year, js_assign, json_for_script
from generator.i18n import gettext as _
from generator.site.labels import FACETS, artist_name, facet_title
from generator.site.labels import spelt_age_group, spelt_label, spelt_title
from generator.site.urls import PAGE_FOLDERS, artwork_url, drawing_url, facet_index_url

SEARCH_SCHEMA_VERSION = 6
DOC_CHUNK = 500
_SPLIT = re.compile(r"[^\w-]+|_")
_SAFE_KEY = re.compile(r"^[a-z0-9]+$")
#: A whole number written as JavaScript writes it back (no leading zero, exact below 2**53).
_NUMBER = re.compile(r"0|[1-9][0-9]{0,14}")
#: A token of digits alone that JavaScript reads back exactly as a number and its count of digits.
_DIGITS = re.compile(r"[0-9]{1,15}")
#: What the keys begin with under which a shard lists the numbers held by one document each, followed by their
#: count of digits (never a token: tokens hold letters, digits and hyphens only).
NUMBERS_KEY = "#"


def fold(text: str) -> str:
    """Lower case without accents.

    >>> fold("Île-de-France École")
    'ile-de-france ecole'
    """
    text = str(text)
    if text.isascii():   # nothing to decompose (ids, numbers, most names)
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.category(ch).startswith("M")).lower()


def tokens(text: str) -> list[str]:
    """Index tokens: words, plus the parts of hyphenated words (so "14-17" and "17" both match).

    >>> tokens("2009_14-17_1234_DEU Van Gogh's Starry-Night")
    ['2009', '14-17', '14', '17', '1234', 'deu', 'van', 'gogh', 's', 'starry-night', 'starry', 'night']
    """
    out: list[str] = []
    for word in str(text).split():   # word by word: the same tokens (spaces separate them either way), and a
        out += _word_tokens(word)    # word met again (a country, a year) is not folded again
    return out


@functools.lru_cache(maxsize=1 << 16)
def _word_tokens(word: str) -> tuple[str, ...]:
    out = []
    for piece in _SPLIT.split(fold(word)):
        piece = piece.strip("-")
        if not piece:
            continue
        out.append(piece)
        if "-" in piece:
            out.extend(p for p in piece.split("-") if p)
    return tuple(out)


def shard_key(token: str) -> str:
    """The shard file (without ``t-`` and ``.js``) holding ``token``: its first two characters, made file-safe.

    >>> shard_key("monet"), shard_key("a"), shard_key("横浜"), shard_key("a-b")
    ('mo', 'a', 'u6a2a-u6d5c', 'u61-u2d')
    """
    key = token[:2]
    if _SAFE_KEY.match(key):
        return key
    return "-".join(f"u{ord(ch):x}" for ch in key)


def postings(numbers: list[int]) -> list[int]:
    """Sorted document numbers as the index stores them: the first number, then each one's difference from the
    previous one (a country's thousands of drawings cost two or three digits each instead of five or six); ``-k``
    stands for the next ``k`` documents one after the other (k >= 2: an artist's artworks, numbered in a row,
    cost one number). static/core/codes.js (``undoGaps``) reads them back.

    >>> postings([3, 4, 5, 6, 9, 10, 12, 13, 14])
    [3, -3, 3, 1, 2, -2]
    >>> postings([0, 1]), postings([5]), postings([])
    ([0, 1], [5], [])
    """
    out: list[int] = []
    prev, run = 0, 0
    for k, n in enumerate(numbers):
        gap = n - prev
        prev = n
        if k and gap == 1:
            run += 1
            continue
        if run:
            out.append(1 if run == 1 else -run)
            run = 0
        out.append(gap)
    if run:
        out.append(1 if run == 1 else -run)
    return out


def number_pairs(found: dict[str, int]) -> list[int]:
    """Numbers with the same count of digits that one document each holds (``{number: document}``), as a shard
    stores them under ``"#"`` followed by that count: by increasing number, the first number and its document,
    then for each next number its difference from the one before and its document's difference from the
    document before (negative when that document comes first). A million artworks numbered by their catalogue
    take half the bytes they would as tokens (``"140001":[5223],``); a number with zeros in front (``000090``)
    gets them back from the count of digits. static/core/codes.js (``undoNumbers``) reads them back.

    >>> number_pairs({"140001": 5223, "140002": 10222, "9": 3})
    [9, 3, 139992, 5220, 1, 4999]
    >>> number_pairs({})
    []
    """
    out: list[int] = []
    prev_number = prev_doc = 0
    for number, doc in sorted((int(tok), doc) for tok, doc in found.items()):
        out += [number - prev_number, doc - prev_doc]
        prev_number, prev_doc = number, doc
    return out


def undo_gaps(gaps: list[int]) -> list[int]:
    """Document numbers from :func:`postings`, as static/core/codes.js (``undoGaps``) reads them.

    >>> undo_gaps(postings([3, 4, 5, 6, 9, 10, 12, 13, 14]))
    [3, 4, 5, 6, 9, 10, 12, 13, 14]
    """
    out: list[int] = []
    n = 0
    for gap in gaps:
        if gap < 0:
            out += range(n + 1, n + 1 - gap)
            n -= gap
        else:
            n += gap
            out.append(n)
    return out


def undo_numbers(pairs: list[int], digits: int) -> list[tuple[str, int]]:
    """(number as written, document) from :func:`number_pairs`, as static/core/codes.js (``undoNumbers``) reads them.

    >>> undo_numbers(number_pairs({"000090": 7, "000012": 3}), 6)
    [('000012', 3), ('000090', 7)]
    """
    numbers, docs = itertools.accumulate(pairs[0::2]), itertools.accumulate(pairs[1::2])
    return [(str(n).zfill(digits), d) for n, d in zip(numbers, docs)]


def matching(table: dict[str, list[int]], word: str) -> set[int]:
    """The documents a shard lists for a word of a query: those holding a token that starts with it, as
    static/search.js (``matches``) finds them.

    >>> sorted(matching(build_index([{"text": "monet 0012"}, {"text": "mona"}, {"text": "rodin"}])[0]["mo"], "mon"))
    [0, 1]
    """
    found: set[int] = set()
    for tok, listed in table.items():
        if tok.startswith(NUMBERS_KEY):
            found.update(d for n, d in undo_numbers(listed, int(tok[1:])) if n.startswith(word))
        elif tok.startswith(word):
            found.update(undo_gaps(listed))
    return found


def build_index(docs: list[dict]) -> tuple[dict[str, dict[str, list[int]]], int]:
    """shard key -> {token: [document numbers, see :func:`postings`]} from documents carrying a ``text`` field;
    the numbers held by one document alone under ``"#"`` and their count of digits (see :func:`number_pairs`).

    >>> build_index([{"text": "b 12"}, {"text": "a b 12"}, {"text": "b 007 10 0010"}, {"text": "a"}])
    ({'00': {'#3': [7, 2], '#4': [10, 2]}, '10': {'#2': [10, 2]}, '12': {'12': [0, 1]}, 'a': {'a': [1, 2]}, 'b': {'b': [0, -2]}}, 6)
    """
    holding: dict[str, set[int]] = defaultdict(set)
    for n, doc in enumerate(docs):
        for tok in tokens(doc["text"]):
            holding[tok].add(n)
    shards: dict[str, dict[str, list[int]]] = defaultdict(dict)
    alone: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    for tok in sorted(holding):
        held = holding[tok]
        if len(held) == 1 and _DIGITS.fullmatch(tok):
            alone[shard_key(tok)].setdefault(f"{NUMBERS_KEY}{len(tok)}", {})[tok] = next(iter(held))
        else:
            shards[shard_key(tok)][tok] = postings(sorted(held))
    for key, by_digits in alone.items():
        for digits, found in sorted(by_digits.items()):
            shards[key][digits] = number_pairs(found)
    return {key: shards[key] for key in sorted(shards)}, len(holding)


def artwork_detail(artist: str, year: str | None) -> str:
    """The line under an artwork's title in the results (static/search.js spells the same).

    >>> artwork_detail("Claude Monet", "1899"), artwork_detail("Claude Monet", "")
    ('Artwork by Claude Monet, 1899', 'Artwork by Claude Monet')
    """
    return _("Artwork by %(artist)s") % {"artist": artist} + (f", {year}" if year else "")


def doc_entry(doc: dict, countries: dict[str, str]) -> list:
    """A document as the index stores it: ``[kind, label, detail, page]``, or ``["d", id]`` for a drawing whose
    label, detail and page the browser spells from its id (static/core/ids.js) (most of them: a tenth of the bytes),
    or ``["a", id, title, artist, date]`` for an artwork, whose detail and page the browser spells from those
    (a third fewer bytes: they count at a million artworks; :func:`doc_chunk` shortens them further).

    >>> doc_entry({"kind": "d", "id": "2009_14-17_1234_DEU", "label": "Drawing 1234, Germany, 2009",
    ...            "detail": "Age group 14-17", "url": "drawings/2009_14-17_1234_DEU/index.html"}, {"DEU": "Germany"})
    ['d', '2009_14-17_1234_DEU']
    >>> doc_entry({"kind": "a", "id": "monet_3", "label": "Water Lilies", "artist": "Claude Monet", "year": "1899",
    ...            "detail": "Artwork by Claude Monet, 1899", "url": "artworks/monet_3/index.html"}, {})
    ['a', 'monet_3', 'Water Lilies', 'Claude Monet', '1899']
    """
    if (doc["kind"] == "d" and doc["label"] == spelt_label(doc["id"], countries)
            and doc["detail"] == _("Age group %(group)s") % {"group": spelt_age_group(doc['id'])} and doc["url"] == drawing_url(doc["id"])):
        return ["d", doc["id"]]
    if (doc["kind"] == "a" and "artist" in doc and doc["detail"] == artwork_detail(doc["artist"], doc["year"])
            and doc["url"] == artwork_url(doc["id"])):
        return ["a", doc["id"], doc["label"], doc["artist"], doc["year"]]
    return [doc["kind"], doc["label"], doc["detail"], doc["url"]]


def doc_chunk(entries: list[list]) -> dict:
    """A file of documents: an artwork (``["a", id, title, artist, date]``) names its artist by number in the
    file's list of artists (``[name, id prefix]``, see jsonout.artists_by_number), its id without that prefix,
    ``0`` for a title the browser spells from the artist and id (labels.spelt_title) and a plain year as a
    number; artworks of one artist one after the other with such titles and no date are one row,
    ``["A", artist, rest, rest, ...]`` (a rest that is a whole number written as one; see :func:`expand_docs`):
    a collection named by its files (``Artist_Name_12.jpg``) then costs a few bytes an artwork; drawings stored
    by their ids alone one after the other are one row too, ``["D", id, id, ...]``.
    static/search.js puts them back.

    >>> doc_chunk([["a", "monet_3", "Water Lilies", "Claude Monet", "1899"], ["d", "2009_14-17_1234_DEU"],
    ...            ["a", "monet_12", "Claude Monet, no. 12", "Claude Monet", ""]])
    {'artists': [['Claude Monet', 'monet_']], 'docs': [['a', '3', 'Water Lilies', 0, 1899], ['d', '2009_14-17_1234_DEU'], ['a', '12', 0, 0, '']]}
    >>> doc_chunk([["a", f"monet_{n}", f"Claude Monet, no. {n}", "Claude Monet", ""] for n in (12, 3, "04")])["docs"]
    [['A', 0, 12, 3, '04']]
    """
    spelt = [k for k, e in enumerate(entries) if e[0] == "a" and len(e) == 5]
    artists, numbers, rest = artists_by_number([(entries[k][1], entries[k][3]) for k in spelt])
    out = list(entries)
    for k, number, id_rest in zip(spelt, numbers, rest):
        kind, item_id, title, artist, year = entries[k]
        title = 0 if title == spelt_title(item_id, artist) else title   # the browser spells it (labels.py)
        out[k] = [kind, id_rest, title, number, compact_year(year)]
    return {"artists": artists, "docs": _rows(out)}


def _row_key(doc: list) -> tuple | None:
    """What documents one after the other must share to be one row: an artwork whose title the browser spells and
    that has no date, by its artist's number; a drawing stored by its id alone."""
    if doc[0] == "a" and len(doc) == 5 and doc[2] == 0 and doc[4] == "":
        return ("A", doc[3])
    if doc[0] == "d" and len(doc) == 2:
        return ("D",)
    return None


def _rows(docs: list[list]) -> list[list]:
    """Documents one after the other with the same :func:`_row_key` (two or more) as one row: an artist's
    artworks ``["A", artist, rest, ...]``, drawings ``["D", id, ...]``; any other stays as it is.

    >>> _rows([["d", "2009_14-17_1234_DEU"], ["d", "2009_14-17_1235_DEU"], ["a", "3", 0, 1, ""]])
    [['D', '2009_14-17_1234_DEU', '2009_14-17_1235_DEU'], ['a', '3', 0, 1, '']]
    """
    out: list[list] = []
    for key, group in itertools.groupby(docs, key=_row_key):
        group = list(group)
        if key is None or len(group) < 2:
            out += group
        elif key[0] == "A":
            out.append(["A", key[1], *(int(d[1]) if _NUMBER.fullmatch(d[1]) else d[1] for d in group)])
        else:
            out.append(["D", *(d[1] for d in group)])
    return out


def expand_docs(docs: list[list]) -> list[list]:
    """A chunk's documents one by one, its rows (see :func:`doc_chunk`) undone, as static/core/codes.js
    (``expandDocs``) reads them.

    >>> expand_docs([["A", 0, 12, "04"], ["D", "2009_14-17_1234_DEU", "2009_6-9_7_FRA"]])
    [['a', '12', 0, 0, ''], ['a', '04', 0, 0, ''], ['d', '2009_14-17_1234_DEU'], ['d', '2009_6-9_7_FRA']]
    """
    out: list[list] = []
    for doc in docs:
        if doc[0] == "A":
            out += [["a", str(rest), 0, doc[1], ""] for rest in doc[2:]]
        elif doc[0] == "D":
            out += [["d", item_id] for item_id in doc[1:]]
        else:
            out.append(doc)
    return out


def write_index(out, docs: list[dict], countries: dict[str, str] | None = None) -> list[str]:
    """Write ``out/data/search/*``; returns the paths written, relative to ``out``. ``countries`` (code -> name)
    lets drawing documents be stored by id alone (see doc_entry)."""
    countries = countries or {}
    folder = out / "data" / "search"
    shards, _sizes = build_index(docs)
    files = []
    for key, table in sorted(shards.items()):
        write_atomic(folder / f"t-{key}.js", js_assign("SITEGEN_SEARCH", key, table))
        files.append(f"data/search/t-{key}.js")
    n_chunks = (len(docs) + DOC_CHUNK - 1) // DOC_CHUNK
    for c in range(n_chunks):
        chunk = doc_chunk([doc_entry(d, countries) for d in docs[c * DOC_CHUNK:(c + 1) * DOC_CHUNK]])
        write_atomic(folder / f"docs-{c:03d}.js", js_assign("SITEGEN_SEARCH_DOCS", c, chunk))
        files.append(f"data/search/docs-{c:03d}.js")
    meta = {"schema_version": SEARCH_SCHEMA_VERSION, "docs": len(docs), "doc_chunk": DOC_CHUNK,
            "shards": sorted(shards), "countries": countries, "drawings": PAGE_FOLDERS["d"],
            "artworks": PAGE_FOLDERS["a"]}
    write_atomic(folder / "meta.js", "window.SITEGEN_SEARCH_META=" + json_for_script(meta) + ";\n")
    return ["data/search/meta.js"] + files


def site_documents(ctx) -> list[dict]:
    """Artworks first (by artist, then title), then drawings (by id): what a visitor can find, and the words that
    find it."""
    s = ctx.site
    docs = []
    for a in sorted(s.artworks, key=lambda a: (fold(artist_name(a.artist)), artist_name(a.artist), fold(a.title), a.id)):
        artist = artist_name(a.artist)
        docs.append({"kind": "a", "id": a.id, "label": a.title, "artist": artist, "year": a.year or "",
                     "detail": artwork_detail(artist, a.year), "url": artwork_url(a.id),
                     "text": " ".join(str(v) for v in (a.title, artist, a.year or "", a.id, a.rel))})
    for d in sorted(s.drawings, key=lambda d: d.id):
        country = ctx.country_name(d.country) if d.country else ""
        parts = [d.id, d.rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]]
        if d.name:
            parts += [d.name.number, d.country or "", country, str(d.year), d.age_group or ""]
        # The label names the number, country and year; the detail adds only what it lacks.
        detail = (_("Age group %(group)s") % {"group": d.age_group} if d.age_group
                  else _("File %(rel)s") % {"rel": d.rel.rsplit('/', 1)[-1]})
        docs.append({"kind": "d", "id": d.id, "label": ctx.drawing_card(d)["label"], "detail": detail, "url": drawing_url(d.id),
                     "text": " ".join(parts)})
    return docs


#: The search folder's line on the data page.
SEARCH_FILES = [{"name": "search/", "what": "The search index used by the search page (JavaScript files, "
                                          "one per two first letters of a word)."}]


def write_search(ctx, out) -> None:
    """The search index and page."""
    docs = site_documents(ctx)
    write_index(out.root, docs, {d.country: ctx.country_name(d.country) for d in ctx.site.drawings if d.country})
    out.page("search.html", "search/index.html", title="Search", n_docs=len(docs),
             facets=[(facet_title(facet), facet_index_url(facet)) for facet in FACETS])
