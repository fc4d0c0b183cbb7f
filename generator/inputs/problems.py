"""One line of the build report, and the order in which the report shows them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

#: Plain words for each kind of report line, used in the counts.
KIND_WORDS = {
    "image": "pictures",
    "name": "file names",
    "link": "links",
    "duplicate": "duplicates",
    "csv": "CSV lines",
    "encoding": "CSV encoding",
    "country": "country codes",
    "decision": "review decisions",
    "input": "other",
}


#: Order of the skipped lines: pictures that could not be read first (they are the files to scan or copy
#: again), then what the scan left out on purpose, then CSV lines.
SKIPPED_ORDER = ("image", "link", "name", "duplicate", "csv", "encoding", "decision", "country", "input")


@dataclass(frozen=True)
class Problem:
    """One line of the build report: what file, what is wrong, what to do.

    ``skipped`` says whether something of the inputs was left out of the site (a
    picture, a folder, a CSV line); a line with ``skipped=False`` is a note about
    something that is published all the same.
    """

    file: str
    reason: str
    fix: str
    kind: str = "input"
    skipped: bool = True

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}. {self.fix}"


def _rank(p: Problem) -> int:
    return SKIPPED_ORDER.index(p.kind) if p.kind in SKIPPED_ORDER else len(SKIPPED_ORDER)


def skipped_first(problems: list[Problem]) -> list[Problem]:
    """What was left out (unreadable pictures first, see ``SKIPPED_ORDER``), then the notes in their order."""
    return sorted((p for p in problems if p.skipped), key=_rank) + [p for p in problems if not p.skipped]


def count_by_kind(problems: list[Problem]) -> str:
    """How many lines of each kind, most frequent first.

    >>> count_by_kind([Problem("a", "r", "f", "image"), Problem("b", "r", "f", "name"), Problem("c", "r", "f", "image")])
    'pictures: 2, file names: 1'
    """
    counts = Counter(p.kind for p in problems)
    return ", ".join(f"{KIND_WORDS.get(kind, kind)}: {n}"
                     for kind, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def report_sections(problems: list[Problem], limit: int = 10, more_in: object = None) -> list[str]:
    """Console lines: the skipped files, then the notes, each with its counts and at most ``limit`` lines.

    What is left out of the site comes first: a long run of notes must not hide it.
    """
    ordered = skipped_first(problems)
    out = []
    for title, part in (("Skipped (not published)", [p for p in ordered if p.skipped]),
                        ("Notes (published all the same)", [p for p in ordered if not p.skipped])):
        if not part:
            continue
        out.append(f"{title}: {len(part)} ({count_by_kind(part)})")
        out.extend(f"  - {p}" for p in part[:limit])
        if len(part) > limit:
            out.append(f"  ... and {len(part) - limit} more" + (f" in {more_in}" if more_in else ""))
    return out
