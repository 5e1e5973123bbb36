"""Small seeded models with realistic latents (not a random model's all-zero ones)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from tinify.models.google import (
    FactorizedPrior,
    JointAutoregressiveHierarchicalPriors,
    MeanScaleHyperprior,
)
from tinify.models.sensetime import Cheng2020AnchorCheckerboard, Elic2022Official


def realistic(net: nn.Module, gain: float = 12.0) -> nn.Module:
    """The last convolution of the analysis transforms scaled by ``gain``, so that latents span
    several integers; CDF tables rebuilt; eval mode."""
    for name in ("g_a", "h_a"):
        for holder in [m for m in net.modules() if hasattr(m, name)]:
            convs = [m for m in getattr(holder, name).modules() if isinstance(m, nn.Conv2d)]
            with torch.no_grad():
                convs[-1].weight.mul_(gain)
    net.update(force=True)
    return net.eval()


@pytest.fixture(scope="session")
def models() -> dict[str, nn.Module]:
    torch.manual_seed(7)
    return {
        "factorized": realistic(FactorizedPrior(8, 12)),
        "mean-scale": realistic(MeanScaleHyperprior(8, 12)),
        "autoregressive": realistic(JointAutoregressiveHierarchicalPriors(8, 12)),
        "checkerboard": realistic(Cheng2020AnchorCheckerboard(12)),
        "elic": realistic(Elic2022Official(12, 16, groups=[4, 4, 8])),
    }


def smooth_image(height: int, width: int, channels: int, seed: int = 0) -> np.ndarray:
    """A smooth uint8 image (blocks of noise), ``(H, W)`` for one channel."""
    rng = np.random.default_rng(seed)
    small = rng.random((height // 8 + 2, width // 8 + 2, channels))
    image = (np.kron(small, np.ones((8, 8, 1)))[:height, :width] * 255).round().astype(np.uint8)
    return image[:, :, 0] if channels == 1 else image
