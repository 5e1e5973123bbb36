"""Helpers that hold a tinify module against its CompressAI twin: weights, outputs, gradients."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from importlib import import_module
from types import ModuleType

import torch
from torch import Tensor, nn

__all__ = [
    "assert_exactly_equal",
    "assert_same_forward_and_backward",
    "assert_state_dicts_interchangeable",
    "compressai",
    "forward_backward",
    "load_both_ways",
    "randomize_",
]


def compressai(module: str) -> ModuleType:
    """Import ``compressai.<module>`` with its import-time deprecation warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return import_module(f"compressai.{module}")


def assert_exactly_equal(actual: Tensor, expected: Tensor) -> None:
    # Same op sequence on the same backend must give the same bits; any tolerance would hide
    # a reordering that could flip a latent's rounding and change the bitstream.
    torch.testing.assert_close(actual, expected, rtol=0, atol=0)


@torch.no_grad()
def randomize_(module: nn.Module, seed: int) -> nn.Module:
    """Overwrite every parameter with seeded random values, so no test passes on init values.

    GDN's ``beta``/``gamma`` get positive values, a few of them below their lower bound.
    """
    gen = torch.Generator().manual_seed(seed)
    for name, p in module.named_parameters():
        if name.endswith(("beta", "gamma")):
            p.copy_(torch.rand(p.shape, generator=gen) * 0.6 + 0.0005)
        else:
            p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    return module


def assert_state_dicts_interchangeable(ours: nn.Module, theirs: nn.Module) -> None:
    """Both state_dicts have the same keys, shapes and dtypes, and load into each other strictly."""
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for key, value in theirs_sd.items():
        assert ours_sd[key].shape == value.shape, key
        assert ours_sd[key].dtype == value.dtype, key
    ours.load_state_dict(theirs_sd, strict=True)
    theirs.load_state_dict(ours.state_dict(), strict=True)


def forward_backward(
    module: nn.Module, inputs: tuple[Tensor, ...], seed: int
) -> tuple[Tensor, dict[str, Tensor]]:
    """Run ``module`` and back-propagate a seeded random cotangent.

    Returns the output and the gradients of the inputs (``input0``, ...) and parameters.
    """
    module.zero_grad(set_to_none=True)
    xs = [x.detach().clone().requires_grad_(x.is_floating_point()) for x in inputs]
    out = module(*xs)
    gen = torch.Generator().manual_seed(seed)
    (out * torch.randn(out.shape, generator=gen)).sum().backward()
    grads = {f"input{i}": x.grad for i, x in enumerate(xs) if x.grad is not None}
    grads |= {n: p.grad for n, p in module.named_parameters() if p.grad is not None}
    return out.detach(), grads


def load_both_ways(
    make_ours: Callable[[], nn.Module], make_theirs: Callable[[], nn.Module], seed: int = 0
) -> list[tuple[nn.Module, nn.Module]]:
    """Return two (ours, theirs) pairs with equal random weights, one loaded each way.

    In the first pair CompressAI's weights were loaded into tinify's module; in the second,
    tinify's (other) weights were loaded into CompressAI's. Loads are strict.
    """
    pairs = []
    for into_ours, weight_seed in ((True, seed), (False, seed + 1)):
        ours, theirs = make_ours(), make_theirs()
        source, target = (theirs, ours) if into_ours else (ours, theirs)
        randomize_(source, weight_seed)
        target.load_state_dict(source.state_dict(), strict=True)
        pairs.append((ours, theirs))
    return pairs


def assert_same_forward_and_backward(
    make_ours: Callable[[], nn.Module],
    make_theirs: Callable[[], nn.Module],
    *inputs: Tensor,
    seed: int = 0,
) -> None:
    """With equal random weights, loaded either way, outputs and all gradients are identical."""
    for ours, theirs in load_both_ways(make_ours, make_theirs, seed):
        out_o, grads_o = forward_backward(ours, inputs, seed + 2)
        out_t, grads_t = forward_backward(theirs, inputs, seed + 2)
        assert_exactly_equal(out_o, out_t)
        assert grads_o.keys() == grads_t.keys()
        for key, grad in grads_t.items():
            assert_exactly_equal(grads_o[key], grad)
