"""What decides a training run: :class:`TrainConfig`, and the command-line options that fill it."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinify.zoo._tables import check_metric

__all__ = ["TrainConfig", "add_arguments"]


@dataclass
class TrainConfig:
    """The settings of one training run (see ``tinify train --help`` for each option).

    Python users build it directly; ``tinify train`` and ``python -m tinify.train`` fill it from
    their options (:meth:`from_namespace`). Paths may be given as strings.

    Raises:
        ValueError: if a setting is out of range or two settings contradict each other.
    """

    data: Sequence[Path]
    arch: str
    quality: int | None = None
    lmbda: float | None = None
    metric: str = "mse"
    N: int | None = None
    M: int | None = None
    steps: int | None = None
    epochs: int | None = None
    batch_size: int = 8
    patch_size: int = 128
    repeat: int = 16
    by_pixels: bool = False
    scale_min: float = 1.0
    rot90: bool = False
    lr: float = 1e-4
    aux_lr: float = 1e-3
    lr_milestones: Sequence[int] = ()
    lr_gamma: float = 0.1
    warmup: int = 0
    ema_decay: float = 0.0
    mixed_quantization: bool = False
    bf16: bool = False
    init: Path | None = None
    threads: int | None = None
    clip_max_norm: float = 1.0
    files: Path | None = None
    exclude: Sequence[str] = ()
    val: Path | None = None
    val_files: Sequence[str] | None = None
    val_every: int = 2000
    log_every: int = 100
    save_every: int = 500
    resume: Path | None = None
    out: Path = field(default_factory=lambda: Path("runs/train"))
    device: str = "cpu"
    seed: int = 0
    progress: bool = True
    log_indices: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.data, (str, Path)):
            self.data = [self.data]
        self.data = [Path(p) for p in self.data]
        for name in ("init", "files", "val", "resume", "out"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, Path(value))
        self.lr_milestones = tuple(int(m) for m in self.lr_milestones)
        self.exclude = tuple(self.exclude)
        if self.val_files is not None:
            self.val_files = tuple(self.val_files)
        if not self.data:
            raise ValueError("data: give at least one folder of training images")
        if self.quality is not None and self.lmbda is not None:
            raise ValueError("give quality or lmbda, not both")
        if self.steps is not None and self.epochs is not None:
            raise ValueError("give steps or epochs, not both")
        check_metric(self.metric)
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f'device must be "cpu" or "cuda", got {self.device!r}')
        positive = {"batch_size": self.batch_size, "patch_size": self.patch_size}
        positive.update(repeat=self.repeat)
        for name, value in positive.items():
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if not 0 < self.scale_min <= 1:
            raise ValueError(f"scale_min must be in (0, 1], got {self.scale_min}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if not 0 < self.lr_gamma <= 1:
            raise ValueError(f"lr_gamma must be in (0, 1], got {self.lr_gamma}")
        if self.warmup < 0:
            raise ValueError(f"warmup must be >= 0, got {self.warmup}")

    @classmethod
    def from_namespace(cls, args: argparse.Namespace) -> TrainConfig:
        """The config of parsed :func:`add_arguments` options (other attributes are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in vars(args).items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready values (paths as strings), as checkpoints record them."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, (list, tuple)):
                value = [str(v) if isinstance(v, Path) else v for v in value]
            out[f.name] = value
        return out


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``tinify train`` and ``python -m tinify.train`` (one parser for both);
    :meth:`TrainConfig.from_namespace` turns what it parses into a :class:`TrainConfig`."""
    p = parser
    p.add_argument("data", type=Path, nargs="+", help="folder(s) of training images")
    p.add_argument("-m", "--model", dest="arch", required=True, help="architecture name")
    g = p.add_mutually_exclusive_group()
    g.add_argument("-q", "--quality", type=int, help="zoo quality: its N, M and λ")
    g.add_argument("--lambda", dest="lmbda", type=float, help="rate–distortion λ")
    p.add_argument("--metric", default="mse", choices=("mse", "ms-ssim"))
    p.add_argument("--N", type=int, help="hidden channels (instead of the zoo quality's)")
    p.add_argument("--M", type=int, help="latent channels (instead of the zoo quality's)")
    n = p.add_mutually_exclusive_group()
    n.add_argument("--steps", type=int, help="optimiser steps to reach (total, resume included)")
    n.add_argument("--epochs", type=int, help="epochs to reach (instead of --steps)")
    p.add_argument("--batch-size", type=int, default=8, help="per process (default 8)")
    p.add_argument("--patch-size", type=int, default=128, help="crop side (default 128)")
    p.add_argument("--repeat", type=int, default=16, help="crops per image per epoch (16)")
    p.add_argument(
        "--by-pixels",
        action="store_true",
        help="share each epoch's crops among images by pixel count instead of equally",
    )
    p.add_argument(
        "--scale-min",
        type=float,
        default=1.0,
        help="crops are downscaled by a factor drawn from [SCALE_MIN, 1] (default 1: none)",
    )
    p.add_argument("--rot90", action="store_true", help="random quarter turns of the crops")
    p.add_argument("--lr", type=float, default=1e-4, help="network learning rate (1e-4)")
    p.add_argument("--aux-lr", type=float, default=1e-3, help="quantiles learning rate (1e-3)")
    p.add_argument(
        "--lr-milestones",
        type=int,
        nargs="*",
        default=[],
        help="steps at which the learning rate is multiplied by --lr-gamma (none: constant)",
    )
    p.add_argument(
        "--lr-gamma",
        type=float,
        default=0.1,
        help="the learning rate's factor at each milestone (0.1); on --resume, a milestone at "
        "the resumed step with gamma 1/3 turns 3e-4 into 1e-4",
    )
    p.add_argument(
        "--warmup",
        type=int,
        default=0,
        help="steps of linear learning-rate warm-up from the start or --init (default 0)",
    )
    p.add_argument(
        "--ema-decay",
        type=float,
        default=0.0,
        help="keep an exponential moving average of the weights with this decay "
        "(e.g. 0.999; 0: none), saved as ema_state_dict and validated instead of the raw ones",
    )
    p.add_argument(
        "--mixed-quantization",
        action="store_true",
        help="noise for the rate term, rounded latents (straight-through) into the synthesis",
    )
    p.add_argument(
        "--init",
        type=Path,
        help="start from these weights (a state_dict or checkpoint) at step 0, new optimiser",
    )
    p.add_argument(
        "--bf16",
        action="store_true",
        help="run the transforms g_a and g_s under bfloat16 autocast (entropy models in float32)",
    )
    p.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's)")
    p.add_argument("--clip-max-norm", type=float, default=1.0, help="gradient clipping (1.0)")
    p.add_argument(
        "--files", type=Path, help="file of image names in DATA (one folder) to train on"
    )
    p.add_argument("--exclude", nargs="*", default=[], help="image names to leave out")
    p.add_argument("--val", type=Path, help="folder of validation images")
    p.add_argument("--val-files", nargs="*", help="names in --val to validate on")
    p.add_argument("--val-every", type=int, default=2000, help="steps between validations")
    p.add_argument("--log-every", type=int, default=100, help="steps per log line (100)")
    p.add_argument("--save-every", type=int, default=500, help="steps between checkpoints")
    p.add_argument("--resume", type=Path, help="training checkpoint to continue from")
    p.add_argument("--out", type=Path, default=Path("runs/train"), help="output folder")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--log-indices", action="store_true", help=argparse.SUPPRESS)
    return p
