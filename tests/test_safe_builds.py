"""A build killed at any moment leaves the previous site intact and the cache usable."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from generator.fsutil import recover_interrupted

from .helpers import write_jpeg

pytestmark = pytest.mark.slow


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _cmd(root: Path) -> list[str]:
    return [sys.executable, "-m", "generator.cli.main", "build", "--drawings", str(root / "drawings"),
            "--artworks", str(root / "artworks"), "--out", str(root / "site"), "--cache", str(root / "cache")]


def test_killed_builds_keep_the_previous_site(tmp_path):
    for i in range(24):
        write_jpeg(tmp_path / "drawings" / f"2001_6-9_{i:04d}_FRA_R_C.jpg", (80, 60), seed=i)
    for i in range(12):
        write_jpeg(tmp_path / "artworks" / f"art_{i}.jpg", (80, 80), seed=100 + i)
    repo = Path(__file__).resolve().parent.parent
    subprocess.run(_cmd(tmp_path), check=True, cwd=repo, capture_output=True)
    first = _tree(tmp_path / "site")
    # New pictures, so the next build has real work to do at every stage.
    for i in range(24, 60):
        write_jpeg(tmp_path / "drawings" / f"2002_6-9_{i:04d}_DEU_R_C.jpg", (900, 700), seed=i)
    # Each build is killed just after a stage says it is done, so the next stage (embedding, searching,
    # the map, the pictures, writing the pages and swapping the folders) is under way, however loaded the
    # machine is: the kill cannot land before the build has started its work.
    killed_after = []
    for stage in ("collection", "embeddings", "neighbours", "layout", "pictures"):
        proc = subprocess.Popen(_cmd(tmp_path), cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        for line in proc.stderr:
            if line.startswith(f"{stage}: "):
                break
        finished = proc.poll() is not None
        if not finished:
            proc.send_signal(signal.SIGKILL)
            killed_after.append(stage)
        proc.stderr.close()
        proc.wait()
        # A site updated in place and stopped while its files were moved in is finished by the next build's
        # first step.
        recover_interrupted(tmp_path / "site")
        now = _tree(tmp_path / "site")
        # Either the untouched previous site, or a complete new one: never a mixture.
        assert now == first or (finished and "index.html" in now), stage
    assert len(killed_after) >= 4 and "pictures" in killed_after, killed_after
    done = subprocess.run(_cmd(tmp_path), cwd=repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    final = _tree(tmp_path / "site")
    assert sum(1 for k in final if k.startswith("drawings/") and k.endswith("index.html")) == 60
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")]
    assert leftovers == []
