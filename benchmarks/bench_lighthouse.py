"""Lighthouse's scores of the demo site's main pages, in English and in French.

    python benchmarks/bench_lighthouse.py [--site DIR] [--lighthouse PATH]

Without ``--site``, the demo collection is generated and built with ``--languages en,fr`` in a
temporary folder. The site is served on 127.0.0.1 (generator.publish.web.make_server) and
Lighthouse 12.2.3 (desktop preset, headless Chromium) scores the home page, a drawing, an
artwork, the map and the find page in both languages. Lighthouse is the one named by
``--lighthouse``, else ``node_modules/.bin/lighthouse`` here, else ``npx lighthouse@12.2.3``
(12.2.3: later versions need Node 22). Chromium is found on the PATH (or CHROME_PATH).
Printed: accessibility, best practices, SEO and performance (0 to 100), with the layout shift
(CLS) and the main thread's blocked time (TBT). Targets: accessibility, best practices and SEO
at least 95; performance at least 90.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import click

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

LIGHTHOUSE_VERSION = "12.2.3"
CATEGORIES = ("accessibility", "best-practices", "seo", "performance")
TARGETS = {"accessibility": 95, "best-practices": 95, "seo": 95, "performance": 90}


def build_demo(work: Path) -> Path:
    from generator.demo.collection import write_demo
    from generator.pipeline.stages import build
    from generator.settings import BuildSettings

    demo = work / "demo"
    write_demo(demo)
    settings = BuildSettings(drawings=demo / "drawings", artworks=demo / "artworks",
                             artworks_csv=demo / "artworks.csv", pairs=demo / "pairs.csv",
                             out=work / "site", cache=work / ".sitegen-cache", languages="en,fr")
    build(settings)
    return settings.out


def pages(site: Path) -> list[tuple[str, str, str]]:
    """(page, language, address relative to the site) of the pages scored."""
    drawing = sorted(site.glob("drawings/*/index.html"))[0].relative_to(site).as_posix()
    artwork = sorted(site.glob("artworks/*/index.html"))[0].relative_to(site).as_posix()
    chosen = [("home", "index.html"), ("drawing", drawing), ("artwork", artwork), ("map", "map/index.html"),
              ("find", "find/index.html")]
    rows = []
    for lang, prefix in (("en", ""), ("fr", "fr/")):
        for name, rel in chosen:
            if (site / prefix / rel).is_file():
                rows.append((name, lang, prefix + rel))
    return rows


def lighthouse_command(given: str | None) -> list[str]:
    if given:
        return [given]
    local = REPO / "node_modules" / ".bin" / "lighthouse"
    if local.exists():
        return [str(local)]
    return ["npx", "--yes", f"lighthouse@{LIGHTHOUSE_VERSION}"]


def chromium() -> str:
    for name in (os.environ.get("CHROME_PATH"), "chromium", "chromium-browser", "google-chrome"):
        path = name and shutil.which(name)
        if path:
            return path
    raise click.ClickException("Chromium is not installed (apt-get install chromium), or set CHROME_PATH")


def score(command: list[str], url: str, chrome: str) -> dict:
    proc = subprocess.run(command + [url, "--preset=desktop", "--chrome-flags=--headless=new --no-sandbox",
                                     "--only-categories=" + ",".join(CATEGORIES), "--output=json",
                                     "--output-path=stdout", "--quiet"],
                          capture_output=True, text=True, timeout=600, env={**os.environ, "CHROME_PATH": chrome})
    if proc.returncode != 0 or not proc.stdout.strip():
        raise click.ClickException(f"Lighthouse failed on {url}: {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    row = {c: round(100 * (report["categories"][c]["score"] or 0)) for c in CATEGORIES}
    audits = report["audits"]
    row["cls"] = audits["cumulative-layout-shift"].get("numericValue", float("nan"))
    row["tbt"] = audits["total-blocking-time"].get("numericValue", float("nan"))
    row["failed"] = sorted(a for c in CATEGORIES if c != "performance"
                           for a in (r["id"] for r in report["categories"][c]["auditRefs"])
                           if audits[a].get("score") is not None and audits[a]["score"] < 1
                           and audits[a].get("scoreDisplayMode") in ("binary", "numeric"))
    return row


@click.command()
@click.option("--site", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A site built with --languages en,fr (default: the demo, built here).")
@click.option("--lighthouse", help="The lighthouse command (default: node_modules/.bin/lighthouse or npx).")
def main(site: Path | None, lighthouse: str | None) -> None:
    from generator.publish.web import make_server

    with tempfile.TemporaryDirectory() as tmp:
        if site is None:
            click.echo("building the demo site in English and French...", err=True)
            site = build_demo(Path(tmp))
        server = make_server(site, port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        command, chrome = lighthouse_command(lighthouse), chromium()
        click.echo(f"{'page':9} {'lang':4} {'access.':>7} {'best pr.':>8} {'SEO':>4} {'perf.':>5} "
                   f"{'CLS':>6} {'TBT ms':>7}  below 100 (other than performance)")
        met = {c: True for c in CATEGORIES}
        try:
            for name, lang, rel in pages(site):
                r = score(command, base + rel, chrome)
                for c in CATEGORIES:
                    met[c] &= r[c] >= TARGETS[c]
                click.echo(f"{name:9} {lang:4} {r['accessibility']:>7} {r['best-practices']:>8} {r['seo']:>4} "
                           f"{r['performance']:>5} {r['cls']:>6.3f} {r['tbt']:>7.0f}  {' '.join(r['failed'])}")
        finally:
            server.shutdown()
        click.echo("targets: " + ", ".join(f"{c} >= {TARGETS[c]}: {'met' if met[c] else 'NOT met'}"
                                           for c in CATEGORIES))


if __name__ == "__main__":
    main()
