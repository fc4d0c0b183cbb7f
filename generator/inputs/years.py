"""The optional years file: each year's competition theme (``year,theme[,description]``)."""

from __future__ import annotations

import re
from pathlib import Path

from generator.errors import InputError
from generator.inputs.csvfile import read_csv
from generator.inputs.problems import Problem


def read_years(path: Path | str, problems: list[Problem]) -> dict[str, tuple[str, str]]:
    """year -> (theme, description or "") of every line of the years file.

    A missing file, a year that is not four digits, an empty theme or a year given twice stops the build
    with a message naming the file, the line and the fix.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: the years file does not exist. Check the path, or leave the setting out.")
    out: dict[str, tuple[str, str]] = {}
    for line, row in read_csv(path, ("year", "theme"), problems):
        year, theme = row["year"], row["theme"]
        if not re.fullmatch(r"\d{4}", year):
            raise InputError(f"{path} line {line}: the year '{year}' is not a year. Write it with four digits "
                             "(for example 2003) in the 'year' column.")
        if not theme:
            raise InputError(f"{path} line {line}: the theme of {year} is empty. Write that year's theme in the "
                             "'theme' column, or remove the line.")
        if year in out:
            raise InputError(f"{path} line {line}: the year {year} is given twice. Keep one line per year.")
        out[year] = (theme, row.get("description") or "")
    return out
