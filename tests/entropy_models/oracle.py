"""CompressAI's entropy models as the oracle, and the helpers that set both sides up alike."""

from __future__ import annotations

import warnings

import torch
from torch import Tensor, nn

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import compressai.entropy_models as cai
    from compressai.models.base import get_scale_table as cai_get_scale_table

__all__ = [
    "MIN_SYMBOLS_FOR_COMPRESSAI",
    "assert_same_tables",
    "cai",
    "cai_get_scale_table",
    "perturb_bottleneck_",
    "twin_bottlenecks",
]

# CompressAI's encoder allocates one word per coding step and overruns its buffer when a stream
# needs more words than that. A step costs at most 16 bits, so streams of 8 symbols or more are
# safe; shorter ones (and values 2^27 away from their table, on which it loops forever) are
# never handed to it (tests/ans/spec.py has the details).
MIN_SYMBOLS_FOR_COMPRESSAI = 8


@torch.no_grad()
def perturb_bottleneck_(eb: nn.Module, seed: int) -> nn.Module:
    """Gives an EntropyBottleneck (either library's) a seeded random density and quantiles
    of random median and width, so its CDF tables are neither trivial nor all alike."""
    gen = torch.Generator().manual_seed(seed)

    def noise(p: Tensor, std: float) -> Tensor:
        return torch.randn(p.shape, generator=gen) * std

    for p in eb.matrices:
        p.add_(noise(p, 0.5))
    for p in eb.biases:
        p.add_(noise(p, 1.0))
    for p in eb.factors:
        p.add_(noise(p, 1.0))
    channels = eb.quantiles.size(0)
    medians = torch.randn(channels, generator=gen) * 3
    below = torch.rand(channels, generator=gen) * 30 + 0.2
    above = torch.rand(channels, generator=gen) * 30 + 0.2
    eb.quantiles.copy_(torch.stack([medians - below, medians, medians + above], -1)[:, None])
    return eb


def twin_bottlenecks(channels: int, seed: int, **kwargs: object) -> tuple[nn.Module, nn.Module]:
    """A perturbed CompressAI EntropyBottleneck and a tinify one holding the same state."""
    from tinify.entropy_models import EntropyBottleneck

    theirs = perturb_bottleneck_(cai.EntropyBottleneck(channels, **kwargs), seed)
    ours = EntropyBottleneck(channels, **kwargs)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def assert_same_tables(ours: nn.Module, theirs: nn.Module) -> None:
    """The CDF buffers (and any scale table) are equal, entry for entry, dtype included."""
    names = ["_quantized_cdf", "_offset", "_cdf_length"]
    if hasattr(theirs, "scale_table"):
        names.append("scale_table")
    for name in names:
        a, b = getattr(ours, name), getattr(theirs, name)
        assert a.dtype == b.dtype, (name, a.dtype, b.dtype)
        assert a.shape == b.shape, (name, a.shape, b.shape)
        differing = (a != b).nonzero()
        assert differing.numel() == 0, (
            f"{name}: {len(differing)} entries differ, first {differing[:5]}"
        )
