"""Settings: sitegen.toml, flags winning over it, one check whatever the source, unknown countries reported."""

import dataclasses
from pathlib import Path

import pytest

from generator.inputs.collection import load_collection
from generator.settings import PAGE_SETTINGS, BuildSettings, describe_settings, make_settings
from generator.inputs.countries import load_countries
from generator.errors import ConfigError
from generator.pipeline.stages import unknown_country_problems

from .helpers import write_jpeg


def test_toml_then_flags(tmp_path):
    cfg = tmp_path / "sitegen.toml"
    cfg.write_text('drawings = "scans"\nartworks = "art"\ntop-k = 5\ntitle = "Graines d\'artistes"\n')
    s = make_settings(cfg, top_k=7, artworks=None)
    assert s.drawings == tmp_path / "scans" and s.artworks == tmp_path / "art"
    assert s.top_k == 7 and s.title == "Graines d'artistes"


def test_toml_errors_name_the_file(tmp_path):
    cfg = tmp_path / "sitegen.toml"
    cfg.write_text("colour = 'red'\n")
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        make_settings(cfg)
    cfg.write_text("top_k = \n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        make_settings(cfg)
    with pytest.raises(ConfigError, match="does not exist"):
        make_settings(tmp_path / "missing.toml")


def test_unknown_country_codes_are_reported(tmp_path):
    write_jpeg(tmp_path / "d" / "2004_6-9_0001_QQQ_R_C.jpg")
    write_jpeg(tmp_path / "d" / "2004_6-9_0002_LBA_R_C.jpg")
    write_jpeg(tmp_path / "a" / "x.jpg")
    coll = load_collection(tmp_path / "d", tmp_path / "a")
    problems = unknown_country_problems(coll, load_countries())
    assert [p.file for p in problems] == ["country code QQQ"]
    assert "--countries" in problems[0].fix
    override = tmp_path / "countries.csv"
    override.write_text("code,name\nQQQ,Quelque Pays\n")
    assert unknown_country_problems(coll, load_countries(Path(override))) == []


@pytest.mark.parametrize("line, problem", [
    ("top_k = 0", "top_k must be a whole number from 1 to 1000 (got 0)"),
    ('thumb_size = "big"', "thumb_size must be a whole number from 32 to 4096 (got 'big')"),
    ('device = "tpu"', "device must be one of auto, cpu, cuda (got 'tpu')"),
    ("strict = 1", "strict must be true or false (got 1)"),
    ("top-k = 2.5", "top_k must be a whole number from 1 to 1000 (got 2.5)"),
    ("drawings = 3", "drawings must be a path (got 3)"),
])
def test_toml_values_are_checked_like_flags(tmp_path, line, problem):
    cfg = tmp_path / "sitegen.toml"
    cfg.write_text(f'drawings = "scans"\n{line}\n' if not line.startswith("drawings") else line + "\n")
    with pytest.raises(ConfigError) as err:
        make_settings(cfg)
    assert str(err.value) == (f"{cfg} has a setting that cannot work, so nothing was done. Fix it in the file: "
                              f"{problem}.")


def test_every_problem_of_the_file_is_named_at_once(tmp_path):
    cfg = tmp_path / "sitegen.toml"
    cfg.write_text('[build]\ntop_k = 0\nprecision = "fp16"\n')
    with pytest.raises(ConfigError) as err:
        make_settings(cfg)
    assert str(err.value).splitlines() == [
        f"{cfg} has a setting that cannot work, so nothing was done. Fix it in the file:",
        "  - top_k must be a whole number from 1 to 1000 (got 0)",
        "  - precision must be one of auto, fp32, bf16 (got 'fp16')"]


def test_flags_and_direct_use_go_through_the_same_check(tmp_path):
    with pytest.raises(ConfigError, match=r"^A setting given on the command line cannot work: "
                                          r"page_size must be a whole number from 1 to 10000 \(got 0\)\.$"):
        make_settings(None, page_size=0)
    with pytest.raises(ConfigError, match=r"seed must be a whole number from 0 to 4294967295 \(got -1\)"):
        BuildSettings(seed=-1)
    with pytest.raises(ConfigError, match=r"title must be text \(got 3\)"):
        BuildSettings().replace(title=3)
    assert BuildSettings(out="elsewhere").out == Path("elsewhere"), "a path given as text becomes a Path"


def test_every_setting_is_documented():
    for info in describe_settings():
        assert len(info.doc) > 10, f"{info.name} has no text under its field"


def _other_value(info):
    """A valid value of the setting that differs from its default."""
    if info.rule.choices:
        return next(c for c in info.rule.choices if c != info.default)
    if info.kind is bool:
        return not info.default
    if info.kind is int:
        return info.default + 1 if info.rule.high is None or info.default < info.rule.high else info.default - 1
    if info.kind is Path:
        return Path("somewhere-else")
    return "https://example.org/x" if info.default is None else info.default + " (changed)"


def test_page_fingerprint_covers_only_what_changes_pages():
    base = BuildSettings()
    unchanged = set()
    for info in describe_settings():
        changed = base.replace(**{info.name: _other_value(info)})
        assert changed.fingerprint() != base.fingerprint()
        if changed.page_fingerprint() == base.page_fingerprint():
            unchanged.add(info.name)
    assert unchanged == {"batch_size", "device", "precision", "engine", "ray_address", "cache", "strict"}
    assert set(PAGE_SETTINGS) == {f.name for f in dataclasses.fields(BuildSettings)} - unchanged
