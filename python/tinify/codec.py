"""``tinify.compress`` and ``tinify.decompress``: an image to a ``.tfy`` file's bytes and back.

.. code-block:: python

    import tinify

    data = tinify.compress("photo.png")  # the shipped default model
    image = tinify.decompress(data)  # a PIL image of the original size and mode

Any image size works: tinify pads to the model's multiple (centred, zeros) and crops back.
Greyscale is coded as RGB and returned greyscale; an alpha channel is carried losslessly
(zlib) beside the coded colour; 16-bit inputs are coded at 8 bits (see :mod:`tinify.image`
and ``docs/format.md``). The decoder rebuilds the model the header names, or checks the one it
is given against the header's weights digest.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from tinify import tfy
from tinify.files import atomic_write, refuse_existing
from tinify.image import (
    ImageInfo,
    crop,
    from_output,
    load_image,
    pad,
    padding_multiple,
)
from tinify.latent_codecs.base import plain_shape

__all__ = [
    "PRETRAINED_NAME",
    "CompressReport",
    "DecompressReport",
    "architecture_of",
    "compress",
    "compress_file",
    "decompress",
    "decompress_file",
    "weights_digest",
]

#: Model name recorded for CompressAI's published weights (``tinify.zoo.model(...,
#: pretrained=True)``).
PRETRAINED_NAME = "compressai-pretrained"
#: Quality of a zoo model when none is given (CompressAI's ``examples/codec.py`` default).
ZOO_DEFAULT_QUALITY = 3

#: Beyond this many pixels, a file must hold at least one byte per ``PIXELS_PER_BYTE``
#: padded pixels: a small file cannot make the decoder synthesize a huge image.
PIXELS_FLOOR = 2**22
PIXELS_PER_BYTE = 2**16


@dataclass(frozen=True)
class _Identity:
    architecture: str
    model_name: str | None
    quality: int | None
    metric: str | None


@dataclass(frozen=True)
class CompressReport:
    """What :func:`compress_file` did.

    Attributes:
        src: the image read. dst: the ``.tfy`` file written.
        bytes: size of the file; payload_bytes: of the coded strings alone.
        bpp: bits per pixel of the whole file; payload_bpp: of the strings (CompressAI's bpp).
        height, width: the image size. mode: its colour mode.
        seconds: time spent compressing (reading the image and the model excluded).
    """

    src: Path
    dst: Path
    bytes: int
    payload_bytes: int
    bpp: float
    payload_bpp: float
    height: int
    width: int
    mode: str
    seconds: float


@dataclass(frozen=True)
class DecompressReport:
    """What :func:`decompress_file` did (fields as in :class:`CompressReport`; ``bytes`` and
    the bpp are those of the ``.tfy`` file read, ``seconds`` the decoding time)."""

    src: Path
    dst: Path
    bytes: int
    payload_bytes: int
    bpp: float
    payload_bpp: float
    height: int
    width: int
    mode: str
    seconds: float


# ----------------------------------------------------------------------------- public API


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
    net, identity = _encoder_model(model, quality, metric, checkpoint)
    x, info = load_image(image)
    return _compress_loaded(net, identity, x, info)


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
    header, strings = tfy.decode(data)
    _check_payload_size(header, strings, len(data))
    net = _decoder_model(header, model, checkpoint)
    x_hat = _decompress_loaded(net, header, strings)
    alpha = None
    if header.alpha is not None:
        plane = tfy.unpack_alpha(header.alpha, header.height, header.width)
        alpha = np.frombuffer(plane, dtype=np.uint8).reshape(header.height, header.width)
    info = ImageInfo(header.mode, header.source_bit_depth, (header.height, header.width), alpha)
    return from_output(x_hat, info, output)


def compress_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    model: str | nn.Module | None = None,
    quality: int | None = None,
    *,
    metric: str = "mse",
    checkpoint: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> CompressReport:
    """Compresses the image file ``src`` into the ``.tfy`` file ``dst``.

    ``dst`` is written atomically (a temporary file in its folder, then renamed): a failure
    leaves no file. Arguments are those of :func:`compress`.

    Raises:
        FileExistsError: ``dst`` exists and ``overwrite`` is False.
    """
    src, dst = Path(src), Path(dst)
    refuse_existing(dst, overwrite)
    net, identity = _encoder_model(model, quality, metric, checkpoint)
    x, info = load_image(src)
    start = time.perf_counter()
    data = _compress_loaded(net, identity, x, info)
    seconds = time.perf_counter() - start
    atomic_write(dst, lambda f: f.write(data), overwrite=overwrite)
    header, strings = tfy.decode(data)
    return CompressReport(src, dst, seconds=seconds, **_sizes(header, strings, len(data)))


def decompress_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    model: str | nn.Module | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> DecompressReport:
    """Decompresses the ``.tfy`` file ``src`` into the image file ``dst``, in the format its
    suffix names (``.png`` keeps every bit of the decoded 8-bit image).

    ``dst`` is written atomically, as in :func:`compress_file`.

    Raises:
        FileExistsError: ``dst`` exists and ``overwrite`` is False.
        ValueError: ``dst`` has a suffix no image format is registered for.
    """
    from PIL import Image

    src, dst = Path(src), Path(dst)
    refuse_existing(dst, overwrite)
    image_format = Image.registered_extensions().get(dst.suffix.lower())
    if image_format is None:
        raise ValueError(f"cannot tell an image format from the name {dst.name!r}")
    if src.stat().st_size > tfy.MAX_FILE:
        raise tfy.TfyError(f"{src} is larger than any .tfy file ({tfy.MAX_FILE} bytes)")
    data = src.read_bytes()
    start = time.perf_counter()
    image = decompress(data, model=model, checkpoint=checkpoint, output="pil")
    seconds = time.perf_counter() - start
    atomic_write(dst, lambda f: image.save(f, format=image_format), overwrite=overwrite)
    header, strings = tfy.decode(data)
    return DecompressReport(src, dst, seconds=seconds, **_sizes(header, strings, len(data)))


# ----------------------------------------------------------------------------- identity

_DIGESTS: weakref.WeakKeyDictionary[nn.Module, tuple[tuple[Any, ...], str]] = (
    weakref.WeakKeyDictionary()
)


def weights_digest(model: nn.Module) -> str:
    """SHA-256 (hex) of a model's ``state_dict()`` as ``docs/format.md`` §3 defines it.

    Cached per model; the cache is dropped when any tensor is replaced or modified in place
    (by an optimizer step, ``update()``, ``load_state_dict``).
    """
    state = model.state_dict(keep_vars=True)
    fingerprint = tuple(
        (key, t.data_ptr(), t._version, tuple(t.shape), t.dtype) for key, t in state.items()
    )
    cached = _DIGESTS.get(model)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    digest = hashlib.sha256()
    for key in sorted(state):
        tensor = state[key].detach()
        dtype = str(tensor.dtype).removeprefix("torch.").encode()
        name = key.encode()
        digest.update(struct.pack("<I", len(name)) + name)
        digest.update(struct.pack("<I", len(dtype)) + dtype)
        digest.update(struct.pack(f"<B{tensor.dim()}Q", tensor.dim(), *tensor.shape))
        flat = tensor.to("cpu").contiguous().reshape(-1)
        if flat.numel():
            digest.update(flat.view(torch.uint8).numpy().tobytes())
    value = digest.hexdigest()
    _DIGESTS[model] = (fingerprint, value)
    return value


def architecture_of(model: nn.Module) -> str:
    """The registered architecture name of a model (``tinify.zoo.architecture_of``)."""
    try:
        from tinify.zoo import architecture_of as zoo_architecture_of
    except ImportError:
        zoo_architecture_of = None
    if zoo_architecture_of is not None:
        return str(zoo_architecture_of(model))
    from tinify import registry

    for name in registry.names("model"):
        if registry.resolve("model", name) is type(model):
            return name
    raise ValueError(
        f"{type(model).__name__} is not a registered architecture: a .tfy file must name it"
    )


def _encoder_model(
    model: Any, quality: int | None, metric: str, checkpoint: Any
) -> tuple[nn.Module, _Identity]:
    if metric not in ("mse", "ms-ssim"):
        raise ValueError(f"metric must be 'mse' or 'ms-ssim', got {metric!r}")
    if checkpoint is not None:
        if isinstance(model, nn.Module):
            raise TypeError("pass either a model object or a checkpoint, not both")
        net = _load_checkpoint(checkpoint, model)
        return net, _Identity(architecture_of(net), None, _quality_of(net, quality), metric)
    if model is None:
        from tinify.zoo import default

        if metric != "mse":
            raise ValueError(f"the default model {default.DEFAULT_NAME} is trained for mse")
        q = default.DEFAULT_QUALITY if quality is None else quality
        net = _cached_default(q)
        return net, _Identity(default.ARCHITECTURE, default.DEFAULT_NAME, q, "mse")
    if isinstance(model, str):
        q = ZOO_DEFAULT_QUALITY if quality is None else quality
        net = _cached_pretrained(model, q, metric)
        return net, _Identity(architecture_of(net), PRETRAINED_NAME, q, metric)
    if isinstance(model, nn.Module):
        return model, _Identity(architecture_of(model), None, _quality_of(model, quality), metric)
    raise TypeError(
        f"model must be None, an architecture name or a model, got {type(model).__name__}"
    )


def _decoder_model(header: tfy.TfyHeader, model: Any, checkpoint: Any) -> nn.Module:
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
    _check_identity(header, net)
    return net


def _named_model(header: tfy.TfyHeader) -> nn.Module:
    name = header.model_name
    if name is None:
        raise ValueError(
            f"this file was coded with a model of the user's own ({_describe(header)}): pass "
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


def _check_identity(header: tfy.TfyHeader, net: nn.Module) -> None:
    architecture = architecture_of(net)
    digest = weights_digest(net)
    if architecture != header.architecture or (
        header.weights_sha256 is not None and digest != header.weights_sha256
    ):
        raise ValueError(
            f"the file was coded with {_describe(header)}, not with the model given "
            f"({architecture}, weights sha256 {digest[:16]}...)"
        )
    multiple = padding_multiple(net)
    if multiple != header.pad_multiple:
        raise ValueError(
            f"the file was padded to a multiple of {header.pad_multiple}, but {architecture} "
            f"pads to {multiple}"
        )


def _describe(header: tfy.TfyHeader) -> str:
    parts = [header.model_name or header.architecture]
    if header.model_name:
        parts.append(header.architecture)
    if header.quality is not None:
        parts.append(f"quality {header.quality}")
    if header.weights_sha256:
        parts.append(f"weights sha256 {header.weights_sha256[:16]}...")
    return ", ".join(parts)


def _need_quality(header: tfy.TfyHeader) -> int:
    if header.quality is None:
        raise ValueError(f"the header of {_describe(header)} records no quality")
    return header.quality


def _quality_of(net: nn.Module, quality: int | None) -> int | None:
    if quality is None and hasattr(net, "num_rates"):
        return int(net.rate) + 1
    return quality


def _load_checkpoint(checkpoint: Any, arch: Any) -> nn.Module:
    from tinify import zoo

    if arch is not None and not isinstance(arch, str):
        raise TypeError(f"with a checkpoint, model is an architecture name or None, got {arch!r}")
    return zoo.load_checkpoint(checkpoint, arch)


_MODEL_CACHE: dict[tuple[Any, ...], nn.Module] = {}


def _cached(key: tuple[Any, ...], build: Callable[[], nn.Module]) -> nn.Module:
    net = _MODEL_CACHE.get(key)
    if net is None:
        net = build().eval()
        if len(_MODEL_CACHE) >= 4:
            _MODEL_CACHE.pop(next(iter(_MODEL_CACHE)))
        _MODEL_CACHE[key] = net
    return net


def _cached_default(quality: int) -> nn.Module:
    from tinify.zoo import default

    return _cached(
        ("default", default.DEFAULT_NAME, quality), lambda: default.load_default(quality)
    )


def _cached_pretrained(arch: str, quality: int, metric: str | None) -> nn.Module:
    from tinify import zoo

    metric = metric or "mse"
    return _cached(
        ("pretrained", arch, quality, metric),
        lambda: zoo.model(arch, quality, metric, pretrained=True),
    )


# ----------------------------------------------------------------------------- coding


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
    if not hasattr(net, "num_rates") or quality is None:
        return {}
    return {"rate": quality - 1}


def _compress_loaded(net: nn.Module, identity: _Identity, x: Tensor, info: ImageInfo) -> bytes:
    multiple = padding_multiple(net)
    with _eval_mode(net):
        out = net.compress(pad(x, multiple).to(_device(net)), **_rate_kwargs(net, identity.quality))
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
    )
    return tfy.encode(header, [[bytes(stream[0])] for stream in strings])


def _decompress_loaded(net: nn.Module, header: tfy.TfyHeader, strings: tfy.Strings) -> Tensor:
    with _eval_mode(net):
        out = net.decompress(strings, header.shape, **_rate_kwargs(net, header.quality))
    x_hat = out["x_hat"]
    padded = header.padded_size
    if x_hat.dim() != 4 or tuple(x_hat.shape[:2]) != (1, 3) or tuple(x_hat.shape[2:]) != padded:
        raise ValueError(
            f"the model decoded an image of shape {tuple(x_hat.shape)}, expected "
            f"(1, 3, {padded[0]}, {padded[1]})"
        )
    return crop(x_hat, (header.height, header.width))


def _check_payload_size(header: tfy.TfyHeader, strings: tfy.Strings, size: int) -> None:
    ph, pw = header.padded_size
    limit = max(PIXELS_FLOOR, PIXELS_PER_BYTE * size)
    if ph * pw > limit:
        raise ValueError(
            f"a {size}-byte file cannot hold a {header.height}x{header.width} image (at most "
            f"{limit} pixels): the header is corrupt"
        )


def _sizes(header: tfy.TfyHeader, strings: tfy.Strings, size: int) -> dict[str, Any]:
    pixels = header.height * header.width
    payload = sum(len(s[0]) for s in strings)
    return {
        "bytes": size,
        "payload_bytes": payload,
        "bpp": size * 8 / pixels,
        "payload_bpp": payload * 8 / pixels,
        "height": header.height,
        "width": header.width,
        "mode": header.mode,
    }
