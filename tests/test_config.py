"""Settings: sitegen.toml, flags winning over it, unknown countries reported."""

from pathlib import Path

import pytest

from generator.inputs.collection import load_collection
from generator.build.config import make_settings
from generator.inputs.countries import load_countries
from generator.errors import ConfigError
from generator.build.pipeline import unknown_country_problems

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
