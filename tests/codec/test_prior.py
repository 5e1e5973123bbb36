"""The prior a ``.tfy`` file records: the engine's for the hyperprior models, its version and
the symbols checksum checked by the decoder; version-1 files decode with torch's prior."""

from __future__ import annotations

import dataclasses
import struct
import zlib

import pytest
import torch
from torch import nn

import tinify
from tinify import engine, tfy
from tinify.codec.coding import engine_capable
from tinify.image import crop, load_image, pad

from .conftest import smooth_image


def _reencode(data: bytes, **fields: object) -> bytes:
    header, strings = tfy.decode(data)
    return tfy.encode(dataclasses.replace(header, **fields), strings)


def _as_version_1(data: bytes) -> bytes:
    """The same file in format version 1: no prior, engine version or checksum."""
    header = tfy.read_header(data)
    assert header.prior == "torch" and header.symbols_checksum is None
    (length,) = struct.unpack_from("<H", data, 10)
    arch = len(header.architecture)
    name = len(header.model_name or "")
    at = 12 + 1 + arch + 1 + name + 2 + 32 + 13  # the prior's byte, after the pad multiple
    assert data[at : at + 11] == bytes(11)
    body = data[:8] + bytes([1, 0]) + struct.pack("<H", length - 11) + data[12:at]
    body += data[at + 11 : -4]
    return body + struct.pack("<I", zlib.crc32(body))


def test_which_models_take_the_engine_prior(models: dict[str, nn.Module]) -> None:
    assert engine_capable(models["mean-scale"]) and engine_capable(models["autoregressive"])
    assert not engine_capable(models["factorized"])


def test_hyperprior_files_record_the_engine_and_a_checksum(models: dict[str, nn.Module]) -> None:
    data = tinify.compress(smooth_image(64, 64, 3), models["mean-scale"], quality=1)
    header = tfy.read_header(data)
    assert header.format_version == 2 and header.prior == "engine"
    assert header.engine_version == engine.ENGINE_VERSION
    assert header.symbols_checksum is not None and len(header.symbols_checksum) == 16
    other = tfy.read_header(tinify.compress(smooth_image(64, 64, 3), models["factorized"]))
    assert other.prior == "torch" and other.engine_version is None


def test_a_symbols_mismatch_is_one_clear_error(models: dict[str, nn.Module]) -> None:
    net = models["mean-scale"]
    data = tinify.compress(smooth_image(64, 64, 3), net, quality=1)
    bad = _reencode(data, symbols_checksum="0123456789abcdef")
    with pytest.raises(tfy.DecodeMismatchError, match="decodes differently on this machine"):
        tinify.decompress(bad, model=net)
    newer = _reencode(data, engine_version=engine.ENGINE_VERSION + 1)
    with pytest.raises(tfy.DecodeMismatchError, match="engine version"):
        tinify.decompress(newer, model=net)
    # Strings that no longer decode (a prior computing other scales) raise the same error.
    header, strings = tfy.decode(data)
    broken = tfy.encode(header, [[s[0][: len(s[0]) // 2]] for s in strings])
    with pytest.raises(tfy.DecodeMismatchError):
        tinify.decompress(broken, model=net)


def test_a_version_1_file_decodes_with_the_torch_prior(models: dict[str, nn.Module]) -> None:
    net = models["mean-scale"]
    image = smooth_image(64, 64, 3)
    x, _ = load_image(image)
    with torch.inference_mode():  # the model's prior is torch's: what version 1 coded with
        out = net.compress(pad(x, 64))
        expected = crop(net.decompress(out["strings"], out["shape"])["x_hat"], (64, 64))
    v2 = tinify.compress(image, net, quality=1)
    header, _ = tfy.decode(v2)
    torch_file = tfy.encode(
        dataclasses.replace(header, prior="torch", engine_version=None, symbols_checksum=None),
        out["strings"],
    )
    old = _as_version_1(torch_file)
    assert tfy.read_header(old).format_version == 1
    decoded = tinify.decompress(old, model=net, output="tensor")
    assert torch.equal(decoded, expected)
