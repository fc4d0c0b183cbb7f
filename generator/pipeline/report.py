"""The build's report: its counts, notes, problems and warnings, the text shown at the end of a build and the
report file, and each stage's time as it ends."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from generator.fsutil import return_free_memory, write_atomic
from generator.inputs.collection import Problem
from generator.inputs.problems import report_sections, skipped_first

#: Above this size the build warns: GitHub Pages refuses sites over 1 GB.
SITE_WARN_BYTES = 800_000_000


@dataclass
class BuildReport:
    drawings: int = 0
    artworks: int = 0
    pairs: int = 0
    verso_skipped: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the site leaves out, and the setting that adds it
    timings: dict[str, float] = field(default_factory=dict)
    computed: dict[str, int] = field(default_factory=dict)  # what was computed rather than read from the cache
    site_bytes: int = 0
    site_files: int = 0
    images_out: Path | None = None  # --image-base-url: the folder of display pictures to upload there
    out: Path | None = None
    report_file: Path | None = None
    embedded_line: str = ""  # embedded N pictures, M from the cache
    #: The site's files as the build left them (path -> size, time, digest), for the record of the build.
    site_manifest: dict | None = field(default=None, repr=False)

    def timing_lines(self) -> list[str]:
        return [f"  {stage:<12} {secs:7.2f} s" for stage, secs in self.timings.items()]

    def lines(self) -> list[str]:
        """The summary shown at the end of a build (each stage's time is shown as it ends, not again here)."""
        out = [f"Published {self.drawings} drawings and {self.artworks} artworks ({self.pairs} known "
               f"re-creations); {self.verso_skipped} back scans kept private."]
        out.append(f"Site: {self.site_files} files, {self.site_bytes / 1e6:.1f} MB in {self.out}")
        if self.images_out is not None:
            out.append(f"Display pictures: {self.images_out} (upload its contents to the --image-base-url address)")
        out.extend(self.notes)
        if self.problems:
            out.append(f"{len(self.problems)} files need attention:")
            out.extend(report_sections(self.problems, 10, self.report_file))
        out.extend(f"Warning: {w}" for w in self.warnings)
        return out


@contextmanager
def timed(report: BuildReport, stage: str, echo: Callable[[str], None], detail: Callable[[], str] = str):
    start = time.perf_counter()
    yield
    return_free_memory()   # what the stage freed goes back to the system before the next one
    report.timings[stage] = time.perf_counter() - start
    more = detail()
    echo(f"{stage}: {report.timings[stage]:.2f} s" + (f"; {more}" if more else ""))


def problem_summary(problems: list[Problem], intro: str) -> str:
    lines = [f"{intro}: {len(problems)} problem(s) with the inputs."]
    return "\n".join(lines + report_sections(problems, 10))


def review_note(confirmed_in_review: int, rejected: int) -> str:
    """The report's line on the review decisions (--decisions)."""
    return (f"Review decisions: {confirmed_in_review} re-creation{'s' * (confirmed_in_review != 1)} confirmed in a "
            f"review, {rejected} suggestion{'s' * (rejected != 1)} rejected and no longer shown "
            "(listed in data/rejected.csv).")


def size_warning(site_bytes: int) -> str | None:
    """The warning of a site too large for GitHub Pages, or None."""
    if site_bytes <= SITE_WARN_BYTES:
        return None
    return (f"The site is {site_bytes / 1e6:.0f} MB; GitHub Pages refuses sites over 1 GB. Make it smaller "
            "with --thumb-size and --display-size, or serve the display pictures from elsewhere with "
            "--image-base-url.")


def write_report_file(report: BuildReport, path: Path) -> None:
    """The report file of the cache folder: the summary, each stage's time and every problem."""
    report.report_file = path
    write_atomic(path, "\n".join(report.lines() + ["", "Time per stage:"] + report.timing_lines() +
                                 ["", "All problems:"] + [f"- {p}" for p in skipped_first(report.problems)]) + "\n")
