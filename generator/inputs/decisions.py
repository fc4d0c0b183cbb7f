"""Review decisions: ``decisions.csv`` files saved from the site's review panel (or written by hand).

The contract, one row per reviewed suggestion::

    drawing,artwork,decision,note
    1994_10-13_2535_FRA,ada_lumen_4,confirmed,
    1994_10-13_2535_FRA,ada_lumen_7,rejected,same colours only

``drawing`` and ``artwork`` are the identifiers the site uses (the ``id`` columns
of ``data/drawings.csv`` and ``data/artworks.csv.gz``); ``decision`` is
``confirmed`` or ``rejected``; ``note`` is optional free text, never published.

Every row that cannot be used gives a report line naming the file, the line and
the fix: nothing is dropped without a word. A file that cannot be read at all
(missing columns, UTF-16, empty) gives one line and is left out.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.errors import InputError
from generator.inputs.csvfile import SAVE_AS_UTF8, read_csv
from generator.inputs.problems import Problem

COLUMNS = ("drawing", "artwork", "decision", "note")
REQUIRED = ("drawing", "artwork", "decision")
CONFIRMED, REJECTED = "confirmed", "rejected"
DECISION_WORDS = (CONFIRMED, REJECTED)
#: Where a confirmed pair comes from, as data/pairs.csv says it.
FROM_ARCHIVE, FROM_REVIEW = "archive", "review"
HEADER_FIX = "The first line must be: drawing,artwork,decision,note (the file the review panel saves has it)."


@dataclass(frozen=True)
class Decision:
    drawing: str
    artwork: str
    decision: str
    note: str
    where: str          # "<file> line <n>", for the report


@dataclass(frozen=True)
class Decisions:
    """The usable decisions of every file given, in a stable order (sorted by drawing, then artwork)."""

    confirmed: tuple[tuple[str, str], ...] = ()
    rejected: tuple[tuple[str, str], ...] = ()


def _problem(where: str, reason: str, fix: str, skipped: bool = True) -> Problem:
    return Problem(where, reason, fix, kind="decision", skipped=skipped)


def _unreadable(path: Path, raw: bytes) -> Problem | None:
    """One report line when the whole file cannot be used (empty, UTF-16), else None."""
    fix_nothing = "Nothing in this file was used."
    if not raw.strip(b" \t\r\n\xef\xbb\xbf"):
        return _problem(str(path), "the file is empty", f"{fix_nothing} Save the decisions again from the site's "
                        f"review panel, or write the header line drawing,artwork,decision,note and one line per "
                        "decision.")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in raw[:4096]:
        return _problem(str(path), "the file is saved as UTF-16 ('Unicode text'), which this tool does not read",
                        f"{fix_nothing} {SAVE_AS_UTF8} and build again.")
    return None


def _read_rows(path: Path, problems: list[Problem]) -> list[tuple[int, dict[str, str]]]:
    """The rows of one file, or none with a report line when the file cannot be read."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(_problem(str(path), f"the file cannot be read ({exc.strerror or exc})",
                                 "Check the path given with --decisions."))
        return []
    bad = _unreadable(path, raw)
    if bad is not None:
        problems.append(bad)
        return []
    notes: list[Problem] = []
    try:
        rows = read_csv(path, (), notes)
    except InputError as exc:
        problems.append(_problem(str(path), str(exc).removeprefix(str(path)).strip(" :"),
                                 "Nothing in this file was used."))
        return []
    # Windows-1252 files are read and reported (as for the other CSV files), as a decisions line.
    problems.extend(_problem(n.file, n.reason, n.fix, skipped=False) for n in notes)
    header = set(rows[0][1]) if rows else set(_header_of(raw))
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        found = ", ".join(sorted(h for h in header if h)) or "nothing"
        problems.append(_problem(f"{path} line 1", f"the column{'s' if len(missing) > 1 else ''} "
                                 f"{', '.join(missing)} {'are' if len(missing) > 1 else 'is'} missing "
                                 f"(found: {found})", f"Nothing in this file was used. {HEADER_FIX}"))
        return []
    if not rows:
        problems.append(_problem(str(path), "the file has a header line but no decisions",
                                 "Save the decisions again from the site's review panel after reviewing "
                                 "some suggestions.", skipped=False))
    return rows


def _header_of(raw: bytes) -> list[str]:
    """The column names of a file's first non-empty line (the file's bytes, already read)."""
    text = raw.decode("utf-8-sig", errors="replace")
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    return [h.strip().lower() for h in first.replace(";", ",").replace("\t", ",").split(",")]


#: Unknown identifiers for which the closest known one is looked for (a file from another site could
#: name thousands; the search is slow over a whole archive).
SUGGEST_AT_MOST = 50


class _Known:
    """The identifiers of one kind, and the closest known one to a mistyped identifier."""

    def __init__(self, ids: Iterable[str]):
        self.ids = set(ids)
        self.by_start: dict[str, list[str]] = {}
        for i in sorted(self.ids):
            self.by_start.setdefault(i[:4], []).append(i)
        self.suggested = 0

    def __contains__(self, value: str) -> bool:
        return value in self.ids

    def closest(self, value: str) -> str | None:
        """The known identifier the value most likely meant: the file name's stem without side and quality,
        else a close spelling among identifiers starting alike."""
        stem = Path(value).stem
        for cut in (stem, re.sub(r"_[RV]_[A-Z]$", "", stem, flags=re.I), stem.lower()):
            if cut in self.ids and cut != value:
                return cut
        if self.suggested >= SUGGEST_AT_MOST:
            return None
        self.suggested += 1
        close = difflib.get_close_matches(value, self.by_start.get(value[:4], [])[:5000], n=1, cutoff=0.8)
        return close[0] if close else None


