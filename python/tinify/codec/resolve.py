"""Which model codes an image or decodes a ``.tfy`` file.

The encoder takes the shipped default, CompressAI's published weights (an architecture name),
a checkpoint or a model object; the decoder rebuilds the model the header names, or checks
the one it is given against it (``tinify.codec.identity.check_identity``). Models built
here are kept in a small cache, so that coding many files loads each model once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from tinify import tfy
from tinify.codec.identity import Identity, architecture_of, check_identity, describe
from tinify.models.base import num_rates
from tinify.zoo._tables import check_metric

__all__ = ["PRETRAINED_NAME"]

#: Model name recorded for CompressAI's published weights (``tinify.zoo.model(...,
#: pretrained=True)``).
PRETRAINED_NAME = "compressai-pretrained"
#: Quality of a zoo model when none is given (CompressAI's ``examples/codec.py`` default).
ZOO_DEFAULT_QUALITY = 3


def encoder_model(
    model: Any, quality: int | None, metric: str, checkpoint: Any
) -> tuple[nn.Module, Identity]:
    """The model :func:`tinify.codec.compress` codes with, and what its header records."""
    check_metric(metric)
    if checkpoint is not None:
        if isinstance(model, nn.Module):
            raise TypeError("pass either a model object or a checkpoint, not both")
        net = _load_checkpoint(checkpoint, model)
        return net, Identity(architecture_of(net), None, _quality_of(net, quality), metric)
    if model is None:
        from tinify.zoo import default

        if metric != "mse":
            raise ValueError(f"the default model {default.DEFAULT_NAME} is trained for mse")
        q = default.DEFAULT_QUALITY if quality is None else quality
        net = _cached_default(q)
        return net, Identity(default.ARCHITECTURE, default.DEFAULT_NAME, q, "mse")
    if isinstance(model, str):
        q = ZOO_DEFAULT_QUALITY if quality is None else quality
        net = _cached_pretrained(model, q, metric)
        return net, Identity(architecture_of(net), PRETRAINED_NAME, q, metric)
    if isinstance(model, nn.Module):
        return model, Identity(architecture_of(model), None, _quality_of(model, quality), metric)
    raise TypeError(
        f"model must be None, an architecture name or a model, got {type(model).__name__}"
    )


def decoder_model(header: tfy.TfyHeader, model: Any, checkpoint: Any) -> nn.Module:
    """The model :func:`tinify.codec.decompress` decodes ``header``'s file with, checked
    against the header."""
    if checkpoint is not None:
        if isinstance(model, nn.Module):
            raise TypeError("pass either a model object or a checkpoint, not both")
        net = _load_checkpoint(checkpoint, model)
    elif isinstance(model, nn.Module):
        net = model
    elif isinstance(model, str):
        net = _cached_pretrained(model, _need_quality(header), header.metric or "mse")
    elif model is None:
        net = _named_model(header)
    else:
        raise TypeError(
            f"model must be None, an architecture name or a model, got {type(model).__name__}"
        )
    check_identity(header, net)
    return net


def _named_model(header: tfy.TfyHeader) -> nn.Module:
    name = header.model_name
    if name is None:
        raise ValueError(
            f"this file was coded with a model of the user's own ({describe(header)}): pass "
            "the model or its checkpoint to decompress it"
        )
    if name == PRETRAINED_NAME:
        return _cached_pretrained(header.architecture, _need_quality(header), header.metric)
    if name.startswith("tinify-default-"):
        from tinify.zoo import default

        if name != default.DEFAULT_NAME:
            raise ValueError(
                f"this file was coded with the default model {name}, but this tinify ships "
                f"{default.DEFAULT_NAME}: decode it with the tinify that made it"
            )
        return _cached_default(_need_quality(header))
    raise ValueError(
        f"this file names the model {name!r}, which this tinify does not know: pass the model "
        "or its checkpoint"
    )


def _need_quality(header: tfy.TfyHeader) -> int:
    if header.quality is None:
        raise ValueError(f"the header of {describe(header)} records no quality")
    return header.quality


def _quality_of(net: nn.Module, quality: int | None) -> int | None:
    if quality is None and num_rates(net) > 1:
        return int(net.rate) + 1
    return quality


def _load_checkpoint(checkpoint: Any, arch: Any) -> nn.Module:
    from tinify import zoo

    if arch is not None and not isinstance(arch, str):
        raise TypeError(f"with a checkpoint, model is an architecture name or None, got {arch!r}")
    return zoo.load_checkpoint(checkpoint, arch)


_MODEL_CACHE: dict[tuple[Any, ...], nn.Module] = {}


def _cached(key: tuple[Any, ...], build: Callable[[], nn.Module]) -> nn.Module:
    """The model ``key`` names, built once: one entry per network (a variable-rate network
    serves all its qualities), the four most recent kept."""
    net = _MODEL_CACHE.get(key)
    if net is None:
        net = build().eval()
        if len(_MODEL_CACHE) >= 4:
            _MODEL_CACHE.pop(next(iter(_MODEL_CACHE)))
        _MODEL_CACHE[key] = net
    return net


def _cached_default(quality: int) -> nn.Module:
    """The default network, one for all its qualities: coding passes every call its rate
    (``quality - 1``, :func:`tinify.codec.coding._rate_kwargs`)."""
    from tinify.zoo import default

    quality = default.check_quality(quality)
    net = _cached(("default", default.DEFAULT_NAME), lambda: default.load_default(quality))
    net.rate = quality - 1
    return net


def _cached_pretrained(arch: str, quality: int, metric: str | None) -> nn.Module:
    from tinify import zoo

    metric = metric or "mse"
    return _cached(
        ("pretrained", arch, quality, metric),
        lambda: zoo.model(arch, quality, metric, pretrained=True),
    )
