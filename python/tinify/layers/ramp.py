"""Stacks of layers whose channel counts ramp from an input width to an output width."""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import torch
from torch import nn

__all__ = ["sequential_channel_ramp"]


def _ramp_channels(in_ch: int, out_ch: int, num_layers: int, interp: str, min_ch: int) -> list[int]:
    steps = num_layers + 1
    if interp == "linear":
        points = torch.linspace(in_ch, out_ch, steps)
    elif interp == "log":
        points = torch.logspace(math.log10(in_ch), math.log10(out_ch), steps)
    else:
        raise ValueError(f'interp must be "linear" or "log", got {interp!r}')
    channels = points.floor().int().tolist()
    # Hidden widths follow CompressAI (floor, then min_ch). The ends are pinned: float32
    # logspace lands just below some integers (10**log10(192) -> 191.99998), and CompressAI's
    # floor then builds a 31 -> ... -> 191 stack for 32 -> 192.
    channels[0], channels[-1] = in_ch, out_ch
    channels[1:-1] = [max(ch, min_ch) for ch in channels[1:-1]]
    return channels


def sequential_channel_ramp(
    in_ch: int,
    out_ch: int,
    *,
    min_ch: int = 0,
    num_layers: int = 3,
    interp: str = "linear",
    make_layer: Callable[..., nn.Module] | None = None,
    make_act: Callable[[], nn.Module] | None = None,
    skip_last_act: bool = True,
    **layer_kwargs: Any,
) -> nn.Sequential:
    r"""Build ``num_layers`` layers, each followed by an activation, with ramping widths.

    The widths :math:`c_0 = \text{in\_ch}, c_1, \dots, c_L = \text{out\_ch}` are spaced
    evenly (``"linear"``) or geometrically (``"log"``) and rounded down; the hidden ones are
    raised to at least ``min_ch``. Layer :math:`k` is ``make_layer(c_{k-1}, c_k,
    **layer_kwargs)``. The hidden widths equal CompressAI's; the end widths are always
    exactly ``in_ch`` and ``out_ch``, where CompressAI's float32 ``"log"`` ramp can come out
    one channel short (e.g. 31 -> ... -> 191 for 32 -> 192). ELIC's parameter aggregation network is
    ``sequential_channel_ramp(..., make_layer=nn.Conv2d, make_act=nn.ReLU, kernel_size=1)``.

    Example:
        >>> from torch import nn
        >>> net = sequential_channel_ramp(
        ...     64, 16, make_layer=nn.Conv2d, make_act=nn.ReLU, kernel_size=1
        ... )
        >>> [m.out_channels for m in net if isinstance(m, nn.Conv2d)]
        [48, 32, 16]

    Args:
        in_ch: Input channels of the first layer, ``>= 1``.
        out_ch: Output channels of the last layer, ``>= 1``.
        min_ch: Lower bound on the hidden widths, ``>= 0``.
        num_layers: Number of layers :math:`L`, ``>= 1``.
        interp: ``"linear"`` or ``"log"`` spacing of the widths.
        make_layer: Called as ``make_layer(c_in, c_out, **layer_kwargs)`` for each layer,
            e.g. :class:`torch.nn.Conv2d`. Required.
        make_act: Called with no arguments for each activation, e.g. :class:`torch.nn.ReLU`.
            Required.
        skip_last_act: Leave out the activation after the last layer.
        **layer_kwargs: Passed to every ``make_layer`` call.

    Raises:
        TypeError: If ``make_layer`` or ``make_act`` is missing.
        ValueError: If ``interp`` is unknown or a count is out of range.
    """
    if make_layer is None or make_act is None:
        raise TypeError("sequential_channel_ramp() needs both make_layer and make_act")
    if in_ch < 1 or out_ch < 1:
        raise ValueError(f"in_ch and out_ch must be >= 1, got in_ch={in_ch}, out_ch={out_ch}")
    if num_layers < 1:
        raise ValueError(f"num_layers must be >= 1, got {num_layers}")
    channels = _ramp_channels(in_ch, out_ch, num_layers, interp, min_ch)
    modules: list[nn.Module] = []
    for c_in, c_out in pairwise(channels):
        modules += [make_layer(c_in, c_out, **layer_kwargs), make_act()]
    if skip_last_act:
        modules.pop()
    return nn.Sequential(*modules)
