"""sitegen embed --engine ray: the same cache as a plain run, a dead worker's batch run again, and the
message when Ray is not installed. One Ray of 2 processor cores is started for the whole module."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from generator.pipeline.cache import Cache, EmbeddingWriter
from generator.cli.main import cli
from .helpers import write_jpeg

# Fewer than 16 pictures: the build places them on the map without UMAP, which takes long to start.
DRAWINGS, ARTWORKS = 9, 5


@pytest.fixture(scope="module")
def collection(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ray-collection")
    for i in range(DRAWINGS):
        write_jpeg(root / "drawings" / f"2001_6-9_{i:04d}_FRA_R_C.jpg", (72, 56), seed=i)
    for i in range(ARTWORKS):
        write_jpeg(root / "artworks" / f"art_{i}.jpg", (64, 64), seed=100 + i)
    return root


def _args(root: Path, cache: Path, *more: str) -> list[str]:
    return ["--drawings", str(root / "drawings"), "--artworks", str(root / "artworks"), "--out", str(root / "site"),
            "--cache", str(cache), *more]


def _vectors(cache: Path) -> tuple[str, dict[str, np.ndarray]]:
    (folder,) = (cache / "embeddings").iterdir()
    return folder.name, Cache(cache).load_embeddings(folder.name)


@pytest.fixture(scope="module")
def plain_cache(collection) -> Path:
    """The cache a plain run (no Ray) makes."""
    cache = collection / "plain-cache"
    res = CliRunner().invoke(cli, ["embed", *_args(collection, cache, "--batch-size", "4")])
    assert res.exit_code == 0, res.output
    assert f"Embedded {DRAWINGS + ARTWORKS} pictures, 0 from the cache" in res.output
    return cache


@pytest.fixture(scope="module")
def local_ray():
    """A Ray of 2 processor cores on this computer, which --engine ray then uses instead of starting its own."""
    import ray

    folder = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths have a length limit
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=80 * 2**20, log_to_driver=False,
             _temp_dir=folder)
    yield folder
    ray.shutdown()
    shutil.rmtree(folder, ignore_errors=True)


def _assert_same_cache(cache: Path, plain: Path) -> None:
    key, got = _vectors(cache)
    plain_key, want = _vectors(plain)
    assert key == plain_key and sorted(got) == sorted(want) and len(want) == DRAWINGS + ARTWORKS
    # bfloat16 arithmetic keeps about three significant digits; float32 far more.
    tolerance = 2e-2 if key.endswith("bf16") else 1e-5
    for k in want:
        np.testing.assert_allclose(got[k], want[k], atol=tolerance)


@pytest.mark.slow
def test_ray_fills_the_same_cache_and_the_build_embeds_nothing(collection, plain_cache, local_ray, monkeypatch):
    cache = collection / "ray-cache"
    runner = CliRunner()
    # Folders named relative to here, which is not where the workers were started.
    monkeypatch.chdir(collection)
    res = runner.invoke(cli, ["embed", "--engine", "ray", *_args(Path("."), cache, "--batch-size", "4")])
    assert res.exit_code == 0, res.output
    assert f"Embedded {DRAWINGS + ARTWORKS} pictures, 0 from the cache" in res.output
    _assert_same_cache(cache, plain_cache)
    res = runner.invoke(cli, ["build", *_args(collection, cache, "--thumb-size", "48", "--display-size", "96")])
    assert res.exit_code == 0, res.output
    lines = [line for line in res.output.splitlines() if "from the cache" in line]
    assert len(lines) == 1 and lines[0].endswith(f"; embedded 0 pictures, {DRAWINGS + ARTWORKS} from the cache"), \
        res.output


def _our_workers(ray_folder: str, title: str) -> list[int]:
    """Process ids of this module's Ray workers whose process title starts with ``title``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            parent = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1]
            parent_cmdline = Path(f"/proc/{parent}/cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if cmdline.startswith(title.encode()) and ray_folder.encode() in parent_cmdline:
            found.append(int(entry))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds Ray's worker processes through /proc")
def test_a_killed_worker_has_its_batch_run_again(collection, plain_cache, local_ray):
    killed: list[int] = []
    stop = threading.Event()

    def kill_one_worker_at_work():
        while not stop.is_set() and not killed:
            for pid in _our_workers(local_ray, "ray::embed_batch"):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                break
            time.sleep(0.01)

    killer = threading.Thread(target=kill_one_worker_at_work)
    killer.start()
    cache = collection / "ray-cache-killed"
    try:
        res = CliRunner().invoke(cli, ["embed", "--engine", "ray", *_args(collection, cache, "--batch-size", "1")])
    finally:
        stop.set()
        killer.join()
    assert killed, "no Ray worker was seen embedding, so none could be killed"
    assert res.exit_code == 0, res.output
    assert f"Embedded {DRAWINGS + ARTWORKS} pictures, 0 from the cache" in res.output
    _assert_same_cache(cache, plain_cache)


@pytest.mark.slow
def test_an_interrupted_run_keeps_the_finished_batches(collection, plain_cache, local_ray):
    from generator.settings import BuildSettings
    from generator.pipeline.stages import compute_missing_embeddings

    cache_dir = collection / "ray-cache-interrupted"
    settings = BuildSettings(drawings=collection / "drawings", artworks=collection / "artworks",
                             out=collection / "site", cache=cache_dir, batch_size=2, engine="ray")
    paths = sorted((collection / "drawings").iterdir()) + sorted((collection / "artworks").iterdir())
    cache = Cache(cache_dir)
    hashes = cache.content_hashes(paths)
    done = []

    def progress(label, total):
        def tick(n):
            done.append(n)
            if len(done) == 2:
                raise KeyboardInterrupt  # as Ctrl-C after the second batch
        return tick

    with pytest.raises(KeyboardInterrupt):
        compute_missing_embeddings(paths, hashes, cache, settings, progress)
    kept = len(_vectors(cache_dir)[1])
    assert kept >= 4, "the two finished batches are in the cache"
    assert kept < len(paths)
    res = CliRunner().invoke(cli, ["embed", "--engine", "ray", *_args(collection, cache_dir, "--batch-size", "2")])
    assert res.exit_code == 0, res.output
    assert f"Embedded {len(paths) - kept} pictures, {kept} from the cache" in res.output
    _assert_same_cache(cache_dir, plain_cache)


@pytest.mark.slow
def test_a_worker_that_cannot_see_the_folder_says_so(tmp_path, local_ray):
    from generator.errors import EngineError
    from generator.ml.ray_embed import RayJob, embed_with_ray

    job = RayJob("efficientnet_lite0", None, "fp", 280, "fp32", 4, 10**8)
    with pytest.raises(EngineError, match=f"cannot see the folder {tmp_path / 'elsewhere'}. The workers open the "
                                          "pictures by the same paths"):
        embed_with_ray([tmp_path / "elsewhere" / "a.jpg"], job, address=None, save=lambda i, v: None)


def test_without_ray_the_message_says_how_to_install_it(collection, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails, as where it is not installed
    cache = collection / "no-ray-cache"
    res = CliRunner().invoke(cli, ["embed", "--engine", "ray", *_args(collection, cache)])
    assert res.exit_code == 1
    assert ("Error: --engine ray needs Ray, which is not installed here. Install it with: pip install "
            "'sitegen[ray]' (on every machine of the cluster), or leave out --engine ray.") in res.output
    assert not (cache / "embeddings").exists()


def test_the_writer_stores_parts_as_it_goes(tmp_path):
    cache = Cache(tmp_path)
    writer = EmbeddingWriter(cache, "m", every=4, seconds=3600)
    vectors = np.arange(12, dtype=np.float32).reshape(6, 2)
    writer.add(["a", "b", "c"], vectors[:3])
    assert cache.load_embeddings("m") == {}, "fewer than `every` pictures wait"
    writer.add(["d"], vectors[3:4])
    assert sorted(cache.load_embeddings("m")) == ["a", "b", "c", "d"]
    writer.add(["e", "f"], vectors[4:])
    writer.flush()
    stored = cache.load_embeddings("m")
    assert sorted(stored) == list("abcdef") and np.array_equal(stored["f"], vectors[5])
    assert len(list((tmp_path / "embeddings" / "m").glob("part-*.npz"))) == 2


class _Cluster:
    """Stands in for the ray module where only the cluster's resources are read."""

    def __init__(self, resources: dict):
        self.resources = resources

    def cluster_resources(self) -> dict:
        return self.resources


def test_the_network_goes_to_the_graphics_cards_when_the_cluster_has_them():
    from generator.ml.ray_embed import GPU_BATCH, RayJob, _plan

    job = RayJob("efficientnet_lite0", None, "fp", 280, "fp32", 16, 10**8)
    assert _plan(_Cluster({"CPU": 8.0}), job) == ("cpu", 16, 16, {"num_cpus": 1})
    device, batch, ahead, options = _plan(_Cluster({"CPU": 8.0, "GPU": 2.0}), job)
    assert (device, batch, options) == ("cuda", GPU_BATCH, {"num_gpus": 1}) and ahead > 16
    no_card = RayJob("efficientnet_lite0", None, "fp", 280, "fp32", 16, 10**8, device="cpu")
    assert _plan(_Cluster({"CPU": 8.0, "GPU": 2.0}), no_card)[0] == "cpu", "--device cpu keeps the network off cards"


def test_the_line_counts_what_was_embedded_and_what_came_from_the_cache(tmp_path):
    from generator.pipeline.stages import MissingEmbeddings
    from generator.errors import ImageError

    bad = ImageError(tmp_path / "x.jpg", "the file is empty (0 bytes)", "Scan or copy it again.")
    run = MissingEmbeddings({}, [bad], "ImageNet", computed=5, from_cache=3)
    assert run.line() == "embedded 4 pictures, 3 from the cache"
