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
    """The projection, the artworks' codes in parts (see ``contracts.CompactIndex``) and their labels
    (LABEL_ROWS a file: only the files of the results are downloaded); the projection's bytes and the
    ``artworks`` entry of ``index.json``."""
    projection = index.projection_bytes()
    write_atomic(out.root / FIND_FOLDER / "projection.bin", projection)
    parts = []
    for n, members in enumerate(index.part_rows()):
        data = index.chunk_bytes(members)
        write_atomic(out.root / FIND_FOLDER / f"artworks-{n:04d}.bin", data)
        parts.append({"vectors": f"artworks-{n:04d}.bin", "rows": len(members), "bytes": len(data)})
    entry = {"count": len(rows), "parts": parts, "probe": index.probe or len(parts), "centres": None,
             "labels": "labels-{n}.json", "label_rows": LABEL_ROWS, "label_digits": 4}
    if index.centres is not None:
        write_atomic(out.root / FIND_FOLDER / "centres.bin", index.centres.astype("<f4").tobytes())
        entry["centres"] = "centres.bin"
    for n, lo in enumerate(range(0, len(rows), LABEL_ROWS)):
        out.write_json(f"{FIND_FOLDER}labels-{n:04d}.json",
                       {"columns": ["id", "title", "artist", "year", "page", "thumbnail"],
                        "rows": rows[lo:lo + LABEL_ROWS]})
    return projection, entry


def _row(card: dict) -> list:
    return [card["id"], card["title"], card["artist"], card["year"], card["url"], card["thumb"]]
