"""The command line: wiring and messages."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from generator.errors import ConfigError
from generator.settings import FIELD_NAMES, describe_settings
from generator.cli.main import cli

from .helpers import write_jpeg


def test_the_installed_command_runs(tmp_path):
    """The ``sitegen`` entry point of the installed package, in a process of its own."""
    exe = shutil.which("sitegen")
    if exe is None:
        pytest.skip("the sitegen command is not installed (pip install .)")
    res = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and res.stdout.startswith("sitegen, version "), res
    (tmp_path / "mine.txt").write_text("not a demo")
    res = subprocess.run([exe, "demo", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and "is not empty" in res.stderr and "Traceback" not in res.stderr, res
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


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


@pytest.mark.slow
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
    from generator.settings import BuildSettings
    from generator.pipeline.stages import build

    report = build(BuildSettings(drawings=tmp_path / "drawings", artworks=tmp_path / "artworks",
                                 out=tmp_path / "site", cache=merged))
    assert report.computed["embeddings"] == 0 and report.drawings == 6


def test_bad_shard(tmp_path):
    res = CliRunner().invoke(cli, ["embed", "--shard", "3/2"])
    assert res.exit_code == 2 and "use the form I/N" in res.output


TINY_TRAIN = ["--epochs", "1", "--hard-negatives", "1", "--max-train-pairs", "12", "--train-size", "72",
              "--crop-size", "64", "--patience", "1"]


@pytest.mark.slow
def test_train_then_build_with_the_model(demo_dir, built_demo, tmp_path):
    """sitegen train on the demo's pairs, then sitegen build --model with the file it wrote."""
    import json

    settings, _, _ = built_demo
    model = tmp_path / "model.pt"
    args = ["--drawings", str(demo_dir / "drawings"), "--artworks", str(demo_dir / "artworks"),
            "--pairs", str(demo_dir / "pairs.csv")]
    res = CliRunner().invoke(cli, ["train", *args, "--out", str(model), *TINY_TRAIN, "--test-share", "0.2"])
    assert res.exit_code == 0, res.output
    assert model.is_file() and not (tmp_path / "model.pt.partial").exists()
    assert "Model written to" in res.output and "MAP" in res.output
    assert "validation drawings, training changed MAP by" in res.output  # the guard's evidence, in words
    out = tmp_path / "site"
    res = CliRunner().invoke(cli, ["build", *args, "--artworks-csv", str(demo_dir / "artworks.csv"),
                                   "--model", str(model), "--out", str(out), "--cache", str(settings.cache)])
    assert res.exit_code == 0, res.output
    card = json.loads((out / "data/model-card.json").read_text())
    assert card["fine_tuned"] is True
    page = (out / "model/index.html").read_text()
    assert "Fine-tuned, validation" in page and "<svg" in page and "Test drawings" in page


@pytest.mark.slow
def test_evaluate_prints_and_writes_json(demo_dir, tmp_path):
    import json

    target = tmp_path / "figures.json"
    res = CliRunner().invoke(cli, ["evaluate", "--drawings", str(demo_dir / "drawings"), "--artworks",
                                   str(demo_dir / "artworks"), "--pairs", str(demo_dir / "pairs.csv"),
                                   "--json", str(target)])
    assert res.exit_code == 0, res.output
    metrics = json.loads(target.read_text())["metrics"]
    assert {"MP", "MMP", "MAP", "R@1", "R@5", "R@10", "R@20", "R@50"} <= set(metrics)
    assert "R@100" not in metrics  # the gallery holds 64 artworks
    assert 0 <= metrics["R@1"] <= metrics["R@10"] <= 100 and "R@10" in res.output


@pytest.mark.slow
def test_evaluate_folds(demo_dir, tmp_path):
    import json

    target = tmp_path / "folds.json"
    res = CliRunner().invoke(cli, ["evaluate", "--drawings", str(demo_dir / "drawings"), "--artworks",
                                   str(demo_dir / "artworks"), "--pairs", str(demo_dir / "pairs.csv"),
                                   "--folds", "3", "--json", str(target), *TINY_TRAIN])
    assert res.exit_code == 0, res.output
    data = json.loads(target.read_text())
    assert data["folds"] == 3 and len(data["per_fold"]["test"]) == 3
    assert "MAP" in data["metrics"] and "MAP" in data["metrics_std"]


def test_build_train_needs_pairs(tmp_path):
    _collection(tmp_path)
    res = CliRunner().invoke(cli, ["build", "--train", "--drawings", str(tmp_path / "drawings"), "--artworks",
                                   str(tmp_path / "artworks"), "--out", str(tmp_path / "site"),
                                   "--cache", str(tmp_path / "cache")])
    assert res.exit_code == 1 and "--train needs --pairs" in res.output


