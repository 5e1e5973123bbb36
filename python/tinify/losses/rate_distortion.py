"""The rate–distortion loss, as CompressAI's ``RateDistortionLoss``."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from tinify.registry import register_criterion
from tinify.typing import ForwardOutput
from tinify.zoo._tables import check_metric

__all__ = ["RateDistortionLoss"]

_DISTORTION_KEYS = {"mse": "mse_loss", "ms-ssim": "ms_ssim_loss"}


class UnsupportedMetricError(ValueError, NotImplementedError):
    """An unknown ``metric``: a ValueError, and the NotImplementedError CompressAI raises."""


@register_criterion("RateDistortionLoss")
class RateDistortionLoss(nn.Module):
    """``λ · D + R``: distortion weighted by ``lmbda`` plus the estimated bits per pixel.

    The rate is ``Σ log p / (−ln 2 · N · H · W)`` over all likelihood tensors. The distortion
    is ``255² · MSE`` (``metric="mse"``) or ``1 − MS-SSIM`` (``metric="ms-ssim"``, needs
    ``pytorch_msssim``), exactly as CompressAI's loss.

    Args:
        lmbda: the trade-off λ (> 0); an attribute, so a variable-rate loop may change it.
        metric: ``"mse"`` or ``"ms-ssim"``.
        return_type: ``"all"`` (the dict below) or one of its keys (that tensor only).

    Returns (from ``forward(output, target)``):
        ``{"bpp_loss", "mse_loss" or "ms_ssim_loss", "loss"}``.

    Raises:
        ValueError: for an unknown ``metric`` (also a NotImplementedError, as CompressAI's) or
            ``return_type``, or ``lmbda`` ≤ 0.
    """

    def __init__(self, lmbda: float = 0.01, metric: str = "mse", return_type: str = "all") -> None:
        super().__init__()
        try:
            check_metric(metric)
        except ValueError as err:
            raise UnsupportedMetricError(str(err)) from None
        keys = ("all", "loss", "bpp_loss", _DISTORTION_KEYS[metric])
        if return_type not in keys:
            raise ValueError(f"return_type must be one of {keys}, got {return_type!r}")
        if not lmbda > 0:
            raise ValueError(f"lmbda must be positive, got {lmbda}")
        self.lmbda = float(lmbda)
        self.metric = metric
        self.return_type = return_type

    def forward(self, output: ForwardOutput, target: Tensor) -> dict[str, Tensor] | Tensor:
        n, _, h, w = target.size()
        out: dict[str, Tensor] = {}
        out["bpp_loss"] = sum(
            (torch.log(lk).sum() / (-math.log(2) * n * h * w))
            for lk in output["likelihoods"].values()
        )  # type: ignore[assignment]
        if self.metric == "mse":
            out["mse_loss"] = nn.functional.mse_loss(output["x_hat"], target)
            distortion = 255**2 * out["mse_loss"]
        else:
            from pytorch_msssim import ms_ssim

            out["ms_ssim_loss"] = ms_ssim(output["x_hat"], target, data_range=1.0)
            distortion = 1 - out["ms_ssim_loss"]
        out["loss"] = self.lmbda * distortion + out["bpp_loss"]
        return out if self.return_type == "all" else out[self.return_type]
