"""The find page: a visitor's own picture, compared with the artworks in the browser.

Written only when the build exported the model (``SiteData.browser_model``) and made the artworks'
compact index (``SiteData.find_index``). The
page downloads ``find/index.json``, then the model, the projection and the parts of
the artworks' index; its scripts are ``static/find.js`` (the page) and
``static/find-resize.js`` (the picture resized exactly as the Python pipeline
does). ONNX Runtime Web, vendored under ``static/vendor/``, runs the model; it is
copied into the site only with this page.
"""

from __future__ import annotations

import shutil

import numpy as np

from generator.fsutil import write_atomic
from generator.contracts import CompactIndex
from generator.site.context import SiteContext
from generator.i18n import gettext as _
from generator.site.output import SiteOutput, asset_dir
from generator.site.urls import FIND_FOLDER, FIND_PAGE, FIND_RUNTIME

SCHEMA_VERSION = 1

#: WebAssembly is compiled by the browser, which a strict policy forbids unless it names 'wasm-unsafe-eval'
#: (it allows WebAssembly only, not JavaScript's eval).
WASM_SCRIPT_SRC = "script-src 'self' 'wasm-unsafe-eval'"

#: Artworks per file of labels (title, artist, page): the page downloads only the files of its results.
LABEL_ROWS = 512
#: The same when the index is grouped: a query's results come from a few parts of similar artworks, and labels
#: follow the parts, so smaller files hold them (a million artworks: a few files of 64 rows, not ten of 512).
GROUPED_LABEL_ROWS = 64

#: Pictures with more pixels than this are refused by the page before decoding (a phone photo has 12 to 50 MP).
MAX_MEGAPIXELS = 60


def find_page_csp(csp: str) -> str:
    """The site's policy with WebAssembly allowed for scripts; connect-src named 'self' (the picture never leaves
    the browser), everything else unchanged."""
    if not csp.startswith("default-src 'self';") or "script-src" in csp or "connect-src" in csp:
        raise AssertionError(f"the site's policy is not the one this page extends: {csp}")
    return csp.replace("default-src 'self';", f"default-src 'self'; {WASM_SCRIPT_SRC}; connect-src 'self';", 1)


def write_find_page(ctx: SiteContext, out: SiteOutput) -> None:
    s = ctx.site
    model = s.browser_model
    index = s.find_index
    if model is None or index is None:
        return
    if not out.shared:   # a language's folder uses the runtime at the top of the site (14 to 27 MB)
        runtime = asset_dir("static") / "vendor" / "onnxruntime-web"
        shutil.copytree(runtime, out.root / FIND_RUNTIME, dirs_exist_ok=True)
    write_atomic(out.root / FIND_FOLDER / "model.onnx", model.onnx)
    projection, artworks = write_index_files(out, index, [_row(card) for card in ctx.a_cards])
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "model": {"file": "model.onnx", "bytes": len(model.onnx), "input_size": model.input_size, "dim": model.dim,
                  "name": s.model_name, "checked_on": model.samples, "top10_agreement": round(model.overlap, 4),
                  "lowest_cosine": round(model.min_cosine, 4)},
        "projection": {"file": "projection.bin", "bytes": len(projection), "dims": index.dims,
                       "checked_on": index.queries, "top10_agreement": round(index.overlap, 4)},
        "artworks": artworks,
        "max_megapixels": MAX_MEGAPIXELS,
    }
    out.write_json(f"{FIND_FOLDER}index.json", manifest)
    index_bytes = sum(c["bytes"] for c in artworks["parts"]) + len(projection)
    out.page("find.html", FIND_PAGE, title=_("Find the artwork behind a drawing"), page_csp=find_page_csp(ctx.csp),
             n_artworks=len(s.artworks), model_mb=len(model.onnx) / 1e6, index_mb=index_bytes / 1e6,
             model_name=s.model_name, model_samples=model.samples, model_overlap=model.overlap,
             index_overlap=index.overlap, index_queries=index.queries,
             dims=index.dims, input_size=model.input_size, runtime=out.shared + FIND_RUNTIME,
             max_megapixels=MAX_MEGAPIXELS)


def write_index_files(out: SiteOutput, index: CompactIndex, rows: list[list]) -> tuple[bytes, dict]:
    """The projection, the artworks' codes in parts (see ``contracts.CompactIndex``) and their labels; the
    projection's bytes and the ``artworks`` entry of ``index.json``.

    Labels follow the parts: the artworks of part 0, then of part 1..., ``label_rows`` a file, so that the
    page downloads only the files of its results, and those come from the few parts it read. Below
    GROUPED_FROM artworks the parts hold the artworks in the site's order, and so do the labels."""
    projection = index.projection_bytes()
    write_atomic(out.root / FIND_FOLDER / "projection.bin", projection)
    members_of = index.part_rows()
    digits = max(4, len(str(len(members_of) - 1)))
    parts = []
    for n, members in enumerate(members_of):
        data = index.chunk_bytes(members)
        name = f"artworks-{n:0{digits}d}.bin"
        write_atomic(out.root / FIND_FOLDER / name, data)
        parts.append({"vectors": name, "rows": len(members), "bytes": len(data)})
    label_rows = LABEL_ROWS if index.centres is None else GROUPED_LABEL_ROWS
    n_files = -(-len(rows) // label_rows)
    label_digits = max(4, len(str(n_files - 1)))
    entry = {"count": len(rows), "parts": parts, "probe": index.probe or len(parts), "centres": None,
             "labels": "labels-{n}.json", "label_rows": label_rows, "label_digits": label_digits}
    if index.centres is not None:
        write_atomic(out.root / FIND_FOLDER / "centres.bin", index.centres.astype("<f4").tobytes())
        entry["centres"] = "centres.bin"
    order = np.concatenate(members_of).tolist() if members_of else []
    for n in range(n_files):
        out.write_json(f"{FIND_FOLDER}labels-{n:0{label_digits}d}.json",
                       {"columns": ["id", "title", "artist", "year", "page", "thumbnail"],
                        "rows": [rows[i] for i in order[n * label_rows:(n + 1) * label_rows]]})
    return projection, entry


def _row(card: dict) -> list:
    return [card["id"], card["title"], card["artist"], card["year"], card["url"], card["thumb"]]
