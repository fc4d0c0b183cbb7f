"""Tests for generator.inputs.countries: the built-in code table and the override CSV."""

from __future__ import annotations

import csv
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from generator.inputs.countries import Country, CountryTable, load_countries
from generator.errors import InputError


@pytest.fixture(scope="module")
def countries() -> CountryTable:
    return load_countries()


def test_lba_is_lebanon(countries):
    assert countries.lookup("LBA") == Country("LBA", "Lebanon", "LBN")
    assert countries.name("LIB") == "Lebanon"  # IOC code for Lebanon


def test_deu_and_ger_are_germany(countries):
    assert countries.lookup("DEU") == Country("DEU", "Germany", "DEU")
    assert countries.lookup("GER") == Country("GER", "Germany", "DEU")


@pytest.mark.parametrize(
    "code, name, iso3",
    [
        ("SGP", "Singapore", "SGP"),
        ("FRA", "France", "FRA"),
        ("SUI", "Switzerland", "CHE"),
        ("NED", "Netherlands", "NLD"),
        ("RSA", "South Africa", "ZAF"),
        ("KOR", "South Korea", "KOR"),
        ("BRN", "Brunei", "BRN"),  # ISO wins over IOC BRN (Bahrain)
        ("BRU", "Brunei", "BRN"),
        ("YUG", "Yugoslavia", None),
        ("ZAR", "Zaire", "COD"),
        ("TMP", "East Timor", "TLS"),
        ("ANT", "Netherlands Antilles", None),
    ],
)
def test_known_codes(countries, code, name, iso3):
    assert countries.lookup(code) == Country(code, name, iso3)


def test_lookup_is_case_insensitive(countries):
    assert countries.lookup("fra") == countries.lookup("FRA")
    assert "ger" in countries


def test_unknown_code(countries):
    assert countries.lookup("QQQ") is None
    assert countries.name("QQQ") == "QQQ"
    assert "QQQ" not in countries
    assert None not in countries
    assert 42 not in countries


def test_builtin_table_is_sorted_complete_and_well_formed():
    text = resources.files("generator.inputs").joinpath("data/countries.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == ["code", "name", "iso3", "numeric"]
    codes = [r[0] for r in rows[1:]]
    assert codes == sorted(codes)
    assert len(codes) == len(set(codes))
    iso3s = {r[2] for r in rows[1:] if r[2]}
    assert len(iso3s) == 249  # every ISO 3166-1 alpha-3 code
    assert iso3s <= set(codes)
    numeric_of = {}
    for code, name, iso3, numeric in rows[1:]:
        assert code.isupper() and 2 <= len(code) <= 4 and name
        # the ISO 3166-1 numeric code goes with the alpha-3 code: three digits, the same on every row
        assert (len(numeric) == 3 and numeric.isdigit()) if iso3 else numeric == "", code
        assert numeric_of.setdefault(iso3, numeric) == numeric, code
    assert len({n for n in numeric_of.values() if n}) == 249
    assert numeric_of["LBN"] == "422" and numeric_of["FRA"] == "250" and numeric_of["AUS"] == "036"


def test_no_torch_import():
    code = "import sys, generator.inputs.countries as m; m.load_countries(); sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[1]).returncode == 0


def test_override_replaces_and_adds(tmp_path):
    p = tmp_path / "countries.csv"
    p.write_text("code,name,iso3,note\nFRA,République française,,x\nXEN,Xenia,\nLBA,Libya,LBY\n", encoding="utf-8")
    t = load_countries(p)
    assert t.lookup("FRA") == Country("FRA", "République française", "FRA")  # iso3 kept
    assert t.lookup("XEN") == Country("XEN", "Xenia", None)
    assert t.lookup("LBA") == Country("LBA", "Libya", "LBY")
    assert t.name("GER") == "Germany"
    assert load_countries().name("LBA") == "Lebanon"  # built-in table not changed


def test_override_without_iso3_column(tmp_path):
    p = tmp_path / "o.csv"
    p.write_text("name,code\nDeutschland,ger\n", encoding="utf-8")
    assert load_countries(str(p)).lookup("GER") == Country("GER", "Deutschland", "DEU")


def test_override_bom_semicolon_crlf_blank_lines_spaces(tmp_path):
    p = tmp_path / "excel.csv"
    p.write_bytes(
        "\ufeffcode ; name ; iso3\r\n\r\n  LBA ; Liban ; LBN \r\n;;\r\n XEN;Xenia, Land of;\r\n\r\n".encode("utf-8")
    )
    t = load_countries(p)
    assert t.lookup("LBA") == Country("LBA", "Liban", "LBN")
    assert t.lookup("xen") == Country("XEN", "Xenia, Land of", None)


def test_missing_column_names_the_file(tmp_path):
    p = tmp_path / "my-countries.csv"
    p.write_text("code,label\nFRA,France\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_countries(p)
    msg = str(err.value)
    assert "my-countries.csv" in msg
    assert "'name'" in msg
    assert "code, name" in msg


def test_empty_code_error(tmp_path):
    p = tmp_path / "countries.csv"
    p.write_text("code,name,iso3\nFRA,France,FRA\n\nGER,Germany,DEU\n,Nowhere,\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_countries(p)
    assert str(err.value) == (
        f"{p} line 5: the code '' is empty. Give a three-letter code in the first column."
    )


@pytest.mark.parametrize("bad", ["F", "FRANC", "FR1", "F-R"])
def test_bad_code_error(tmp_path, bad):
    p = tmp_path / "countries.csv"
    p.write_text(f"code,name\n{bad},Somewhere\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"countries\.csv line 2: the code .* is not 2 to 4 letters"):
        load_countries(p)


def test_missing_file_and_bad_encoding(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_countries(tmp_path / "nope.csv")
    p = tmp_path / "odd.csv"
    p.write_bytes(b"code,name\nCIV,C\x81te d'Ivoire\n")  # a byte that no Western encoding uses
    with pytest.raises(InputError, match=r"odd\.csv line 2: .*UTF-8"):
        load_countries(p)
