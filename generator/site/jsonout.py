"""How the site writes JSON: the data files' ``schema_version`` and JSON that is safe inside a script."""

from __future__ import annotations

import json

#: Raised whenever the layout of a data/*.json file changes.
SCHEMA_VERSION = 1


def data_json_text(payload: dict) -> str:
    """A data file: ``schema_version`` first among sorted keys, compact, UTF-8 text."""
    payload = {"schema_version": SCHEMA_VERSION, **payload}
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def json_for_script(value) -> str:
    """JSON that is safe inside a <script> element: '<', '>' and '&' cannot close the tag.

    >>> json_for_script({"t": "</script>"})
    '{"t":"\\\\u003c/script\\\\u003e"}'
    """
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def js_assign(global_name: str, key, value) -> str:
    """``(window.G = window.G || {})[key] = value;`` with JSON safe inside a script."""
    return (f"(window.{global_name}=window.{global_name}||{{}})[{json_for_script(key)}]="
            f"{json_for_script(value)};\n")


def compact_year(year: str | None) -> str | int:
    """A date as a data file for the browser holds it: a plain year as a number (two bytes fewer), any other text
    as it is; the browser writes either the same way.

    >>> compact_year("1899"), compact_year("c. 1890"), compact_year(None), compact_year("0800")
    (1899, 'c. 1890', '', '0800')
    """
    year = year or ""
    return int(year) if year.isascii() and year.isdigit() and len(year) <= 4 and year[0] != "0" else year


def artists_by_number(rows: list[tuple[str, str]]) -> tuple[list[list[str]], list[int], list[str]]:
    """For the artworks of one data file, ``(id, artist)`` each: the file's artists, each ``[name, prefix]``
    with ``prefix`` what the ids of that artist's artworks there begin with; each artwork's artist as a number
    in that list; each id without that prefix. Artists' names once a file rather than once an artwork, and
    ids that repeat the artist's name (``vincent_van_gogh_12``) cut short: at a million artworks each byte
    of an artwork's entry is a megabyte. The browser puts the prefix back in front of the rest.

    >>> artists_by_number([("monet_3", "Claude Monet"), ("rodin_1", "Rodin"), ("monet_12", "Claude Monet")])
    ([['Claude Monet', 'monet_'], ['Rodin', 'rodin_1']], [0, 1, 0], ['3', '', '12'])
    """
    number: dict[str, int] = {}
    prefix: list[str] = []
    for item_id, artist in rows:
        if artist not in number:
            number[artist] = len(prefix)
            prefix.append(item_id)
        else:
            k, p = number[artist], prefix[number[artist]]
            n = 0
            while n < min(len(p), len(item_id)) and p[n] == item_id[n]:
                n += 1
            prefix[k] = p[:n]
    numbers = [number[artist] for _, artist in rows]
    rest = [item_id[len(prefix[k]):] for (item_id, _), k in zip(rows, numbers)]
    return [[name, prefix[k]] for name, k in number.items()], numbers, rest
