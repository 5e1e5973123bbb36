"""Entry point of the ``tinify`` command: parsing, lazy dispatch to the command modules, and
the one place where errors become a line on stderr and an exit status."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

__all__ = ["COMMANDS", "EXTRAS", "error_line", "main"]

#: Sub-command name → module implementing it. Each module has ``HELP`` (one line),
#: ``add_parser(parser)`` and ``run(args) -> int``; it is imported only when its command is
#: parsed or run, so ``tinify --help`` and ``tinify info`` never load torch.
COMMANDS: dict[str, str] = {
    "demo": "tinify.cli.demo",
    "compress": "tinify.cli.compress",
    "decompress": "tinify.cli.decompress",
    "info": "tinify.cli.info",
    "eval": "tinify.cli.eval",
    "bench": "tinify.cli.bench",
    "plot": "tinify.cli.plot",
    "bdrate": "tinify.cli.bdrate",
    "update": "tinify.cli.update",
    "train": "tinify.cli.train",
}

#: One-line help of each command, so that ``tinify --help`` imports none of the modules.
SUMMARIES: dict[str, str] = {
    "demo": "compress and decompress a photograph with the default model; print size, PSNR, times",
    "compress": "compress images (files, folders, globs) to .tfy files",
    "decompress": "decompress .tfy files to images",
    "info": "show the header of a .tfy file",
    "eval": "rate-distortion evaluation of a model on a folder of images (JSON)",
    "bench": "rate-distortion evaluation of JPEG, WebP, AVIF or JPEG XL (JSON)",
    "plot": "plot rate-distortion curves from results JSON files",
    "bdrate": "Bjøntegaard delta rate and PSNR of results against an anchor",
    "train": "train a model on a folder of images (one machine or torchrun)",
    "update": "rebuild a checkpoint's CDF tables and save it as NAME-<sha256[:8]>.pth.tar",
}

#: Optional dependency (top-level module name) → the extra that installs it.
EXTRAS: dict[str, str] = {
    "matplotlib": "plot",
    "pytorch_msssim": "eval",
    "bjontegaard": "eval",
    "pillow_jxl": "jxl",
}

_USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError, OSError)


def error_line(command: str | None, err: BaseException) -> str:
    """The one line a user error becomes on stderr: ``tinify CMD: error: message``."""
    message = " ".join(str(err).split()) or type(err).__name__
    prefix = f"tinify {command}" if command else "tinify"
    return f"{prefix}: error: {message}"


def _missing_extra(err: ModuleNotFoundError) -> str | None:
    top = (err.name or "").split(".")[0]
    if top not in EXTRAS:
        return None
    return f'{top} is not installed: pip install "tinify[{EXTRAS[top]}]"'


def _parser(command: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinify",
        description="Learned image compression with a Rust core.",
        epilog="Run 'tinify COMMAND --help' for a command's options.\n\nexamples:\n"
        "  tinify demo\n  tinify compress photo.png -q 3\n  tinify decompress photo.tfy\n"
        "  tinify eval images/ -m bmshj2018-hyperprior -q 1,2,3 -o hyperprior.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if name == command:
            module = _module(name)
            sub = commands.add_parser(
                name,
                help=module.HELP,
                description=(module.__doc__ or module.HELP).strip(),
                epilog=getattr(module, "EPILOG", None),
                formatter_class=argparse.RawDescriptionHelpFormatter,
            )
            module.add_parser(sub)
        else:
            commands.add_parser(name, help=SUMMARIES.get(name, ""), add_help=False)
    return parser


def _module(name: str) -> ModuleType:
    return importlib.import_module(COMMANDS[name])


def _command_of(argv: Sequence[str]) -> str | None:
    # The first argument naming a command: only that command's module is imported.
    for arg in argv:
        if arg in COMMANDS:
            return arg
        if not arg.startswith("-"):
            return None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the ``tinify`` command line; returns the process exit status.

    A user error (a ValueError, TypeError or OSError, which includes
    :class:`tinify.tfy.TfyError`) becomes one line on stderr and status 1; a missing optional
    dependency names the extra that installs it; Ctrl-C is status 130.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _command_of(argv)
    try:
        parser = _parser(command)
        args = parser.parse_args(argv)
        if args.version:
            from tinify import __version__

            print(__version__)
            return 0
        if args.command is None:
            parser.print_help()
            return 2
        return int(_module(args.command).run(args) or 0)
    except KeyboardInterrupt:
        print(f"tinify {command or ''}: interrupted".replace(" :", ":"), file=sys.stderr)
        return 130
    except ModuleNotFoundError as err:
        hint = _missing_extra(err)
        if hint is None:
            raise
        print(error_line(command, ValueError(hint)), file=sys.stderr)
        return 1
    except _USER_ERRORS as err:
        print(error_line(command, err), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
