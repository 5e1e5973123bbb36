"""The optimiser split of learned codecs: the network, and the entropy bottlenecks' quantiles."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["configure_optimizers", "split_parameters"]


def split_parameters(net: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """The trainable parameters of ``net``, as ``(network, auxiliary)``: the auxiliary ones
    are those named ``*.quantiles`` (trained by ``aux_loss`` alone), the network ones every
    other. Raises ValueError if a parameter is in neither or both (shared parameters)."""
    params = {n: p for n, p in net.named_parameters() if p.requires_grad}
    aux = [n for n in params if n.endswith(".quantiles") or n == "quantiles"]
    main = [n for n in params if n not in aux]
    if len(set(map(id, params.values()))) != len(params):
        raise ValueError("net shares parameters between modules; cannot split them")
    return [params[n] for n in sorted(main)], [params[n] for n in sorted(aux)]


def configure_optimizers(
    net: nn.Module, lr: float = 1e-4, aux_lr: float = 1e-3
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer | None]:
    """Adam for the network (``lr``) and Adam for the quantiles (``aux_lr``), as CompressAI's
    ``examples/train.py``. The second is None when the model has no entropy bottleneck."""
    main, aux = split_parameters(net)
    optimizer = torch.optim.Adam(main, lr=lr)
    aux_optimizer = torch.optim.Adam(aux, lr=aux_lr) if aux else None
    return optimizer, aux_optimizer
