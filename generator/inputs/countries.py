"""Country codes used by the archive, and their names.

The archive names countries with its own three-letter codes. Most are ISO 3166-1
alpha-3 codes (``FRA``, ``DEU``) or IOC (Olympic) codes (``GER``, ``SUI``), a few
are historic (``YUG``, ``ZAR``) and a few are the archive's own (``LBA``).

The built-in table ``generator/data/countries.csv`` (columns ``code,name,iso3``,
UTF-8, sorted by code) holds:

* every current ISO 3166-1 alpha-3 code, with its common English short name
  ("South Korea", "Iran", "Vietnam" rather than "Korea, Republic of" ...);
* every current IOC code that differs from the ISO code of the same country
  (``GER`` Germany, ``NED`` Netherlands, ``RSA`` South Africa, ``KSA`` ...);
* historic codes an archive spanning 1994-2020 may contain: withdrawn ISO codes
  (``YUG``, ``SCG``, ``ANT``, ``TMP``, ``ZAR``, ``ROM``, ``CSK``, ``SUN``) and
  former IOC codes (``AHO``, ``ZAI``, ``SIN``, ``TRI``, ``TCH``, ``URS``);
  plus ``KOS``/``XKX`` for Kosovo;
* the archive's own codes: ``LBA`` = Lebanon.

When one code means different countries in different systems, the meaning is
taken in this order, first wins:

1. the archive's own codes (``LBA`` is Lebanon, although IOC ``LBA`` is Libya;
   IOC ``LIB`` is also Lebanon);
2. current ISO 3166-1 (``BRN`` is Brunei, although IOC ``BRN`` is Bahrain);
3. the historic codes listed above (``ANT`` is the Netherlands Antilles, although
   IOC ``ANT`` is Antigua and Barbuda);
4. current IOC codes. ISO codes withdrawn before 1994 that are not listed above
   do not count, so ``BUR`` is Burkina Faso (IOC), not Burma.

``iso3`` is the current ISO 3166-1 alpha-3 code of the same country, or empty
(``None``) for a state that no longer exists as one (``YUG``, ``SCG``, ``ANT``,
``CSK``, ``SUN``) or has no ISO code (Kosovo).

A fourth column, ``numeric``, holds the ISO 3166-1 numeric code that goes with
``iso3`` (``LBN`` -> ``422``), empty when ``iso3`` is; it was filled once from
the ISO 3166-1 table of the ``pycountry`` package. The world map finds a
country's outline by it (see :func:`iso_numeric`).

A site may add or correct codes with an override CSV (see :func:`load_countries`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterator, Mapping

from generator.errors import InputError
from generator.inputs.csvfile import read_csv
from generator.inputs.problems import Problem

__all__ = ["Country", "CountryTable", "iso_numeric", "load_countries"]

_CODE_RE = re.compile(r"^[A-Za-z]{2,4}$")
_ISO3_RE = re.compile(r"^[A-Za-z]{3}$")


@dataclass(frozen=True)
class Country:
    """One country code of the archive.

    >>> Country("GER", "Germany", "DEU")
    Country(code='GER', name='Germany', iso3='DEU')
    """

    code: str
    name: str
    iso3: str | None


class CountryTable:
    """Archive code -> :class:`Country`. Codes are matched case-insensitively.

    >>> t = CountryTable([Country("LBA", "Lebanon", "LBN")])
    >>> t.lookup("lba")
    Country(code='LBA', name='Lebanon', iso3='LBN')
    >>> t.name("LBA"), t.name("XYZ")
    ('Lebanon', 'XYZ')
    >>> "lba" in t, "XYZ" in t, len(t)
    (True, False, 1)
    """

    def __init__(self, countries: Mapping[str, Country] | list[Country] | tuple[Country, ...] = ()):
        if isinstance(countries, Mapping):
            countries = list(countries.values())
        self._by_code: dict[str, Country] = {c.code.strip().upper(): c for c in countries}

    @staticmethod
    def _key(code: object) -> str | None:
        if not isinstance(code, str):
            return None
        return code.strip().upper()

    def lookup(self, code: str) -> Country | None:
        """The country for ``code`` (any case, surrounding spaces ignored), or ``None``.

        >>> t = CountryTable([Country("FRA", "France", "FRA")])
        >>> t.lookup(" fra ").name
        'France'
        >>> t.lookup("ZZZ") is None
        True
        """
        key = self._key(code)
        return None if key is None else self._by_code.get(key)

    def name(self, code: str) -> str:
        """The country's name, or ``code`` itself, unchanged, when the code is unknown.

        >>> t = CountryTable([Country("FRA", "France", "FRA")])
        >>> t.name("fra"), t.name("Atlantis")
        ('France', 'Atlantis')
        """
        country = self.lookup(code)
        return code if country is None else country.name

    def __contains__(self, code: object) -> bool:
        key = self._key(code)
        return key is not None and key in self._by_code

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self) -> Iterator[Country]:
        """The countries, sorted by code."""
        return iter(sorted(self._by_code.values(), key=lambda c: c.code))

    def __repr__(self) -> str:
        return f"CountryTable({len(self)} codes)"


def _builtin_rows() -> list[dict[str, str]]:
    text = resources.files(__package__ or "generator").joinpath("data/countries.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


@lru_cache(maxsize=1)
def _builtin() -> tuple[Country, ...]:
    return tuple(Country(row["code"], row["name"], row["iso3"] or None) for row in _builtin_rows())


@lru_cache(maxsize=1)
def iso_numeric() -> dict[str, str]:
    """ISO 3166-1 alpha-3 code -> ISO 3166-1 numeric code (three digits), from the built-in table.

    >>> iso_numeric()["LBN"], iso_numeric()["AUS"], len(iso_numeric())
    ('422', '036', 249)
    """
    return {row["iso3"]: row["numeric"] for row in _builtin_rows() if row["iso3"] and row["numeric"]}


def load_countries(override_csv: Path | str | None = None, problems: list[Problem] | None = None) -> CountryTable:
    """The built-in country table, with the rows of ``override_csv`` (if given) on top.

    The override file has a header row with the columns ``code`` and ``name`` and
    optionally ``iso3``; other columns are ignored. A row replaces the built-in row
    with the same code or adds a new code. An empty ``iso3`` keeps the built-in
    ``iso3`` of a known code. The file may be saved with or without a UTF-8 BOM,
    use ``,`` or ``;`` between columns, and have CRLF line ends, blank lines and
    spaces around the values; a Windows-1252 file is read and reported in
    ``problems`` (give a list to see the report line). Problems raise
    :class:`~generator.errors.InputError` naming the file and the line.

    >>> countries = load_countries()
    >>> countries.name("LBA"), countries.name("GER"), countries.name("DEU")
    ('Lebanon', 'Germany', 'Germany')
    >>> countries.lookup("sui")
    Country(code='SUI', name='Switzerland', iso3='CHE')
    >>> countries.lookup("QQQ") is None, countries.name("QQQ")
    (True, 'QQQ')
    """
    table = {c.code: c for c in _builtin()}
    if override_csv is not None:
        for country in _read_override(Path(override_csv), [] if problems is None else problems):
            if country.iso3 is None and country.code in table:
                country = Country(country.code, country.name, table[country.code].iso3)
            table[country.code] = country
    return CountryTable(table)


def _read_override(path: Path, problems: list[Problem]) -> list[Country]:
    if not path.exists():
        raise InputError(f"{path}: the country override file does not exist. Check the path, or leave the setting out.")
    return [_parse_row(path, line, row) for line, row in read_csv(path, ("code", "name"), problems)]


def _parse_row(path: Path, line: int, row: dict[str, str]) -> Country:
    code_col = list(row).index("code")
    where = "the first column" if code_col == 0 else f"the 'code' column (column {code_col + 1})"
    code = row["code"]
    if not code:
        raise InputError(f"{path} line {line}: the code '' is empty. Give a three-letter code in {where}.")
    if not _CODE_RE.match(code):
        raise InputError(
            f"{path} line {line}: the code {code!r} is not 2 to 4 letters. "
            f"Give a letter code such as 'FRA' in {where}."
        )
    name = row["name"]
    if not name:
        raise InputError(f"{path} line {line}: the name for {code.upper()!r} is empty. Give the country's name in the 'name' column.")
    iso3 = row.get("iso3", "")
    if iso3 and not _ISO3_RE.match(iso3):
        raise InputError(
            f"{path} line {line}: the iso3 code {iso3!r} is not three letters. "
            "Give an ISO 3166-1 alpha-3 code such as 'FRA', or leave the cell empty."
        )
    return Country(code.upper(), name, iso3.upper() or None)
