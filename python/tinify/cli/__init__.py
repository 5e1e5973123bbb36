"""The ``tinify`` command line."""

from tinify.cli.main import main

__all__ = ["main"]
