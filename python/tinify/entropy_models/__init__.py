"""Entropy models: probability models of quantized latents, and the coding of latents with them."""

from __future__ import annotations

import torch
from torch import Tensor

from tinify import ans
from tinify.entropy_models.base import EntropyModel
from tinify.entropy_models.entropy_bottleneck import EntropyBottleneck
from tinify.entropy_models.entropy_models_vbr import EntropyBottleneckVbr, EntropyModelVbr
from tinify.entropy_models.gaussian_conditional import GaussianConditional
from tinify.entropy_models.gaussian_mixture_conditional import GaussianMixtureConditional

__all__ = [
    "EntropyBottleneck",
    "EntropyBottleneckVbr",
    "EntropyModel",
    "EntropyModelVbr",
    "GaussianConditional",
    "GaussianMixtureConditional",
    "pmf_to_quantized_cdf",
]


def pmf_to_quantized_cdf(pmf: Tensor, precision: int = 16) -> Tensor:
    """Quantizes a 1-D pmf tensor into an int32 CDF tensor of ``len(pmf) + 1`` entries (see
    :func:`tinify.ans.pmf_to_quantized_cdf`)."""
    return torch.tensor(ans.pmf_to_quantized_cdf(pmf, precision), dtype=torch.int32)
