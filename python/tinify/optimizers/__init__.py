"""Optimiser factories, as ``compressai.optimizers``: ``net_aux_optimizer`` (the network and
the quantiles apart) and ``net_optimizer``."""

from tinify.optimizers.net import net_optimizer
from tinify.optimizers.net_aux import make_optimizer, net_aux_optimizer, split_parameters

__all__ = ["make_optimizer", "net_aux_optimizer", "net_optimizer", "split_parameters"]