@pytest.mark.parametrize("command, extras", [("build", {"config_file", "train_first", "train_epochs"}),
                                             ("embed", {"config_file", "shard"}),
                                             ("serve", {"config_file", "port"})])
def test_options_are_the_settings(command, extras):
    """Every setting is a flag with the setting's type, range, choices and default, and nothing else is."""
    params = {p.name: p for p in cli.commands[command].params if p.name != "help"}
    assert set(params) - extras == set(FIELD_NAMES)
    for info in describe_settings():
        opt = params[info.name]
        assert opt.opts == [info.flag] and opt.default is None
        if info.kind is bool:
            assert opt.secondary_opts == ["--no-" + info.flag[2:]]
            assert opt.help.endswith(f"(default: {'on' if info.default else 'off'})")
        elif info.default is not None:
            assert opt.help.endswith(f"(default: {info.default})"), opt.help
        if info.rule.choices and not info.rule.pattern:
            assert tuple(opt.type.choices) == info.rule.choices
        elif info.rule.pattern:     # choices or text of a pattern (--languages en,fr): checked as the file's values are
            assert opt.type is click.STRING
        elif info.kind is int:
            assert isinstance(opt.type, click.IntRange)
            assert (opt.type.min, opt.type.max) == (info.rule.low, info.rule.high)
    assert "(default: 10)" in " ".join(CliRunner().invoke(cli, [command, "--help"]).output.split())


@pytest.mark.parametrize("command, extras", [
    ("train", {"drawings", "artworks", "pairs", "decisions", "out", "backbone", "start_from", "weights", "restart",
               "folds", "config_file"}),
    ("evaluate", {"drawings", "artworks", "pairs", "model", "weights", "folds", "json_file", "compare", "html",
                  "compared", "config_file"})])
def test_training_options_are_the_training_settings(command, extras):
    """Every training setting is a flag of train and evaluate with its type, range, choices and default."""
    from generator.settings import RECIPE_NAMES, TRAIN_FIELD_NAMES, TrainSettings

    params = {p.name: p for p in cli.commands[command].params if p.name != "help"}
    assert set(params) - extras == set(TRAIN_FIELD_NAMES)
    assert tuple(params["recipe"].type.choices) == tuple(RECIPE_NAMES)
    assert params["style_augmentation"].opts == ["--style"]      # the short name it has always had
    for info in describe_settings(TrainSettings):
        opt = params[info.name]
        assert opt.default is None, info.name
        if info.kind is float:
            assert isinstance(opt.type, click.FloatRange)
            low = info.rule.above if info.rule.above is not None else info.rule.low
            assert (opt.type.min, opt.type.max, opt.type.min_open) == (low, info.rule.high,
                                                                     info.rule.above is not None)
        elif info.kind is int:
            assert (opt.type.min, opt.type.max) == (info.rule.low, info.rule.high)


def test_training_settings_come_from_the_file_and_flags_win(tmp_path):
    from generator.cli.model_commands import _train_settings

    cfg = tmp_path / "sitegen.toml"
    cfg.write_text('drawings = "d"\n[train]\nrecipe = "thesis"\nepochs = 3\nmix = 0.5\n')
    t = _train_settings(cfg, epochs=4)
    assert (t.recipe, t.epochs, t.mix, t.lr) == ("thesis", 4, 0.5, 1e-6)   # the thesis's rate, the file's mix
    assert _train_settings(cfg, recipe="default").lr == 3e-4
    cfg.write_text('[train]\nmix = 1.5\nstyle_effects = ["oil", "crayon"]\n')
    with pytest.raises(ConfigError) as err:
        _train_settings(cfg)
    assert str(err.value).splitlines()[1:] == ["  - mix must be a number from 0 to 1 (got 1.5)",
                                               "  - style_effects must be one of oil, watercolour, texture, "
                                               "greyscale, pencil (got 'crayon')"]
    cfg.write_text('[train]\nepoch = 3\n')
    with pytest.raises(ConfigError, match="unknown setting 'epoch' in \\[train\\]"):
        _train_settings(cfg)


def test_a_bad_training_flag_is_named_before_any_work(tmp_path):
    res = CliRunner().invoke(cli, ["train", "--artworks", str(tmp_path), "--out", str(tmp_path / "m.pt"),
                                   "--device", "tpu"])
    assert res.exit_code == 1
    assert "device must be one of auto, cpu, cuda or cuda:N (got 'tpu')" in res.output


