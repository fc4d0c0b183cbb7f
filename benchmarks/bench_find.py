"""The find page in headless Chromium: bytes downloaded and time to the first result.

    python benchmarks/bench_find.py --site DIR [--artworks 250000] [--dims 128] [--runs 3]

``--site`` is a built demo site (``sitegen demo /tmp/demo && sitegen build ...``), whose
find page, model and runtime are used as built. The page is measured twice: with the
demo's own index, and with a synthetic index of ``--artworks`` artworks (clustered
random unit vectors, projected on ``--dims`` axes and written by the real writer,
generator.site.findpage.write_index_files) put in place of the demo's in a copy of
the site. The site is served on 127.0.0.1; each run opens the page in a fresh
browser context (empty cache) and chooses a demo drawing as soon as the page's load
event has fired. Reported (median of the runs): bytes downloaded before the first
result (the runtime, the model, the index and the labels of the results; the page's
own HTML and CSS counted apart), the time from the load event to the first result,
and a second picture's time once everything is loaded.
Targets: model at most 5 MB; first result at most 3 s after the page has loaded.
"""

from __future__ import annotations

import csv
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import click
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def synthetic_index(site: Path, n: int, dims: int, grouped_from: int, seed: int = 0) -> None:
    """Replace the find page's index in ``site`` by one of ``n`` synthetic artworks."""
    import resource

    from generator.ml.findindex import AGREEMENT_QUERIES, AGREEMENT_TARGET, MEASURE_WORK, compact_index, \
        exact_top_sets, group_parts
    from generator.site.findpage import FIND_FOLDER, write_index_files
    from generator.site.output import SiteOutput

    manifest = json.loads((site / FIND_FOLDER / "index.json").read_text())
    dim = manifest["model"]["dim"]
    rng = np.random.default_rng(seed)
    # Like a network's vectors, the synthetic ones vary along fewer directions than they have numbers:
    # 500 clusters in a 96-dimensional space, mapped into the model's dimension, with a little noise.
    latent_centres = rng.standard_normal((500, 96), dtype=np.float32)
    mixing = rng.standard_normal((96, dim), dtype=np.float32) / np.sqrt(96)

    def draw(count: int) -> np.ndarray:
        out = np.empty((count, dim), np.float32)
        for lo in range(0, count, 65536):  # a block at a time: a million vectors are 5 GB, their drafts no more
            m = min(65536, count - lo)
            latent = latent_centres[rng.integers(0, 500, m)] + 0.7 * rng.standard_normal((m, 96), dtype=np.float32)
            v = latent @ mixing + 0.15 * rng.standard_normal((m, dim), dtype=np.float32)
            out[lo:lo + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
        return out
    started = time.perf_counter()
    # As many queries as the build measures agreement on for this many artworks.
    vectors, queries = draw(n), draw(max(1, min(AGREEMENT_QUERIES, MEASURE_WORK // n)))
    drawn = time.perf_counter()
    index = compact_index(vectors, queries, axes_tried=(dims,), target=0.0, grouped_from=n + 1)
    if n >= grouped_from:
        index = group_parts(index, queries, exact_top_sets(queries, vectors), AGREEMENT_TARGET)
    del vectors
    indexed = time.perf_counter()
    print(f"synthetic index: {index.dims} numbers per artwork keep {index.overlap:.1%} of the exact top 10 of "
          f"{index.queries} synthetic queries; {len(index.part_rows())} parts, a query reads {index.probe or 'all'}")
    for old in [*(site / FIND_FOLDER).glob("artworks-*"), *(site / FIND_FOLDER).glob("labels-*"),
                *(site / FIND_FOLDER).glob("centres.bin")]:
        old.unlink()
    rows = [[f"synthetic_{i}", f"Synthetic artwork {i}", "Nobody", "", "index.html", None] for i in range(n)]
    out = SiteOutput(site, title="bench", csp="")
    projection, manifest["artworks"] = write_index_files(out, index, rows)
    manifest["projection"].update(bytes=len(projection), dims=index.dims)
    (site / FIND_FOLDER / "index.json").write_text(json.dumps(manifest))
    written = time.perf_counter()
    print(f"(vectors drawn in {drawn - started:.0f} s; index made in {indexed - drawn:.0f} s, written in "
          f"{written - indexed:.0f} s; peak memory of this process "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB, of which the vectors "
          f"{n * dim * 4 / 1e6:,.0f} MB)")


def measure(browser, base: str, picture: Path, second: Path) -> dict:
    context = browser.new_context()
    page = context.new_page()
    sizes: dict[str, int] = {}
    page.on("requestfinished", lambda r: _record(sizes, r))
    page.goto(base + "find/index.html", wait_until="load")
    loaded = time.perf_counter()
    page.set_input_files("#find-file", str(picture))
    page.wait_for_function("() => document.getElementById('find-results').getAttribute('data-runs') === '1'",
                           timeout=120_000)
    first = time.perf_counter() - loaded
    page.wait_for_load_state("networkidle")  # every finished request reported
    before = dict(sizes)
    page.set_input_files("#find-file", str(second))
    page.wait_for_function("() => document.getElementById('find-results').getAttribute('data-runs') === '2'",
                           timeout=120_000)
    again = int(page.locator("#find-results").get_attribute("data-ms")) / 1000
    context.close()

    def part(test) -> int:
        return sum(v for k, v in before.items() if test(k))
    return {"first_s": first, "again_s": again,
            "runtime": part(lambda u: "/vendor/" in u), "model": part(lambda u: u.endswith("model.onnx")),
            "index": part(lambda u: u.endswith((".bin", "index.json"))),
            "part_bytes": part(lambda u: "/find/artworks-" in u),
            "projection": part(lambda u: u.endswith("/find/projection.bin")),
            "centres": part(lambda u: u.endswith("/find/centres.bin")),
            "manifest": part(lambda u: u.endswith("/find/index.json")),
            "parts": sum(1 for k in before if "/find/artworks-" in k),
            "label_files": sum(1 for k in before if "/find/labels-" in k),
            "labels": part(lambda u: "/find/labels-" in u),
            "page": part(lambda u: u.endswith((".html", ".css")) or "/static/find" in u or "search.js" in u)}


def _record(sizes: dict, request) -> None:
    try:
        sizes[request.url] = request.sizes()["responseBodySize"]
    except Exception:  # the context closed while the event was delivered (after the measure)
        pass


def run_case(name: str, site: Path, runs: int, pictures: list[Path]) -> None:
    from playwright.sync_api import sync_playwright

    from generator.publish.web import make_server
    from tests.conftest import CHROMIUM_ARGS

    server = make_server(site, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    manifest = json.loads((site / "find/index.json").read_text())
    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        for i in range(runs):
            results.append(measure(browser, base, pictures[i % len(pictures)], pictures[(i + 1) % len(pictures)]))
        browser.close()
    server.shutdown()
    med = {k: statistics.median(r[k] for r in results) for k in results[0]}
    n, dims = manifest["artworks"]["count"], manifest["projection"]["dims"]
    total = med["runtime"] + med["model"] + med["index"] + med["labels"]
    print(f"\n{name}: {n:,} artworks, {dims} numbers each ({runs} runs, median)")
    print(f"  downloaded before the first result: {total / 1e6:.2f} MB = runtime {med['runtime'] / 1e6:.2f} MB"
          f" + model {med['model'] / 1e6:.2f} MB + index {med['index'] / 1e6:.2f} MB"
          f" + labels of the results {med['labels'] / 1e6:.3f} MB (page itself {med['page'] / 1e3:.0f} kB)")
    print(f"  index: parts {med['part_bytes'] / 1e6:.2f} MB + projection {med['projection'] / 1e6:.2f} MB"
          f" + centres {med['centres'] / 1e6:.3f} MB + index.json {med['manifest'] / 1e6:.3f} MB;"
          f" labels: {med['label_files']:.0f} files")
    print(f"  index parts downloaded: {med['parts']:.0f} of {len(manifest['artworks']['parts'])}; "
          f"index bytes per 10,000 artworks: {10_000 * (2 * dims + 8) / 1e6:.2f} MB of codes "
          f"(+ {manifest['projection']['bytes'] / 1e6:.2f} MB projection, once)")
    print(f"  first result after the page's load event: {med['first_s']:.2f} s (target 3 s); "
          f"a second picture: {med['again_s']:.2f} s")


@click.command()
@click.option("--site", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="A built demo site (with its find page).")
@click.option("--artworks", default=250_000, show_default=True, help="Artworks in the synthetic index.")
@click.option("--dims", default=128, show_default=True, help="Numbers per artwork in the synthetic index.")
@click.option("--grouped-from", default=50_000, show_default=True,
              help="Group the synthetic index in parts of similar artworks from this size on (as the build does).")
@click.option("--runs", default=3, show_default=True)
def main(site: Path, artworks: int, dims: int, grouped_from: int, runs: int) -> None:
    if not (site / "find/index.json").is_file():
        raise click.ClickException(f"{site} has no find page: build it with the find page on (the default).")
    with open(site / "data/drawings.csv", newline="", encoding="utf-8") as f:
        drawings = list(csv.DictReader(f))
    pictures = sorted(Path(p) for p in _demo_pictures(site, drawings))
    if not pictures:
        raise click.ClickException("No demo drawing pictures were found next to the site's data.")
    model_bytes = (site / "find/model.onnx").stat().st_size
    print(f"Model file: {model_bytes / 1e6:.2f} MB (target 5 MB)")
    run_case("Demo site", site, runs, pictures)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "site"
        shutil.copytree(site, copy, symlinks=True)
        started = time.perf_counter()
        synthetic_index(copy, artworks, dims, grouped_from)
        print(f"\n(synthetic index of {artworks:,} artworks written in {time.perf_counter() - started:.0f} s)")
        run_case("Synthetic index", copy, runs, pictures)


def _demo_pictures(site: Path, drawings: list[dict]) -> list[Path]:
    """The demo's drawing pictures: the display pictures the site itself publishes (WebP)."""
    return [site / d["image"] for d in drawings[:6] if d.get("image") and (site / d["image"]).is_file()]


if __name__ == "__main__":
    main()
