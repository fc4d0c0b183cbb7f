"""Shared fixtures: the demo collection and its site are built once per test session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real public pictures beside the checkout. Absent: skipped, or a failure where
    SITEGEN_REQUIRE_SHARED_DATA is set."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("SITEGEN_REQUIRE_SHARED_DATA"):
            pytest.fail(f"the real-image folder {SHARED_DATA} is required (SITEGEN_REQUIRE_SHARED_DATA is set) "
                        "but absent")
        pytest.skip(f"the real-image folder {SHARED_DATA} is absent (it sits beside the checkout)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_written(tmp_path_factory):
    """(folder, summary) of the demo collection, generated once per test session."""
    from generator.demo.collection import write_demo

    dest = tmp_path_factory.mktemp("demo")
    return dest, write_demo(dest)


@pytest.fixture(scope="session")
def demo_dir(demo_written) -> Path:
    return demo_written[0]


def demo_settings(demo_dir: Path, work: Path, **changes):
    from generator.settings import BuildSettings

    return BuildSettings(drawings=demo_dir / "drawings", artworks=demo_dir / "artworks",
                         artworks_csv=demo_dir / "artworks.csv", pairs=demo_dir / "pairs.csv",
                         out=work / "site", cache=work / ".sitegen-cache", **changes)


@pytest.fixture(scope="session")
def built_demo(demo_dir, tmp_path_factory):
    """(settings, first report, site folder) of the demo built once."""
    from generator.pipeline.stages import build

    work = tmp_path_factory.mktemp("demo-build")
    settings = demo_settings(demo_dir, work)
    report = build(settings)
    return settings, report, settings.out


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a Chromium executable (Debian's package). Required in CI, skipped elsewhere when absent."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("SITEGEN_REQUIRE_BROWSER"):
        pytest.fail("Chromium is required (SITEGEN_REQUIRE_BROWSER is set) but was not found: apt-get install chromium")
    pytest.skip("Chromium is not installed (apt-get install chromium)")


CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser(chromium):
    """A Playwright browser driving Debian's Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def site_server(built_demo):
    """The built demo site served over HTTP on 127.0.0.1; yields its base URL."""
    import threading

    _, _, out = built_demo
    from generator.publish.web import make_server

    server = make_server(out, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


#: Fixtures that generate or build the demo: a test using one must be marked slow, so that
#: ``pytest -m "not slow"`` stays quick.
DEMO_FIXTURES = {"demo_written", "demo_dir", "built_demo", "site_server"}


def pytest_collection_modifyitems(config, items):
    unmarked = [item.nodeid for item in items
                if DEMO_FIXTURES & set(getattr(item, "fixturenames", ())) and item.get_closest_marker("slow") is None]
    if unmarked:
        raise pytest.UsageError("These tests make the demo but are not marked slow: " + ", ".join(unmarked))
