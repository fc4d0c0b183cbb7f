"""The site's scripts: each one joined from the shared browser core and its own source files.

The pages load ``static/<name>.js`` with plain ``<script>`` tags, which works from ``file://`` where no
module loader does. So the build writes each script as one file: the core (``static/core/*.js``: loading
files, making elements, the drawing ids, the search words, the data files' codes, addresses), then the
page's own source files, all inside one function so that nothing but what the page script itself sets
reaches the page's globals. The same sources always give the same bytes. The sources are not published;
``static/find-resize.js`` is copied as it is (it is also loaded by Node, and needs nothing of the core).
"""

from __future__ import annotations

from pathlib import Path

#: The core's files under ``static/core/``, in the order they are joined.
CORE = ("load.js", "dom.js", "ids.js", "text.js", "codes.js", "address.js")

#: Each script of the site -> its source files under ``static/`` (joined after the core, in this order).
SCRIPTS: dict[str, tuple[str, ...]] = {
    "cards.js": ("cards.js",),
    "overlay.js": ("overlay.js",),
    "discoveries.js": ("discoveries.js",),
    "find.js": ("find.js",),
    "map.js": ("map/data.js", "map/view.js", "map/webgl.js", "map/canvas2d.js", "map/input.js", "map/address.js",
               "map/main.js"),
    "related.js": ("related.js",),
    "review.js": ("review.js",),
    "search.js": ("search.js",),
}

#: Scripts published as they are, without the core.
STANDALONE = ("find-resize.js",)

#: What under ``static/`` is there only to be joined or checked: never published as it is.
SOURCES = ("core", "map", *SCRIPTS)


def joined_script(static: Path, name: str) -> str:
    """The text of the site's script ``name``, joined from the core and its sources under ``static``."""
    parts = [f"/* static/{name} of the site, joined by its build from static/core/ ({', '.join(CORE)}) and "
             f"static/{', static/'.join(SCRIPTS[name])}. */\n(function () {{\n\"use strict\";\n"]
    for rel in [f"core/{c}" for c in CORE] + list(SCRIPTS[name]):
        text = (static / rel).read_text(encoding="utf-8").replace("\r\n", "\n")
        parts.append(f"\n/* ---- {rel} */\n{text.rstrip()}\n")
    parts.append("})();\n")
    return "".join(parts)


def joined_scripts(static: Path) -> dict[str, str]:
    """Every joined script of the site (file name under ``static/``) -> its text."""
    return {name: joined_script(static, name) for name in sorted(SCRIPTS)}
