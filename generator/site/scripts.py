"""The site's scripts: each one joined from the shared browser core and its own source files.

The core's ``i18n.js`` carries the site's language: the build writes into its ``MESSAGES`` the translations of
the messages the script's sources pass to ``t()`` and ``tn()`` (found with Babel's JavaScript extractor, as
``pybabel extract`` finds them for the catalogue), and nothing in English.

The pages load ``static/<name>.js`` with plain ``<script>`` tags, which works from ``file://`` where no
module loader does. So the build writes each script as one file: the core (``static/core/*.js``: loading
files, making elements, the drawing ids, the search words, the data files' codes, addresses), then the
page's own source files, all inside one function so that nothing but what the page script itself sets
reaches the page's globals. The same sources always give the same bytes. The sources are not published;
``static/find-resize.js`` (also loaded by Node) and ``static/find-model.js`` (the find page's Web Worker) are
copied as they are: they need nothing of the core.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from babel.messages.extract import extract

#: The functions of static/core/i18n.js whose first arguments are messages (pybabel's keywords, see babel.cfg).
KEYWORDS = {"t": None, "tn": (1, 2)}
#: Where i18n.js receives its messages table.
MESSAGES_MARK = "/* messages */ {}"

#: The core's files under ``static/core/``, in the order they are joined.
CORE = ("i18n.js", "load.js", "dom.js", "ids.js", "text.js", "codes.js", "address.js")

#: Each script of the site -> its source files under ``static/`` (joined after the core, in this order).
SCRIPTS: dict[str, tuple[str, ...]] = {
    "cards.js": ("cards.js",),
    "overlay.js": ("overlay.js",),
    "discoveries.js": ("discoveries.js",),
    "find.js": ("find.js",),
    "map.js": ("map/data.js", "map/view.js", "map/webgl.js", "map/canvas2d.js", "map/tiles.js", "map/input.js", "map/address.js",
               "map/main.js"),
    "related.js": ("related.js",),
    "review.js": ("review.js",),
    "search.js": ("search.js",),
}

#: Scripts published as they are, without the core.
STANDALONE = ("find-resize.js", "find-model.js")

#: What under ``static/`` is there only to be joined or checked: never published as it is.
SOURCES = ("core", "map", *SCRIPTS)


def script_msgids(text: str) -> list[str | tuple[str, str]]:
    """The messages a script's source passes to t() and tn(), in order, each once."""
    found: list = []
    for _line, message, _comments, _context in extract("javascript", io.BytesIO(text.encode("utf-8")),
                                                        keywords=KEYWORDS):
        if message not in found:
            found.append(message)
    return found


def joined_script(static: Path, name: str, messages=None) -> str:
    """The text of the site's script ``name``, joined from the core and its sources under ``static``;
    ``messages(msgids)`` gives the messages table of i18n.js (none: the English site's empty one)."""
    parts = [f"/* static/{name} of the site, joined by its build from static/core/ ({', '.join(CORE)}) and "
             f"static/{', static/'.join(SCRIPTS[name])}. */\n(function () {{\n\"use strict\";\n"]
    texts = {rel: (static / rel).read_text(encoding="utf-8").replace("\r\n", "\n")
             for rel in [f"core/{c}" for c in CORE] + list(SCRIPTS[name])}
    table = messages(script_msgids("\n".join(texts.values()))) if messages else {}
    if table:
        texts["core/i18n.js"] = texts["core/i18n.js"].replace(
            MESSAGES_MARK, json.dumps(table, ensure_ascii=False, sort_keys=True), 1)
    for rel, text in texts.items():
        parts.append(f"\n/* ---- {rel} */\n{text.rstrip()}\n")
    parts.append("})();\n")
    return "".join(parts)


def joined_scripts(static: Path, messages=None) -> dict[str, str]:
    """Every joined script of the site (file name under ``static/``) -> its text (see :func:`joined_script`)."""
    return {name: joined_script(static, name, messages) for name in sorted(SCRIPTS)}
