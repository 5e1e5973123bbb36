"""One optimiser over all of a network's trainable parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn, optim

from tinify.optimizers.net_aux import make_optimizer
from tinify.registry import register_optimizer

__all__ = ["net_optimizer"]


@register_optimizer("net")
def net_optimizer(net: nn.Module, conf: Mapping[str, Any]) -> dict[str, optim.Optimizer]:
    """``{"net": optimiser}`` over every trainable parameter (sorted by name), as CompressAI's.

    Args:
        net: the model.
        conf: ``{"net": {"type": "Adam", "lr": 1e-4}}``.

    Raises:
        KeyError: if ``conf`` lacks ``"net"`` or names an unknown optimiser.
    """
    params = sorted((n, p) for n, p in net.named_parameters() if p.requires_grad)
    return {"net": make_optimizer([p for _, p in params], conf["net"])}
