"""The site's search page in headless Chromium: bytes of the index downloaded and time to the results.

    python benchmarks/bench_search.py --site DIR [--query TEXT ...] [--runs 3]

``--site`` is any built site (the demo, or the one ``bench_scale.py --stages build`` keeps under
``/tmp/sitegen-end-to-end-*/site``). It is served on 127.0.0.1; each run opens the search page with the query in
its address (``search/index.html?q=...``) in a fresh browser context (empty cache), and notes when the results are shown,
by the page's own clock (from the moment the page was asked for).
Without ``--query`` it asks what a visitor would: the first artist's name, the number of the first artwork and of
the first drawing, a country, and a two-digit number that starts many catalogue numbers. Reported per query
(median of the runs): the results found, the index files downloaded (how many, their bytes: the words' files
and the documents' files apart) and the time from asking for the page to the results shown. The count of results is
checked against the index files read in Python (the same format the page reads).
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import shutil
import statistics
import sys
import threading
from pathlib import Path

import click

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def python_count(folder: Path, query: str) -> int:
    """How many documents the index files list for every word of ``query`` (a token starting with the word)."""
    from generator.site import search
    from tests.helpers import js_payloads

    found = None
    for word in search.tokens(query):
        f = folder / f"t-{search.shard_key(word)}.js"
        hits = search.matching(next(iter(js_payloads(f).values())), word) if f.is_file() else set()
        found = hits if found is None else found & hits
    return len(found or ())


def default_queries(site: Path) -> list[str]:
    data = site / "data"
    queries = []
    artworks = data / "artworks.csv.gz"
    if artworks.is_file():
        with gzip.open(artworks, "rt", encoding="utf-8", newline="") as f:
            first = next(csv.DictReader(f), None)
        if first:
            queries += [first["artist"], first["id"].rsplit("_", 1)[-1]]
    with open(data / "drawings.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if rows:
        queries += [rows[0]["id"].split("_")[2], rows[len(rows) // 2]["country_name"]]
    return queries + ["14"]


_WATCH = """
window.__shownAt = null;
new MutationObserver(function () {
  var s = document.getElementById("search-status");
  if (window.__shownAt === null && s && s.textContent && s.textContent !== "Searching\u2026") {
    window.__shownAt = performance.now();
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def measure(browser, base: str, query: str) -> dict:
    from urllib.parse import quote

    context = browser.new_context()
    page = context.new_page()
    sizes: dict[str, int] = {}
    page.on("requestfinished", lambda r: _record(sizes, r))
    # when the results are shown, in milliseconds since the page was asked for (the page's own clock)
    page.add_init_script(_WATCH)
    page.goto(base + "search/index.html?q=" + quote(query), wait_until="load")
    page.wait_for_function("() => window.__shownAt !== null", timeout=120_000)
    took = page.evaluate("() => window.__shownAt") / 1000
    status = page.locator("#search-status").text_content()
    page.wait_for_load_state("networkidle")
    context.close()
    words = {k: v for k, v in sizes.items() if "/data/search/t-" in k}
    docs = {k: v for k, v in sizes.items() if "/data/search/docs-" in k}
    m = re.match(r"(\d[\d,]*) results?", status)
    return {"s": took, "results": int(m.group(1).replace(",", "")) if m else 0, "status": status,
            "word_files": len(words), "word_bytes": sum(words.values()),
            "doc_files": len(docs), "doc_bytes": sum(docs.values()),
            "meta_bytes": sum(v for k, v in sizes.items() if k.endswith("/data/search/meta.js"))}


def _record(sizes: dict, request) -> None:
    try:
        sizes[request.url] = request.sizes()["responseBodySize"]
    except Exception:  # the context closed while the event was delivered (after the measure)
        pass


@click.command()
@click.option("--site", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="A built site.")
@click.option("--query", "queries", multiple=True, help="A query (repeat for several); default: five typical ones.")
@click.option("--runs", default=3, show_default=True)
def main(site: Path, queries: tuple[str, ...], runs: int) -> None:
    from playwright.sync_api import sync_playwright

    from generator.publish.web import make_server
    from tests.conftest import CHROMIUM_ARGS

    folder = site / "data/search"
    n_docs = json.loads((folder / "meta.js").read_text(encoding="utf-8").split("=", 1)[1].rstrip(";\n"))["docs"]
    files = sorted(folder.glob("*.js"))
    print(f"{site}: {n_docs:,} documents; index {sum(f.stat().st_size for f in files) / 1e6:.2f} MB in "
          f"{len(files):,} files (words {sum(f.stat().st_size for f in files if f.name.startswith('t-')) / 1e6:.2f} "
          f"MB, documents {sum(f.stat().st_size for f in files if f.name.startswith('docs-')) / 1e6:.2f} MB)")
    server = make_server(site, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    print("| query | results (Python) | words' files | documents' files | meta | results shown after |")
    print("|---|---|---|---|---|---|")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        for query in queries or default_queries(site):
            got = [measure(browser, base, query) for _ in range(runs)]
            med = {k: statistics.median(r[k] for r in got) for k in got[0] if k != "status"}
            want = python_count(folder, query)
            each = ", ".join(f"{r['s']:.2f}" for r in got)
            print(f"| {query} | {med['results']:,.0f} ({want:,}{'' if med['results'] == want else ', DIFFERENT'}) | "
                  f"{med['word_files']:.0f}: {med['word_bytes'] / 1e3:.1f} KB | {med['doc_files']:.0f}: "
                  f"{med['doc_bytes'] / 1e3:.1f} KB | {med['meta_bytes'] / 1e3:.1f} KB | "
                  f"{med['s']:.2f} s ({each}) |")
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
