"""The site's scripts as the build writes them: the shared core joined with each page's sources."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from generator.site import scripts
from generator.site.pages import write_static

STATIC = Path(__file__).resolve().parents[1] / "static"


def test_every_source_is_joined_or_published_once():
    pages = {p.name for p in STATIC.glob("*.js")}
    sources = {src for srcs in scripts.SCRIPTS.values() for src in srcs}
    assert pages == {s for s in sources if "/" not in s} | set(scripts.STANDALONE)
    assert {f"map/{p.name}" for p in (STATIC / "map").glob("*.js")} == {s for s in sources if s.startswith("map/")}
    assert sorted(p.name for p in (STATIC / "core").glob("*.js")) == sorted(scripts.CORE)
    assert not set(scripts.SCRIPTS) & set(scripts.STANDALONE)


def test_joining_is_deterministic_and_keeps_every_source():
    first, again = scripts.joined_scripts(STATIC), scripts.joined_scripts(STATIC)
    assert first == again and sorted(first) == sorted(scripts.SCRIPTS)
    for name, text in first.items():
        for rel in [f"core/{c}" for c in scripts.CORE] + list(scripts.SCRIPTS[name]):
            body = (STATIC / rel).read_text(encoding="utf-8").rstrip()
            assert body in text, (name, rel)
        assert text.startswith("/* static/" + name) and text.endswith("})();\n")


def test_joined_scripts_parse():
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node is not installed")
    for name, text in scripts.joined_scripts(STATIC).items():
        done = subprocess.run([node, "--check", "-"], input=text, capture_output=True, text=True, timeout=60)
        # "--check -" reads stdin on Node 20; a syntax error exits non-zero
        assert done.returncode == 0, (name, done.stderr)


def test_the_site_gets_joined_scripts_and_no_sources(tmp_path):
    write_static(None, SimpleNamespace(root=tmp_path))
    out = tmp_path / "static"
    assert sorted(p.name for p in out.glob("*.js")) == sorted([*scripts.SCRIPTS, *scripts.STANDALONE])
    for name, text in scripts.joined_scripts(STATIC).items():
        assert (out / name).read_text(encoding="utf-8") == text
    for name in scripts.STANDALONE:
        assert (out / name).read_bytes() == (STATIC / name).read_bytes()
    assert not (out / "core").exists() and not (out / "map").exists() and not list(out.rglob("*.d.ts"))
    assert (out / "style.css").is_file() and (out / "favicon.svg").is_file() and not (out / "vendor").exists()
