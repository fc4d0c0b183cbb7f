"""The find page in headless Chromium on the served demo site: pictures chosen through the file input are
compared with the artworks by the model running in the browser, and agree with the Python pipeline."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .conftest import CHROMIUM_ARGS
from .helpers import neighbour_rows, site_drawings, write_jpeg

pytestmark = [pytest.mark.slow, pytest.mark.browser]

#: Drawings with a confirmed artwork uploaded by the acceptance test (spread over the demo's list).
SAMPLE = 20


@pytest.fixture(scope="module")
def find_page(browser, site_server):
    """One page kept open for the whole module (the model is downloaded once), with its console errors."""
    context = browser.new_context()
    pg = context.new_page()
    pg.errors = []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("request", lambda r: pg.errors.append(f"external request {r.url}")
          if not r.url.startswith((site_server, "data:")) else None)
    pg.goto(site_server + "find/index.html")
    # Before a picture is chosen, the page's main part links to no artwork page.
    pg.wait_for_selector("#find-form:not([hidden])")
    assert pg.locator("main a[href*='artworks/']").count() == 0
    yield pg
    context.close()


def choose(page, path: Path, how: str = "#find-file") -> bool:
    """Give ``path`` to the page (``how``: the file input's selector, or "drop" to drop it on the page); True
    when results came, False when the page reported a problem."""
    box = page.locator("#find-results")
    runs, failed = box.get_attribute("data-runs") or "0", box.get_attribute("data-failed") or "0"
    if how == "drop":
        page.evaluate(
            "([data, name]) => { const dt = new DataTransfer();"
            " dt.items.add(new File([Uint8Array.from(atob(data), c => c.charCodeAt(0))], name, {type: 'image/jpeg'}));"
            " document.getElementById('find-drop').dispatchEvent("
            "   new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true})); }",
            [base64.b64encode(path.read_bytes()).decode(), path.name])
    else:
        page.set_input_files(how, str(path))
    page.wait_for_function(
        "([r, f]) => { const e = document.getElementById('find-results');"
        " return (e.getAttribute('data-runs') || '0') !== r || (e.getAttribute('data-failed') || '0') !== f; }",
        arg=[runs, failed], timeout=60_000)
    return (box.get_attribute("data-runs") or "0") != runs


def shown_artworks(page) -> list[str]:
    return [href.rstrip("/").split("/")[-2] for href in
            page.locator("#find-results a").evaluate_all("links => links.map(a => a.getAttribute('href'))")]


def test_resize_matches_pillow_byte_for_byte(find_page):
    """find-resize.js against Pillow, on sizes that take each of its paths (enlarging, shrinking, block reduce)."""
    rng = np.random.default_rng(3)
    for w, h in [(200, 150), (300, 281), (700, 433), (1300, 240)]:
        rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        expected = np.asarray(Image.fromarray(rgb).resize((280, 280), Image.Resampling.BILINEAR, reducing_gap=2.0))
        got = find_page.evaluate(
            "([data, w, h]) => { const raw = Uint8ClampedArray.from(atob(data), c => c.charCodeAt(0));"
            " const out = SitegenResize.pillowResize(raw, w, h, 280);"
            " return btoa(Array.from(out, b => String.fromCharCode(b)).join('')); }",
            [base64.b64encode(rgb.tobytes()).decode(), w, h])
        assert np.array_equal(np.frombuffer(base64.b64decode(got), np.uint8).reshape(280, 280, 3), expected), (w, h)


def test_uploaded_drawings_find_their_artwork_and_agree_with_python(find_page, built_demo, demo_dir):
    _, _, site = built_demo
    pairs = json.loads((site / "data/pairs.json").read_text())["rows"]
    confirmed: dict[str, set[str]] = {}
    for d, a, *_ in pairs:
        confirmed.setdefault(d, set()).add(a)
    files = {d["id"]: d["file"] for d in site_drawings(site)}
    python_top: dict[str, list[str]] = {}
    for d, rank, a, _ in sorted(neighbour_rows(site)):
        python_top.setdefault(d, []).append(a)
    ids = sorted(confirmed)
    sample = ids[::max(1, len(ids) // SAMPLE)][:SAMPLE]
    found, overlap, same_place = 0, [], []
    for d in sample:
        assert choose(find_page, next((demo_dir / "drawings").rglob(files[d]))), find_page.inner_text("#find-status")
        shown = shown_artworks(find_page)
        sims = [float(s) for s in find_page.locator("#find-results li").evaluate_all(
            "items => items.map(li => li.getAttribute('data-similarity'))")]
        assert len(shown) == 10 and sims == sorted(sims, reverse=True)
        found += bool(confirmed[d] & set(shown))
        overlap.append(len(set(shown) & set(python_top[d])) / 10)
        same_place.append(sum(x == y for x, y in zip(shown, python_top[d])) / 10)
    print(f"\nfind page on {len(sample)} demo drawings: confirmed artwork in the first 10 for {found}; "
          f"top 10 shared with Python {np.mean(overlap) * 10:.2f} of 10 on average; "
          f"same position {np.mean(same_place) * 10:.2f} of 10")
    assert found >= 0.8 * len(sample)
    assert np.mean(overlap) >= 0.9
    assert np.mean(same_place) >= 0.9  # at least 9 of the 10 positions on average
    # This headless Chromium offers no graphics adapter: the model ran on WebAssembly.
    assert find_page.locator("#find-results").get_attribute("data-backend") == "wasm"
    # ... in a Web Worker: the runtime was never loaded into the page itself.
    assert find_page.evaluate("typeof ort") == "undefined"
    assert find_page.errors == []


def test_where_workers_are_refused_the_model_runs_on_the_page_and_ranks_alike(browser, site_server, demo_dir):
    path = sorted((demo_dir / "drawings").rglob("*_R_*.jpg"))[3]
    ranked = []
    for refuse in (False, True):
        context = browser.new_context()
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        if refuse:
            page.add_init_script("window.Worker = function () { throw new Error('workers are refused here'); };")
        page.goto(site_server + "find/index.html")
        page.wait_for_selector("#find-form:not([hidden])")
        assert choose(page, path), page.inner_text("#find-status")
        assert page.evaluate("typeof ort") == ("object" if refuse else "undefined")
        ranked.append([(a, page.locator("#find-results li").nth(i).get_attribute("data-similarity"))
                       for i, a in enumerate(shown_artworks(page))])
        assert errors == []
        context.close()
    assert len(ranked[0]) == 10 and ranked[0] == ranked[1]


def test_a_dropped_picture_and_a_camera_photo_are_compared_like_a_chosen_file(find_page, demo_dir):
    path = sorted((demo_dir / "drawings").rglob("*_R_*.jpg"))[7]
    assert choose(find_page, path)
    chosen = shown_artworks(find_page)
    assert choose(find_page, path, "drop"), find_page.inner_text("#find-status")
    assert shown_artworks(find_page) == chosen
    assert choose(find_page, path, "#find-camera")  # the input that opens the camera on phones
    assert shown_artworks(find_page) == chosen
    assert find_page.errors == []


#: Chromium with a graphics adapter drawn in software (SwiftShader): WebGPU without a graphics card.
WEBGPU_ARGS = [a for a in CHROMIUM_ARGS if a != "--disable-gpu"] + [
    "--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader", "--enable-features=Vulkan"]


def test_with_a_graphics_adapter_the_model_runs_on_webgpu_and_ranks_alike(browser, chromium, site_server,
                                                                          built_demo, demo_dir):
    _, _, site = built_demo
    files = {d["id"]: d["file"] for d in site_drawings(site)}
    python_top: dict[str, list[str]] = {}
    for d, rank, a, _ in sorted(neighbour_rows(site)):
        python_top.setdefault(d, []).append(a)
    gpu = browser.browser_type.launch(executable_path=chromium, args=WEBGPU_ARGS)
    try:
        page = gpu.new_page()
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        downloaded = []
        page.on("request", lambda r: downloaded.append(r.url.rsplit("/", 1)[-1]))
        page.goto(site_server + "find/index.html")
        if not page.evaluate("async () => Boolean(navigator.gpu && await navigator.gpu.requestAdapter())"):
            pytest.skip("this Chromium offers no WebGPU adapter, not even SwiftShader's")
        page.wait_for_selector("#find-form:not([hidden])")
        shared = []
        for d in sorted(python_top)[:3]:
            assert choose(page, next((demo_dir / "drawings").rglob(files[d]))), page.inner_text("#find-status")
            shared.append(len(set(shown_artworks(page)) & set(python_top[d])))
        assert page.locator("#find-results").get_attribute("data-backend") == "webgpu"
        # One runtime is downloaded: the WebGPU build, not the WebAssembly-only one.
        assert "ort.webgpu.min.js" in downloaded and "ort.wasm.min.js" not in downloaded
        assert "ort-wasm-simd-threaded.wasm" not in downloaded
        print(f"\nWebGPU (software adapter): top 10 shared with Python {np.mean(shared):.2f} of 10")
        assert np.mean(shared) >= 9
        assert errors == []
    finally:
        gpu.close()


def test_bad_files_get_a_clear_message_and_the_page_keeps_working(find_page, tmp_path, demo_dir):
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture at all\n")
    pdf = tmp_path / "scan.jpg"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
    huge = tmp_path / "huge.png"
    Image.new("L", (10_000, 10_000), 255).save(huge, compress_level=1)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(write_jpeg(tmp_path / "whole.jpg", (300, 300)).read_bytes()[:600])
    expected = {text: "not a picture", pdf: "PDF document", huge: "100 megapixels", broken: "damaged"}
    for path, words in expected.items():
        assert not choose(find_page, path)
        status = find_page.inner_text("#find-status")
        assert words in status, status
        assert find_page.locator("#find-results a").count() == 0
    assert choose(find_page, next((demo_dir / "drawings").glob("*_R_*.jpg")))
    assert len(shown_artworks(find_page)) == 10
    assert find_page.errors == []


def test_the_page_says_what_to_do_when_opened_from_disk(browser, built_demo):
    _, _, site = built_demo
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((site / "find/index.html").as_uri())
    status = page.inner_text("#find-status")
    assert "sitegen serve" in status and page.locator("#find-form").is_hidden()
    assert errors == []
    page.close()


def test_no_serious_accessibility_problems(find_page):
    from axe_playwright_python import sync_playwright as axe
    violations = axe.Axe().run(find_page).response["violations"]
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []


def test_a_grouped_index_downloads_only_the_nearest_parts(browser, built_demo, demo_dir, tmp_path):
    """A large collection's index (here synthetic, grouped from 0 artworks on) is read part by part: the page
    downloads only the parts it probes, and ranks like the same computation in Python."""
    import shutil
    import threading

    from generator.inputs.images import model_input
    from generator.ml.export import onnx_vectors
    from generator.ml.findindex import compact_index, exact_top_sets, group_parts
    from generator.publish.web import make_server
    from generator.site.findpage import write_index_files
    from generator.site.output import SiteOutput

    _, _, built = built_demo
    site = tmp_path / "site"
    shutil.copytree(built, site, symlinks=True)
    manifest = json.loads((site / "find/index.json").read_text())
    rng = np.random.default_rng(5)
    mixing = rng.standard_normal((24, manifest["model"]["dim"]), dtype=np.float32)
    latent = rng.standard_normal((40, 24), dtype=np.float32)[rng.integers(0, 40, 3000)]
    vectors = (latent + 0.5 * rng.standard_normal((3000, 24), dtype=np.float32)) @ mixing
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = compact_index(vectors, vectors[:100], axes_tried=(24,), target=0.0, grouped_from=10**9)
    index = group_parts(index, vectors[:100], exact_top_sets(vectors[:100], vectors), 0.9)
    assert index.probe < len(index.parts)
    for old in [*(site / "find").glob("artworks-*"), *(site / "find").glob("labels-*")]:
        old.unlink()
    rows = [[f"synthetic_{i}", f"Synthetic {i}", "Nobody", "", f"artworks/synthetic_{i}/index.html", None]
            for i in range(3000)]
    projection, manifest["artworks"] = write_index_files(SiteOutput(site, title="", csp=""), index, rows)
    manifest["projection"].update(bytes=len(projection), dims=index.dims)
    (site / "find/index.json").write_text(json.dumps(manifest))
    picture = tmp_path / "drawing.png"  # no JPEG shortcut: Python and the page see the same pixels
    Image.open(next((demo_dir / "drawings").glob("*_R_*.jpg"))).convert("RGB").save(picture)

    server = make_server(site, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = browser.new_page()
    parts_read = []
    page.on("request", lambda r: parts_read.append(r.url) if "/find/artworks-" in r.url else None)
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/find/index.html")
        page.wait_for_selector("#find-form:not([hidden])")
        assert choose(page, picture), page.inner_text("#find-status")
        shown = [int(a.split("_")[-1]) for a in shown_artworks(page)]
    finally:
        page.close()
        server.shutdown()
    assert len(parts_read) == index.probe
    pixels = model_input(picture, manifest["model"]["input_size"])[None]
    query = onnx_vectors((site / "find/model.onnx").read_bytes(), pixels)
    ranks = np.argsort(np.argsort(-((query @ index.axes.T) @ index.centres.T), axis=1, kind="stable"), axis=1)[0]
    probed = np.concatenate([index.parts[j] for j in np.flatnonzero(ranks < index.probe)])
    scores = index.scores(query)[0][probed]
    expected = probed[np.argsort(-scores, kind="stable")[:10]]
    assert set(shown) <= set(probed.tolist())
    assert len(set(shown) & set(expected.tolist())) >= 9