@pytest.mark.parametrize("line, problem", [
    ("top_k = 0", "top_k must be a whole number from 1 to 1000 (got 0)"),
    ('thumb_size = "big"', "thumb_size must be a whole number from 32 to 4096 (got 'big')"),
    ('device = "tpu"', "device must be one of auto, cpu, cuda (got 'tpu')"),
])
def test_bad_setting_in_the_file_stops_before_any_work(tmp_path, monkeypatch, line, problem):
    _collection(tmp_path)
    (tmp_path / "sitegen.toml").write_text(f'drawings = "drawings"\nartworks = "artworks"\n{line}\n')
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["build"])
    assert res.exit_code == 1
    assert res.output == ("Error: sitegen.toml has a setting that cannot work, so nothing was done. "
                          f"Fix it in the file: {problem}.\n")
    assert sorted(os.listdir(tmp_path)) == ["artworks", "drawings", "sitegen.toml"], "nothing was written"


@pytest.mark.slow
def test_demo_says_what_it_wrote_and_what_to_do_next(tmp_path, demo_written, monkeypatch):
    """The command's words describe the files written (the session's demo, copied in place of writing it again:
    the generator itself is tested in test_demo.py)."""
    import generator.demo.collection as demo_module

    def copy_demo(dest, seed):
        assert seed == 7
        shutil.copytree(demo_written[0], dest)
        return demo_written[1]

    monkeypatch.setattr(demo_module, "write_demo", copy_demo)
    dest = tmp_path / "demo"
    res = CliRunner().invoke(cli, ["demo", str(dest)])
    assert res.exit_code == 0, res.output
    first, second = res.output.splitlines()
    n_drawings, n_artworks = len(os.listdir(dest / "drawings")), len(list((dest / "artworks").rglob("*.jpg")))
    n_pairs = len((dest / "pairs.csv").read_text().splitlines()) - 1
    assert first.startswith(f"Wrote a demo collection to {dest}: {n_drawings} drawing scans in {dest / 'drawings'} (")
    assert f" {n_artworks} artworks by " in first and f"{n_pairs} known re-creations in {dest / 'pairs.csv'}." in first
    assert "DemoSummary" not in res.output
    assert second == (f"Next, build its site with: sitegen build --drawings {dest}/drawings --artworks {dest}/artworks "
                      f"--artworks-csv {dest}/artworks.csv --pairs {dest}/pairs.csv")


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_two_processes_build_the_same_site(tmp_path):
    """The installed command, run twice at once in two processes with two caches, writes the same bytes."""
    sitegen = shutil.which("sitegen")
    if sitegen is None:
        pytest.skip("the sitegen command is not installed (pip install .)")
    for i in range(24):
        write_jpeg(tmp_path / "drawings" / f"2001_6-9_{i:04d}_FRA_R_C.jpg", (72, 56), seed=i)
    for i in range(10):
        write_jpeg(tmp_path / "artworks" / f"art_{i}.jpg", (64, 64), seed=100 + i)
    runs = [subprocess.Popen([sitegen, "build", "--drawings", "drawings", "--artworks", "artworks", "--out", f"site{n}",
                              "--cache", f"cache{n}", "--thumb-size", "48", "--display-size", "96"],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for n in (1, 2)]
    outputs = [run.communicate(timeout=900)[0] for run in runs]
    for run, output in zip(runs, outputs):
        assert run.returncode == 0, output
        # Each stage's time is printed once, as the stage ends; the embeddings' line says what was computed.
        assert len(re.findall(r"^embeddings: [0-9.]+ s; embedded 34 pictures, 0 from the cache$", output, re.M)) == 1, \
            output
    one, two = _tree(tmp_path / "site1"), _tree(tmp_path / "site2")
    assert len(one) > 30 and one.keys() == two.keys()
    assert [name for name in one if one[name] != two[name]] == []


def test_bad_years_file_message(tmp_path):
    """A malformed years file stops the build before any picture is read, naming the file, the line and the fix."""
    _collection(tmp_path)
    years = tmp_path / "years.csv"
    years.write_text("year,theme\n2003,My town\n03,Water\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["build", "--drawings", str(tmp_path / "drawings"), "--artworks",
                                   str(tmp_path / "artworks"), "--years", str(years), "--out", str(tmp_path / "site"),
                                   "--cache", str(tmp_path / "cache")])
    assert res.exit_code == 1
    assert (f"Error: {years} line 3: the year '03' is not a year. Write it with four digits (for example 2003) in "
            "the 'year' column.") in res.output
    assert not (tmp_path / "site").exists() and not (tmp_path / "cache" / "embeddings").exists()
