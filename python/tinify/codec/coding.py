""":func:`compress` and :func:`decompress`: an image to a ``.tfy`` file's bytes and back, in
memory (the file functions are ``tinify.codec.files``)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from tinify import tfy
from tinify.codec.container import read_container
from tinify.codec.identity import Identity, weights_digest
from tinify.codec.resolve import decoder_model, encoder_model
from tinify.engine import ENGINE_VERSION
from tinify.entropy_models.base import record_symbols
from tinify.image import (
    ImageInfo,
    crop,
    from_output,
    load_image,
    pad,
    padding_multiple,
)
from tinify.latent_codecs.base import plain_shape
from tinify.models.base import num_rates

__all__ = ["compress", "decompress"]


def _mismatch(header: tfy.TfyHeader, what: str) -> tfy.DecodeMismatchError:
    engine = f"engine version {header.engine_version}" if header.prior == "engine" else "torch"
    return tfy.DecodeMismatchError(
        f"this file decodes differently on this machine than where it was coded (prior: "
        f"{engine}): {what}. No image is returned: the engine or prior here does not compute "
        "the encoder's Gaussians"
    )


def compress(
    image: Any,
    model: str | nn.Module | None = None,
    quality: int | None = None,
    *,
    metric: str = "mse",
    checkpoint: str | os.PathLike[str] | None = None,
) -> bytes:
    """Compresses an image into the bytes of a ``.tfy`` file.

    Args:
        image: a path, a ``PIL.Image``, a uint8 numpy array ``(H, W[, C])`` or a float tensor
            ``([1,] C, H, W)`` in [0, 1] (:func:`tinify.image.load_image`).
        model: None for the shipped default model (``tinify.zoo.default``); an architecture
            name (``"mbt2018-mean"``) for CompressAI's published weights, or for the
            ``checkpoint``'s architecture; or a model object, used as it is.
        quality: the quality level (the default model's ``DEFAULT_QUALITY``, or 3 for a zoo
            architecture, when None). With a model object it is only recorded, except for
            variable-rate models (``num_rates``), which code at rate ``quality - 1``.
        metric: ``"mse"`` or ``"ms-ssim"``: which published weights, and what is recorded.
        checkpoint: a checkpoint to load (``tinify.zoo.load_checkpoint``) instead of
            published weights.

    Returns:
        The ``.tfy`` file's bytes.

    Raises:
        ValueError, TypeError: a bad image or argument, or a model that cannot code it.
    """
    net, identity = encoder_model(model, quality, metric, checkpoint)
    x, info = load_image(image)
    return compress_loaded(net, identity, x, info)[0]


def decompress(
    data: bytes,
    *,
    model: str | nn.Module | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    output: str = "pil",
) -> Any:
    """Decompresses the bytes of a ``.tfy`` file into an image of the original size and mode.

    Args:
        data: the file's bytes.
        model: None to rebuild the model the header names (the default model, or CompressAI's
            published weights); an architecture name for its published weights; or a model
            object. A model given is checked against the header's weights digest.
        checkpoint: a checkpoint holding the model (for files made with a model of one's own).
        output: ``"pil"`` (a ``PIL.Image``), ``"numpy"`` (uint8 ``(H, W)`` or ``(H, W, C)``)
            or ``"tensor"`` (float ``(1, C, H, W)`` in [0, 1]).

    Raises:
        tinify.tfy.TfyError: the bytes are not a valid ``.tfy`` file.
        ValueError: the model given (or rebuilt) is not the one the header names, or the
            strings do not decode.
    """
    header, strings = read_container(data)
    return decompress_parsed(header, strings, model=model, checkpoint=checkpoint, output=output)


def decompress_parsed(
    header: tfy.TfyHeader,
    strings: tfy.Strings,
    *,
    model: str | nn.Module | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    output: str = "pil",
) -> Any:
    """:func:`decompress` of a file already read by
    ``tinify.codec.container.read_container`` (arguments as there)."""
    net = decoder_model(header, model, checkpoint)
    x_hat = decompress_loaded(net, header, strings)
    alpha = None
    if header.alpha is not None:
        plane = tfy.unpack_alpha(header.alpha, header.height, header.width)
        alpha = np.frombuffer(plane, dtype=np.uint8).reshape(header.height, header.width)
    info = ImageInfo(header.mode, header.source_bit_depth, (header.height, header.width), alpha)
    return from_output(x_hat, info, output)


@contextlib.contextmanager
def _eval_mode(net: nn.Module) -> Iterator[None]:
    was_training = net.training
    net.eval()
    try:
        with torch.inference_mode():
            yield
    finally:
        net.train(was_training)


def _device(net: nn.Module) -> torch.device:
    for tensor in net.parameters():
        return tensor.device
    return torch.device("cpu")


def _rate_kwargs(net: nn.Module, quality: int | None) -> dict[str, int]:
    """Variable-rate models code at ``rate = quality - 1``."""
    if quality is None or num_rates(net) == 1:
        return {}
    return {"rate": quality - 1}


def engine_capable(net: nn.Module) -> bool:
    """Whether ``net`` takes ``prior="engine"``: a tinify model whose latent codec computes
    the Gaussians' parameters in a hyper codec (``docs/determinism.md``)."""
    if not isinstance(getattr(type(net), "prior", None), str):
        return False
    try:
        codec = getattr(net, "latent_codec", None)
    except NotImplementedError:  # a model that codes without a latent codec
        return False
    return isinstance(codec, nn.Module) and any(
        isinstance(getattr(type(m), "prior", None), str) for m in codec.modules()
    )


@contextlib.contextmanager
def _prior(net: nn.Module, prior: str) -> Iterator[None]:
    """``net.prior = prior`` for the duration (a model may be shared: the cache, the user's)."""
    model: Any = net
    before = model.prior
    if before == prior:
        yield
        return
    model.prior = prior
    try:
        yield
    finally:
        model.prior = before


def compress_loaded(
    net: nn.Module, identity: Identity, x: Tensor, info: ImageInfo
) -> tuple[bytes, tfy.TfyHeader, tfy.Strings]:
    """The ``.tfy`` bytes of the loaded image ``x`` coded by ``net``, with the header and
    strings they hold."""
    multiple = padding_multiple(net)
    model: Any = net  # any module with CompressAI's compress(), not only a CompressionModel
    engine = engine_capable(net)
    coding = _prior(net, "engine") if engine else contextlib.nullcontext()
    with _eval_mode(net), coding, record_symbols("compress") as record:
        out = model.compress(
            pad(x, multiple).to(_device(net)), **_rate_kwargs(net, identity.quality)
        )
    strings = out["strings"]
    if any(len(stream) != 1 for stream in strings):
        raise ValueError("the model returned more than one string per stream for one image")
    header = tfy.TfyHeader(
        architecture=identity.architecture,
        height=info.size[0],
        width=info.size[1],
        shape=plain_shape(out["shape"]),
        mode=info.mode,
        quality=identity.quality,
        metric=identity.metric,
        model_name=identity.model_name,
        weights_sha256=weights_digest(net),
        source_bit_depth=info.bit_depth,
        pad_multiple=multiple,
        alpha=None if info.alpha is None else tfy.pack_alpha(info.alpha.tobytes()),
        prior="engine" if engine else "torch",
        engine_version=ENGINE_VERSION if engine else None,
        symbols_checksum=record.checksum() if engine and record.count else None,
    )
    coded: tfy.Strings = [[bytes(stream[0])] for stream in strings]
    return tfy.encode(header, coded), header, coded


def decompress_loaded(net: nn.Module, header: tfy.TfyHeader, strings: tfy.Strings) -> Tensor:
    """The image (cropped to the header's size) ``net`` decodes from a file's strings.

    Raises:
        tinify.tfy.DecodeMismatchError: the file records a symbols checksum and the symbols
            decoded here differ (or do not decode at all), or it was coded with an engine
            version or prior this tinify or model does not have.
    """
    model: Any = net  # any module with CompressAI's decompress(), as in compress_loaded
    engine = engine_capable(net)
    if header.prior == "engine":
        if not engine:
            raise tfy.DecodeMismatchError(
                f"the file was coded with the engine's prior, which {type(net).__name__} "
                "does not support: it cannot decode it"
            )
        if header.engine_version != ENGINE_VERSION:
            raise tfy.DecodeMismatchError(
                f"the file was coded with engine version {header.engine_version}; this "
                f"tinify's engine is version {ENGINE_VERSION} and would decode it differently"
            )
    coding = _prior(net, header.prior) if engine else contextlib.nullcontext()
    try:
        with _eval_mode(net), coding, record_symbols("decompress") as record:
            out = model.decompress(strings, header.shape, **_rate_kwargs(net, header.quality))
    except (ValueError, RuntimeError) as err:
        if header.symbols_checksum is None:
            raise
        raise _mismatch(header, f"its strings do not decode here ({err})") from err
    if header.symbols_checksum is not None and record.checksum() != header.symbols_checksum:
        raise _mismatch(
            header,
            f"the latent symbols decoded here have checksum {record.checksum()}, the "
            f"encoder's {header.symbols_checksum}",
        )
    x_hat = out["x_hat"]
    padded = header.padded_size
    if x_hat.dim() != 4 or tuple(x_hat.shape[:2]) != (1, 3) or tuple(x_hat.shape[2:]) != padded:
        raise ValueError(
            f"the model decoded an image of shape {tuple(x_hat.shape)}, expected "
            f"(1, 3, {padded[0]}, {padded[1]})"
        )
    return crop(x_hat, (header.height, header.width))
