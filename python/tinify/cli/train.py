"""``tinify train``: train a model on a folder of images, on one process or under torchrun."""

from __future__ import annotations

import argparse

__all__ = ["HELP", "add_parser", "run"]

HELP = "train a model on a folder of images (one machine or torchrun)"


def add_parser(parser: argparse.ArgumentParser) -> None:
    """Adds the options of :func:`tinify.train.config.add_arguments` (shared with
    ``python -m tinify.train``)."""
    from tinify.train.config import add_arguments

    parser.description = (
        "Train a model: -m ARCH with -q Q (zoo size and λ) or --lambda L; a variable-rate "
        "model trains all its rates. Under torchrun, each process trains on its own crops."
    )
    add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Trains per ``args`` (as a :class:`~tinify.train.TrainConfig`); the log and checkpoints go
    to ``--out``."""
    from tinify import distributed
    from tinify.train import TrainConfig, Trainer

    with distributed.leaving():
        Trainer(TrainConfig.from_namespace(args)).fit()
    return 0
