"""Progress while pictures are embedded or made: a function per task that is told how many are done.

The library calls ``progress(label, total)`` and then the function it returns with each number done; the
command line passes :func:`tqdm_progress`, a bar on the terminal, and everything else passes nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

Progress = Callable[[str, int], Callable[[int], None]]


def no_progress(label: str, total: int):
    return lambda n: None


def tqdm_progress(label: str, total: int):
    from tqdm import tqdm

    bar = tqdm(total=total, desc=label, unit="img", file=sys.stderr, leave=False,
               disable=total < 2 or not sys.stderr.isatty())

    def update(n: int):
        bar.update(n)
        if bar.n >= total:
            bar.close()
    return update
