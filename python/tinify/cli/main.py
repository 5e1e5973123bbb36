"""Entry point of the ``tinify`` command: argument parsing and dispatch to sub-commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tinify.cli import demo

__all__ = ["main"]

COMMANDS = {"demo": demo}


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the ``tinify`` command line; returns the process exit status."""
    parser = argparse.ArgumentParser(
        prog="tinify", description="Learned image compression with a Rust core."
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        module.add_parser(commands.add_parser(name, help=module.HELP, description=module.__doc__))
    args = parser.parse_args(argv)
    if args.version:
        from tinify import __version__

        print(__version__)
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command].run(args)
    except (ValueError, TypeError, OSError) as err:
        print(f"tinify {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
