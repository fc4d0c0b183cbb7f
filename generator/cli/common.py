"""What every command shares: the path type and the one place a domain error becomes a message."""

from __future__ import annotations

from pathlib import Path

import click

from generator.errors import SitegenError

PATH = click.Path(path_type=Path)


def _fail(exc: SitegenError) -> None:
    raise click.ClickException(str(exc))