def _unknown(value: str, what: str, known: _Known) -> tuple[str, str]:
    """(reason, fix) for an identifier the site does not know, with the closest known one when there is one."""
    close = known.closest(value)
    hint = f" Did you mean {close}?" if close else ""
    table = "drawings.csv" if what == "drawing" else "artworks.csv.gz"
    return (f"no published {what} has the identifier '{value}'",
            f"Use the {what}'s identifier as the site shows it (the id column of data/{table}).{hint} "
            "This line was not used.")


def _check_row(where: str, row: dict[str, str], drawing_ids: _Known, artwork_ids: _Known,
               problems: list[Problem]) -> Decision | None:
    d, a = row.get("drawing", ""), row.get("artwork", "")
    word = row.get("decision", "").strip().lower()
    if not d or not a:
        problems.append(_problem(where, "the drawing or the artwork is empty",
                                 "Fill in both identifiers, or delete the line. This line was not used."))
        return None
    if word not in DECISION_WORDS:
        problems.append(_problem(where, f"the decision '{row.get('decision', '')}' is neither confirmed nor rejected",
                                 "Write confirmed or rejected in the decision column. This line was not used."))
        return None
    for value, what, known in ((d, "drawing", drawing_ids), (a, "artwork", artwork_ids)):
        if value not in known:
            problems.append(_problem(where, *_unknown(value, what, known)))
            return None
    return Decision(d, a, word, row.get("note", ""), where)


def read_decisions(paths: Sequence[Path], drawing_ids: Iterable[str], artwork_ids: Iterable[str],
                   problems: list[Problem]) -> Decisions:
    """The decisions of every file, later files read after earlier ones; report lines go to ``problems``.

    A pair named twice with the same decision is used once and reported; a pair both
    confirmed and rejected is not used at all and reported, both lines named.
    """
    drawing_ids, artwork_ids = _Known(drawing_ids), _Known(artwork_ids)
    first: dict[tuple[str, str], Decision] = {}
    contradicted: set[tuple[str, str]] = set()
    for path in paths:
        path = Path(path)
        for line, row in _read_rows(path, problems):
            dec = _check_row(f"{path} line {line}", row, drawing_ids, artwork_ids, problems)
            if dec is None:
                continue
            pair = (dec.drawing, dec.artwork)
            earlier = first.get(pair)
            if earlier is None:
                first[pair] = dec
            elif earlier.decision == dec.decision:
                problems.append(_problem(dec.where, f"the same decision ({dec.decision}) on {dec.drawing} and "
                                         f"{dec.artwork} is already on {earlier.where}",
                                         "Delete one of the two lines; the decision is used once.", skipped=False))
            else:
                contradicted.add(pair)
                problems.append(_problem(dec.where, f"{dec.drawing} and {dec.artwork} are {dec.decision} here but "
                                         f"{earlier.decision} on {earlier.where}",
                                         "Keep only the right line; until then neither is used."))
    usable = [dec for pair, dec in sorted(first.items()) if pair not in contradicted]
    return Decisions(tuple((d.drawing, d.artwork) for d in usable if d.decision == CONFIRMED),
                     tuple((d.drawing, d.artwork) for d in usable if d.decision == REJECTED))


@dataclass(frozen=True)
class ReviewedPairs:
    """The confirmed pairs after the decisions (archive's and review's), where each comes from, and the
    rejected suggestions."""

    pairs: tuple[tuple[str, str], ...]
    source: dict[tuple[str, str], str]
    rejected: tuple[tuple[str, str], ...]


def merge_decisions(archive: Sequence[tuple[str, str]], decisions: Decisions, *, decisions_win: bool,
                    pairs_file: object, problems: list[Problem]) -> ReviewedPairs:
    """The archive's pairs with the review's confirmed pairs added and its rejections applied.

    A rejection of a pair the archive's file confirms is reported: the archive's file
    wins, unless ``decisions_win``, which removes the pair from the confirmed ones.
    """
    archive_set = set(archive)
    source = {p: FROM_ARCHIVE for p in archive_set}
    rejected = []
    for pair in decisions.rejected:
        if pair not in archive_set:
            rejected.append(pair)
            continue
        if decisions_win:
            problems.append(_problem(f"{pairs_file}", f"{pair[0]} and {pair[1]} are confirmed there but rejected "
                                     "in a decisions file; the rejection is used (--decisions-win)",
                                     "Remove the line from the pairs file to make it agree.", skipped=False))
            del source[pair]
            rejected.append(pair)
        else:
            problems.append(_problem(f"{pairs_file}", f"{pair[0]} and {pair[1]} are confirmed there but rejected "
                                     "in a decisions file; the pairs file wins",
                                     "Remove the line from one of the two files, or build with --decisions-win "
                                     "to let the decisions win."))
    for pair in decisions.confirmed:
        source.setdefault(pair, FROM_REVIEW)
    return ReviewedPairs(tuple(sorted(source)), source, tuple(sorted(rejected)))
