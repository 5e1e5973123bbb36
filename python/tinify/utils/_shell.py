"""What the ``tinify.utils`` commands share: turning a user error into one line on stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import NoReturn

__all__ = ["fail", "run"]


def fail(prog: str, message: str) -> NoReturn:
    """Prints ``prog: error: message`` on stderr and exits with status 1."""
    print(f"{prog}: error: {' '.join(message.split())}", file=sys.stderr)
    raise SystemExit(1)


def run(prog: str, body: Callable[[list[str]], None], argv: Iterable[str] | None) -> None:
    """Runs ``body(argv)`` (``sys.argv[1:]`` when None); a user error (bad value, unreadable
    file, missing optional dependency) becomes one line on stderr and exit status 1, Ctrl-C
    status 130."""
    from tinify.cli.main import EXTRAS

    args = sys.argv[1:] if argv is None else [str(a) for a in argv]
    try:
        body(args)
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except ModuleNotFoundError as err:
        top = (err.name or "").split(".")[0]
        if top not in EXTRAS:
            raise
        fail(prog, f'{top} is not installed: pip install "tinify[{EXTRAS[top]}]"')
    except (ValueError, TypeError, OSError) as err:
        fail(prog, str(err) or type(err).__name__)
