"""Training learned codecs: the rate–distortion loss, image crops, the optimiser split,
checkpoints, and :class:`Trainer`, which runs a :class:`TrainConfig` (the library behind
``tinify train`` and ``torchrun -m tinify.train``)."""

from tinify.train.checkpoint import load_training_checkpoint, save_checkpoint
from tinify.train.config import TrainConfig, add_arguments
from tinify.train.data import ImageFolder, image_files
from tinify.train.loop import Trainer, build_model, train, validate
from tinify.train.loss import RateDistortionLoss
from tinify.train.optim import configure_optimizers, split_parameters

__all__ = [
    "ImageFolder",
    "RateDistortionLoss",
    "TrainConfig",
    "Trainer",
    "add_arguments",
    "build_model",
    "configure_optimizers",
    "image_files",
    "load_training_checkpoint",
    "save_checkpoint",
    "split_parameters",
    "train",
    "validate",
]
