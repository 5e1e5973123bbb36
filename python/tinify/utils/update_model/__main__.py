"""Rebuild a trained model's CDF tables and save its state_dict as
``DIR/NAME-<sha256[:8]>.pth.tar`` (the name ``load_state_dict_from_url`` checks), with
CompressAI's ``update_model`` arguments, through :func:`tinify.zoo.update_checkpoint`.

.. code-block:: none

    python -m tinify.utils.update_model checkpoint_best_loss.pth.tar -a bmshj2018-factorized \\
        -n my-model -d models/

Like CompressAI's, it prints nothing and writes to the current directory unless ``-d`` is
given. The architecture defaults to the one the checkpoint's keys tell (CompressAI assumes
``scale-hyperprior``).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

from tinify.utils._shell import run

__all__ = ["main", "setup_args"]

PROG = "python -m tinify.utils.update_model"

#: CompressAI's own names for some architectures, beside the zoo's.
ALIASES = {
    "factorized-prior": "bmshj2018-factorized",
    "jarhp": "mbt2018",
    "mean-scale-hyperprior": "mbt2018-mean",
    "scale-hyperprior": "bmshj2018-hyperprior",
    "bmshj2018_factorized_relu": "bmshj2018-factorized-relu",
}


def _architectures() -> list[str]:
    from tinify import zoo

    names = [*ALIASES, *zoo.ARCHITECTURES, "ssf2020"]
    names += [n for n in getattr(zoo, "image_models", {}) if n not in names]
    return names


def setup_args() -> argparse.ArgumentParser:
    """CompressAI's parser: ``filepath [-n NAME] [-d DIR] [--no-update] [-a ARCH]``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Export a trained model to a new checkpoint with updated CDF tables and "
        "a sha256 prefix in its name, so that load_state_dict_from_url can load it.",
    )
    parser.add_argument("filepath", type=str, help="the checkpoint to export")
    parser.add_argument("-n", "--name", type=str, help="exported name (default: the file's)")
    parser.add_argument(
        "-d", "--dir", type=str, help="exported directory (default: the current one)"
    )
    parser.add_argument(
        "--no-update", action="store_true", default=False, help="keep the CDF tables as they are"
    )
    parser.add_argument(
        "-a",
        "--architecture",
        choices=_architectures(),
        default=None,
        help="model architecture (default: inferred from the checkpoint's keys)",
    )
    return parser


def _main(argv: list[str]) -> None:
    from tinify.zoo import update_checkpoint

    args = setup_args().parse_args(argv)
    path = Path(args.filepath)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is not a file")
    arch = ALIASES.get(args.architecture, args.architecture)
    if arch == "ssf2020":
        raise ValueError("ssf2020 is a video model, which tinify does not have")
    update_checkpoint(
        path,
        arch,
        directory=Path(args.dir) if args.dir is not None else Path.cwd(),
        name=args.name,
        update=not args.no_update,
    )


def main(argv: Iterable[str] | None = None) -> None:
    """Runs the command on ``argv`` (default ``sys.argv[1:]``); exits non-zero on an error."""
    run(PROG, _main, argv)


if __name__ == "__main__":
    main()
