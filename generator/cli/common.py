"""What every command shares: the path type and the one place a domain error becomes a message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from generator.errors import SitegenError

PATH = click.Path(path_type=Path)


def _fail(exc: SitegenError) -> None:
    raise click.ClickException(str(exc))


def setting_option(info) -> Callable:
    """The click option of one setting (build or training): its type, range, choices and help come from the
    settings."""
    if info.many:
        # Not given: None (not an empty list), so the values from sitegen.toml stay.
        kind = click.Choice(list(info.rule.choices)) if info.rule.choices else PATH if info.kind is Path else str
        decls, kw = [info.flag], {"type": kind, "multiple": True,
                                  "callback": lambda ctx, param, value: tuple(value) or None}
    elif info.kind is bool:
        decls, kw = [f"{info.flag}/--no-{info.flag[2:]}"], {}
    elif info.rule.choices and not info.rule.pattern:
        decls, kw = [info.flag], {"type": click.Choice(list(info.rule.choices))}
    elif info.kind is int:
        decls, kw = [info.flag], {"type": click.IntRange(info.rule.low, info.rule.high)}
    elif info.kind is float:
        low = info.rule.above if info.rule.above is not None else info.rule.low
        decls, kw = [info.flag], {"type": click.FloatRange(low, info.rule.high, min_open=info.rule.above is not None)}
    else:
        decls, kw = [info.flag], {"type": PATH if info.kind is Path else str}
    help_text = info.doc
    if info.default is not None:
        shown = ", ".join(info.default) if info.many else info.default
        help_text += f" (default: {('on' if info.default else 'off') if info.kind is bool else shown})"
    # default=None: a flag that is not given leaves the value from sitegen.toml (or the default) alone.
    return click.option(*decls, info.name, default=None, metavar=info.rule.metavar, help=help_text, **kw)
