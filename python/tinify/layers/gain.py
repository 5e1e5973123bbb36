"""A learned elementwise gain."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["Gain"]


class Gain(nn.Module):
    r"""Multiply the input by a learned gain tensor and a constant factor.

    .. math::

        y = \text{factor} \cdot g \odot x

    Learned gains that rescale latents per channel are the "gain units" of `"Asymmetric
    Gained Deep Image Compression With Continuous Rate Adaptation"
    <https://arxiv.org/abs/2003.02012>`_, Cui, Wang, Gao, Bai, Feng, Zhang and Liu, CVPR
    2021. The parameter ``gain`` starts at ones; ``factor`` is a constant that rescales its
    effective learning rate and initial value.

    Args:
        shape: Shape of ``gain``, broadcastable against the input, e.g. ``(C, 1, 1)`` for
            a per-channel gain on ``(N, C, H, W)`` inputs. ``None`` gives a single scalar
            gain (CompressAI fails on ``None``).
        factor: Constant multiplier, any float.
    """

    def __init__(self, shape: int | tuple[int, ...] | None = None, factor: float = 1.0) -> None:
        super().__init__()
        self.factor = factor
        self.gain = nn.Parameter(torch.ones(() if shape is None else shape))

    def forward(self, x: Tensor) -> Tensor:
        return self.factor * self.gain * x

    def extra_repr(self) -> str:
        return f"shape={tuple(self.gain.shape)}, factor={self.factor}"
