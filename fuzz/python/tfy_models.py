"""Small, seeded models with realistic latents, shared by the ``.tfy`` corpus script and the
fuzz driver (both must build the very same weights, or every file's digest mismatches)."""

from __future__ import annotations

import torch
from torch import nn

from tinify.models.google import (
    FactorizedPrior,
    JointAutoregressiveHierarchicalPriors,
    MeanScaleHyperprior,
    ScaleHyperprior,
)
from tinify.models.sensetime import Cheng2020AnchorCheckerboard, Elic2022Official

__all__ = ["build_models", "realistic"]


def realistic(net: nn.Module, gain: float = 12.0) -> nn.Module:
    """``net`` with the last convolution of its analysis transforms scaled by ``gain``, so
    that a randomly initialised model's latents span several integers rather than rounding to
    zero; then its CDF tables rebuilt, in eval mode."""
    for name in ("g_a", "h_a"):
        for holder in [m for m in net.modules() if hasattr(m, name)]:
            convs = [m for m in getattr(holder, name).modules() if isinstance(m, nn.Conv2d)]
            if convs:
                with torch.no_grad():
                    convs[-1].weight.mul_(gain)
    net.update(force=True)
    return net.eval()


def build_models() -> dict[str, nn.Module]:
    """One small model per shape form: (h, w) tuples, the AR model, {"y": (C, H, W), "hyper"}
    dicts and {"y": [(g, H, W), ...], "hyper"} dicts."""
    torch.manual_seed(1234)
    return {
        "bmshj2018-factorized": realistic(FactorizedPrior(8, 12)),
        "bmshj2018-hyperprior": realistic(ScaleHyperprior(8, 12)),
        "mbt2018-mean": realistic(MeanScaleHyperprior(8, 12)),
        "mbt2018": realistic(JointAutoregressiveHierarchicalPriors(8, 12)),
        "cheng2020-anchor-checkerboard": realistic(Cheng2020AnchorCheckerboard(12)),
        "elic2022-official": realistic(Elic2022Official(12, 16, groups=[4, 4, 8])),
    }
