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
