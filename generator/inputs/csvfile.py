"""The one reader of every CSV file the tool is given (artworks, pairs, artists, countries).

Spreadsheets save CSV in several ways, so the reader accepts UTF-8 with or
without a byte-order mark, ``,``, ``;`` or tab between columns, Windows line
ends, blank lines and spaces around values. A file that is not UTF-8 but reads
as Windows-1252 (what older Excel versions write for "CSV") is read that way and
reported, so that curly quotes and accented letters survive and the archivist
knows to check them; anything else stops with a message naming the file and
the fix.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from generator.errors import InputError
from generator.inputs.problems import Problem

SAVE_AS_UTF8 = "Save it from your spreadsheet as 'CSV UTF-8'"


def sniff_delimiter(header_line: str) -> str:
    """``;`` or ``\\t`` when the header row uses it more than ``,``; else ``,``.

    >>> sniff_delimiter("code;name;iso3"), sniff_delimiter("code,name"), sniff_delimiter("code\\tname")
    (';', ',', '\\t')
    """
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def decode_csv(raw: bytes, path: Path, problems: list[Problem]) -> str:
    """The text of a CSV file: UTF-8 (BOM or not), else Windows-1252 with a report line, else an error.

    >>> notes = []
    >>> decode_csv("\\ufefftitle\\nLe Déjeuner".encode("utf-8"), Path("a.csv"), notes), notes
    ('title\\nLe Déjeuner', [])
    >>> decode_csv(b"title\\n\\x93Starry\\x94", Path("a.csv"), notes), notes[0].kind
    ('title\\n“Starry”', 'encoding')
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
    if b"\x00" in raw:  # UTF-16 ("Unicode text") or not text at all
        raise InputError(f"{path} is not a text CSV file (it looks like UTF-16 or a spreadsheet). "
                         f"{SAVE_AS_UTF8}.")
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        raise InputError(f"{path} line {line}: the file is not UTF-8 text. {SAVE_AS_UTF8}.") from None
    problems.append(Problem(str(path), f"the file is not UTF-8 text (from line {line}); it was read as "
                            "Windows-1252, the Western European encoding older Excel versions use",
                            f"Check its accented letters and quotes on the site. {SAVE_AS_UTF8} to be sure.",
                            kind="encoding", skipped=False))
    return text


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path} does not exist. Check the path.") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder. Give the path of a CSV file.") from None
    except OSError as exc:
        raise InputError(f"{path} cannot be read ({exc.strerror or exc}). Check the path and permissions.") from None


def read_csv(path: Path, required: tuple[str, ...], problems: list[Problem]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV as (line number, row), keyed by the lower-case column names, values stripped.

    The header is the first non-blank line; blank lines are skipped. A missing file,
    a missing required column or broken quoting is an :class:`InputError` naming the
    file and the fix; a Windows-1252 file adds a line to ``problems``.
    """
    path = Path(path)
    text = decode_csv(_read_bytes(path), path, problems)
    header_line = next((ln for ln in text.splitlines() if ln.strip()), "")
    # strict: an unclosed quote would otherwise swallow every following line without a word
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(header_line), strict=True)
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    while True:
        line = reader.line_num + 1  # where the next record starts
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InputError(f"{path} line {line}: the CSV is malformed ({exc}). "
                             "Check the quotes on that line.") from None
        if not any(v.strip() for v in values):
            continue
        if header is None:
            header = [h.strip().lower() for h in values]
            _check_header(path, header, required)
            continue
        rows.append((line, {h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(header) if h}))
    if header is None:
        raise InputError(f"{path} is empty. It needs a header line with the columns {', '.join(required)}.")
    return rows


def _check_header(path: Path, header: list[str], required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(f"{path} has no column {', '.join(repr(c) for c in missing)} (found: "
                         f"{', '.join(h for h in header if h) or 'nothing'}). The first line must name the "
                         f"columns {', '.join(required)}.")

