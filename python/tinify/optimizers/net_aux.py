"""The optimiser split of learned codecs: the network's parameters, and the entropy
bottlenecks' quantiles (trained by ``aux_loss`` alone)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn, optim

from tinify.registry import OPTIMIZERS, register_optimizer

__all__ = ["make_optimizer", "net_aux_optimizer", "split_parameters"]


def _is_aux(name: str) -> bool:
    return name == "quantiles" or name.endswith(".quantiles")


def split_parameters(net: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """The trainable parameters of ``net``, as ``(network, auxiliary)``, each sorted by name:
    the auxiliary ones are those named ``*.quantiles``, the network ones every other.

    Frozen parameters (``requires_grad=False``) are in neither; a parameter shared between
    modules counts once, under its first name. (CompressAI's ``net_aux_optimizer`` fails on
    frozen parameters and misses a bare ``EntropyBottleneck``'s ``quantiles``.)
    """
    params = {n: p for n, p in net.named_parameters() if p.requires_grad}
    main = sorted(n for n in params if not _is_aux(n))
    aux = sorted(n for n in params if _is_aux(n))
    return [params[n] for n in main], [params[n] for n in aux]


def make_optimizer(params: list[nn.Parameter], conf: Mapping[str, Any]) -> optim.Optimizer:
    """The optimiser ``conf["type"]`` (a name in :data:`tinify.registry.OPTIMIZERS`, e.g.
    ``"Adam"``) over ``params``, built with the other entries of ``conf`` (``lr`` …).

    Raises:
        KeyError: if ``conf`` has no ``"type"`` or names an unknown optimiser.
    """
    kwargs = dict(conf)
    kind = kwargs.pop("type")
    return OPTIMIZERS[kind](params, **kwargs)


@register_optimizer("net_aux")
def net_aux_optimizer(net: nn.Module, conf: Mapping[str, Any]) -> dict[str, optim.Optimizer]:
    """Two optimisers over disjoint parameters, as CompressAI's: ``{"net": …, "aux": …}``.

    Args:
        net: the model.
        conf: ``{"net": {"type": "Adam", "lr": 1e-4}, "aux": {"type": "Adam", "lr": 1e-3}}``;
            each entry names an optimiser of :data:`tinify.registry.OPTIMIZERS` and its
            keyword arguments.

    Raises:
        KeyError: if ``conf`` lacks ``"net"`` or ``"aux"``, or names an unknown optimiser.
    """
    main, aux = split_parameters(net)
    return {"net": make_optimizer(main, conf["net"]), "aux": make_optimizer(aux, conf["aux"])}
