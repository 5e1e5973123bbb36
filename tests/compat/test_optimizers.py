"""tinify.optimizers against compressai.optimizers: the same parameter split, types and
settings; train.configure_optimizers builds on the same split."""

import pytest
import torch
from compressai import optimizers as cai_optimizers
from compressai.models import MeanScaleHyperprior as CaiMeanScaleHyperprior

from tinify import optimizers
from tinify.models import MeanScaleHyperprior
from tinify.registry import OPTIMIZERS
from tinify.train import configure_optimizers

CONF = {"net": {"type": "Adam", "lr": 1e-4}, "aux": {"type": "SGD", "lr": 1e-3, "momentum": 0.5}}


def _names(net, optimizer):
    names = {id(p): n for n, p in net.named_parameters()}
    return [[names[id(p)] for p in group["params"]] for group in optimizer.param_groups]


def _settings(optimizer):
    return [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]


def test_net_aux_optimizer_equals_compressai():
    torch.manual_seed(0)
    ours_net, theirs_net = MeanScaleHyperprior(8, 12), CaiMeanScaleHyperprior(8, 12)
    ours = optimizers.net_aux_optimizer(ours_net, CONF)
    theirs = cai_optimizers.net_aux_optimizer(theirs_net, CONF)
    assert list(ours) == list(theirs) == ["net", "aux"]
    for key in ours:
        assert type(ours[key]) is type(theirs[key])
        assert _names(ours_net, ours[key]) == _names(theirs_net, theirs[key])
        assert _settings(ours[key]) == _settings(theirs[key])
    assert _names(ours_net, ours["aux"]) == [["entropy_bottleneck.quantiles"]]


def test_net_optimizer_equals_compressai():
    ours_net, theirs_net = MeanScaleHyperprior(8, 12), CaiMeanScaleHyperprior(8, 12)
    ours = optimizers.net_optimizer(ours_net, CONF)
    theirs = cai_optimizers.net_optimizer(theirs_net, CONF)
    assert list(ours) == list(theirs) == ["net"]
    assert _names(ours_net, ours["net"]) == _names(theirs_net, theirs["net"])


def test_missing_conf_and_unknown_type_raise_key_error_like_compressai():
    net = MeanScaleHyperprior(8, 12)
    for module in (optimizers, cai_optimizers):
        with pytest.raises(KeyError):
            module.net_aux_optimizer(net, {"net": CONF["net"]})
        with pytest.raises(KeyError):
            module.net_optimizer(net, {"net": {"type": "Nonexistent", "lr": 1}})


def test_frozen_parameters_are_left_out():
    # CompressAI's net_aux_optimizer fails with an AssertionError here.
    net = MeanScaleHyperprior(8, 12)
    net.g_a.requires_grad_(False)
    names = _names(net, optimizers.net_aux_optimizer(net, CONF)["net"])[0]
    assert names and not any(n.startswith("g_a.") for n in names)


def test_configure_optimizers_uses_the_same_split():
    net = MeanScaleHyperprior(8, 12)
    optimizer, aux = configure_optimizers(net, lr=2e-4, aux_lr=3e-3)
    reference = optimizers.net_aux_optimizer(
        net, {"net": {"type": "Adam", "lr": 2e-4}, "aux": {"type": "Adam", "lr": 3e-3}}
    )
    assert _names(net, optimizer) == _names(net, reference["net"])
    assert _names(net, aux) == _names(net, reference["aux"])
    assert optimizer.param_groups[0]["lr"] == 2e-4 and aux.param_groups[0]["lr"] == 3e-3


def test_factories_are_registered():
    assert OPTIMIZERS["net_aux"] is optimizers.net_aux_optimizer
    assert OPTIMIZERS["net"] is optimizers.net_optimizer
    assert OPTIMIZERS["Adam"] is torch.optim.Adam
