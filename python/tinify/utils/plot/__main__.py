"""Rate–distortion curves from results JSON files, with CompressAI's ``plot`` arguments, drawn
by :func:`tinify.evaluation.plot_rd` (as ``tinify plot``).

.. code-block:: none

    python -m tinify.utils.plot -f a.json b.json -m ms-ssim -t Kodak -o rd.png

MS-SSIM is drawn in dB, as CompressAI does. tinify draws with matplotlib off-screen into the
file given by ``-o``; the plotly backend and ``--show`` are refused with an error.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

from tinify.utils._shell import run

__all__ = ["main", "setup_args"]

PROG = "python -m tinify.utils.plot"

_BACKENDS = ["matplotlib", "plotly"]


def setup_args() -> argparse.ArgumentParser:
    """CompressAI's parser: ``-f FILES... [-m] [-t] [-o] [--figsize] [--axes] [--backend]``."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Plot rate-distortion curves from results JSON files."
    )
    parser.add_argument(
        "-f", "--results-file", default="", type=str, nargs="*", required=True, help="results"
    )
    parser.add_argument(
        "-m", "--metric", type=str, default="psnr", help="psnr or ms-ssim (default: %(default)s)"
    )
    parser.add_argument("-t", "--title", type=str, help="plot title")
    parser.add_argument("-o", "--output", type=str, help="figure file (.png, .pdf, .svg)")
    parser.add_argument(
        "--figsize",
        type=float,
        nargs=2,
        default=(9, 6),
        help="figure size in inches (width, height), default: %(default)s",
    )
    parser.add_argument(
        "--axes",
        type=float,
        nargs=4,
        default=None,
        help="axes limits (xmin, xmax, ymin, ymax), default: automatic",
    )
    parser.add_argument(
        "--backend",
        type=str,
        default=_BACKENDS[0],
        choices=_BACKENDS,
        help="plotting library (default: %(default)s; plotly is not supported)",
    )
    parser.add_argument("--show", action="store_true", help="open a window (not supported)")
    return parser


def _main(argv: list[str]) -> None:
    from tinify.evaluation.plot import plot_rd

    args = setup_args().parse_args(argv)
    if args.backend != "matplotlib":
        raise ValueError(f"the {args.backend} backend is not supported; use matplotlib")
    if args.show:
        raise ValueError("--show is not supported: tinify draws off-screen; give -o FILE")
    if not args.results_file:
        raise ValueError("give at least one results file with -f")
    metric = args.metric.removesuffix("-rgb")
    figure = plot_rd(args.results_file, None, metric, title=args.title, figsize=tuple(args.figsize))
    if args.axes is not None:
        figure.axes[0].axis(args.axes)
    if args.output:  # without -o, as CompressAI's, the files are only read and drawn
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(args.output, dpi=300)


def main(argv: Iterable[str] | None = None) -> None:
    """Runs the command on ``argv`` (default ``sys.argv[1:]``); exits non-zero on an error."""
    run(PROG, _main, argv)


if __name__ == "__main__":
    main()
