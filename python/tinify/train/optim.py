"""The optimisers of the training loop: Adam for the network, Adam for the quantiles, split by
:func:`tinify.optimizers.split_parameters` (the one owner of the split)."""

from __future__ import annotations

import torch
from torch import nn

from tinify.optimizers import net_aux_optimizer, net_optimizer, split_parameters

__all__ = ["configure_optimizers", "split_parameters"]


def configure_optimizers(
    net: nn.Module, lr: float = 1e-4, aux_lr: float = 1e-3
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer | None]:
    """Adam for the network (``lr``) and Adam for the quantiles (``aux_lr``), as CompressAI's
    ``examples/train.py`` (``net_aux_optimizer``). The second is None when the model has no
    entropy bottleneck."""
    _, aux = split_parameters(net)
    conf = {"net": {"type": "Adam", "lr": lr}, "aux": {"type": "Adam", "lr": aux_lr}}
    if not aux:
        return net_optimizer(net, conf)["net"], None
    optimizers = net_aux_optimizer(net, conf)
    return optimizers["net"], optimizers["aux"]
