"""The command line: wiring and messages."""

from pathlib import Path

from click.testing import CliRunner

from generator.cli import cli

from .helpers import write_jpeg


def _collection(root: Path) -> None:
    for i in range(6):
        write_jpeg(root / "drawings" / f"2001_6-9_{i:04d}_FRA_R_C.jpg", (60, 60), seed=i)
    for i in range(4):
        write_jpeg(root / "artworks" / f"a{i}.jpg", (60, 60), seed=50 + i)


def test_missing_folder_message(tmp_path):
    res = CliRunner().invoke(cli, ["build", "--drawings", str(tmp_path / "nope"), "--artworks", str(tmp_path)])
    assert res.exit_code == 1
    assert f"Error: The drawings folder {tmp_path / 'nope'} does not exist. Check the path given with --drawings." \
        in res.output


def test_unknown_model_message(tmp_path):
    _collection(tmp_path)
    res = CliRunner().invoke(cli, ["build", "--drawings", str(tmp_path / "drawings"), "--artworks",
                                   str(tmp_path / "artworks"), "--model", "resnext101_32x8d", "--weights",
                                   str(tmp_path / "missing.pth"), "--out", str(tmp_path / "site"),
                                   "--cache", str(tmp_path / "cache")])
    assert res.exit_code == 1
    assert f"The weights file {tmp_path / 'missing.pth'} does not exist" in res.output
    assert not (tmp_path / "site").exists()


def test_shards_merge_into_one_cache(tmp_path):
    _collection(tmp_path)
    args = ["--drawings", str(tmp_path / "drawings"), "--artworks", str(tmp_path / "artworks"),
            "--out", str(tmp_path / "site")]
    runner = CliRunner()
    for i in (1, 2):
        res = runner.invoke(cli, ["embed", "--shard", f"{i}/2", "--cache", str(tmp_path / f"cache{i}"), *args])
        assert res.exit_code == 0, res.output
        assert f"Part {i} of 2: computed 5 embeddings" in res.output
    merged = tmp_path / "cache"
    for i in (1, 2):
        for part in (tmp_path / f"cache{i}" / "embeddings").rglob("part-*.npz"):
            dest = merged / part.relative_to(tmp_path / f"cache{i}")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(part.read_bytes())
    from generator.config import BuildSettings
    from generator.pipeline import build

    report = build(BuildSettings(drawings=tmp_path / "drawings", artworks=tmp_path / "artworks",
                                 out=tmp_path / "site", cache=merged))
    assert report.computed["embeddings"] == 0 and report.drawings == 6


def test_bad_shard(tmp_path):
    res = CliRunner().invoke(cli, ["embed", "--shard", "3/2"])
    assert res.exit_code == 2 and "use the form I/N" in res.output
