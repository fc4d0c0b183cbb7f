"""The ``sitegen`` command line: a thin layer that turns domain errors into plain messages."""

from generator.cli.main import cli, main

__all__ = ["cli", "main"]
