"""The standards a public site is held to, over every page of the demo site in English and in French: valid HTML
(the W3C Nu checker) and a description for search engines on every page. Lighthouse's scores are measured by
benchmarks/bench_lighthouse.py (they depend on the machine, so they are figures, not a test)."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: The checker's jar, from the pinned npm devDependency vnu-jar (package.json): `npm ci` puts it here.
VNU_JAR = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

#: The one message the checker is allowed to report, on the find page only: the page's Content-Security-Policy
#: names 'wasm-unsafe-eval' (CSP Level 3), the one keyword that lets the browser compile the model's WebAssembly
#: without also allowing JavaScript's eval. The checker's policy grammar predates it and knows no equivalent form
#: ('unsafe-eval' would pass, and allow eval too), so the error is the checker's, and the stronger policy is kept.
KNOWN_CHECKER_GAP = re.compile(r"""Expecting source-expression but found "'wasm-unsafe-eval'"\.""")


@pytest.fixture(scope="module")
def built_french_site(built_demo, tmp_path_factory) -> Path:
    """The demo site built in French (the English build's cache: nothing is computed again)."""
    from generator.pipeline.stages import build

    settings, _report, _out = built_demo
    fr = dataclasses.replace(settings, out=tmp_path_factory.mktemp("demo-fr-std") / "site", language="fr")
    build(fr)
    return fr.out


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if p.is_file())


def _vnu() -> tuple[str, Path]:
    java = shutil.which("java")
    if java and VNU_JAR.is_file():
        return java, VNU_JAR
    missing = "Java" if not java else f"the Nu checker's jar ({VNU_JAR.relative_to(REPO)}: run npm ci)"
    if os.environ.get("SITEGEN_REQUIRE_BROWSER"):
        pytest.fail(f"{missing} is required (SITEGEN_REQUIRE_BROWSER is set) but was not found")
    pytest.skip(f"{missing} is not available")


def nu_errors(site: Path) -> list[str]:
    """The Nu checker's errors over every HTML page of a site, as 'page: message' lines, less the known gap."""
    java, jar = _vnu()
    proc = subprocess.run([java, "-jar", str(jar), "--errors-only", "--format", "gnu", "--skip-non-html", str(site)],
                          capture_output=True, text=True, timeout=900)
    errors, reported = [], False
    for line in (proc.stdout + proc.stderr).splitlines():
        if " error: " not in line and " fatal: " not in line:
            continue
        reported = True
        page = line.split('"')[1] if line.startswith('"') else ""
        if KNOWN_CHECKER_GAP.search(line) and page.endswith("/find/index.html"):
            continue
        errors.append(line.replace(f"file:{site}/", ""))
    if proc.returncode != 0 and not reported:
        errors.append(f"the checker failed (exit status {proc.returncode}): {proc.stderr[-1000:]}")
    return errors


@pytest.mark.slow
def test_every_page_is_valid_html_in_english(built_demo):
    _, _, site = built_demo
    assert len(_pages(site)) > 100
    errors = nu_errors(site)
    assert not errors, f"{len(errors)} Nu checker errors, e.g.\n" + "\n".join(errors[:20])


@pytest.mark.slow
def test_every_page_is_valid_html_in_french(built_french_site):
    errors = nu_errors(built_french_site)
    assert not errors, f"{len(errors)} Nu checker errors, e.g.\n" + "\n".join(errors[:20])


def test_the_known_gap_is_only_the_find_page_keyword():
    line = ('"file:/x/find/index.html":5.1-5.9: error: Bad value “…” for attribute “content” on element “meta”: '
            'Expecting source-expression but found "\'wasm-unsafe-eval\'". ')
    assert KNOWN_CHECKER_GAP.search(line)
    assert not KNOWN_CHECKER_GAP.search(line.replace("wasm-unsafe-eval", "unsafe-inline"))


class _Descriptions(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and (a.get("name") or "").lower() == "description":
            self.found.append(a.get("content") or "")


def descriptions(page: Path) -> list[str]:
    parser = _Descriptions()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.found


def _check_descriptions(site: Path) -> dict[str, str]:
    bad, seen = [], {}
    for page in _pages(site):
        found = descriptions(page)
        rel = str(page.relative_to(site))
        if len(found) != 1 or not found[0].strip():
            bad.append((rel, found))
        else:
            seen[rel] = found[0]
    assert not bad, f"{len(bad)} pages without exactly one non-empty description, e.g. {bad[:10]}"
    return seen


@pytest.mark.slow
def test_every_page_has_one_description(built_demo, built_french_site):
    _, _, site = built_demo
    english = _check_descriptions(site)
    french = _check_descriptions(built_french_site)
    for rel in ("index.html", "map/index.html", "find/index.html", "search/index.html", "stats/index.html",
                "data/index.html", "404.html"):
        assert rel in english and rel in french, rel
        assert english[rel] != french[rel], f"{rel}: the description is not translated"
