"""Corrupt .tfy files through the installed ``tinify decompress``: one stderr line per file,
a non-zero exit, no output left behind."""

from __future__ import annotations

import random
import struct
import zlib

import pytest
import torch

from tests.cli.helpers import tinify, write_png
from tinify import tfy, zoo

ARCH = "bmshj2018-hyperprior"


@pytest.fixture(scope="module")
def coded(tmp_path_factory):
    """A valid file of a 97x131 image, and the checkpoint that codes it."""
    root = tmp_path_factory.mktemp("coded")
    torch.manual_seed(0)
    net = zoo.model(ARCH, 1)
    with torch.no_grad():
        net.g_a[-1].weight.mul_(6)  # latents of realistic spread, not all zero
    checkpoint = root / "model.pth"
    torch.save(net.state_dict(), checkpoint)
    src = write_png(root / "photo.png", 131, 97, "RGB")
    result = tinify("compress", src, "--checkpoint", checkpoint, "-m", ARCH, "-q", "1")
    assert result.returncode == 0, result.stderr
    return (root / "photo.tfy").read_bytes(), checkpoint


def _with_crc(body: bytes) -> bytes:
    return body + struct.pack("<I", zlib.crc32(body))


def _decode_all(tmp_path, files: dict[str, bytes], checkpoint):
    src = tmp_path / "corrupt"
    src.mkdir()
    for name, data in files.items():
        (src / f"{name}.tfy").write_bytes(data)
    out = tmp_path / "out"
    result = tinify("decompress", src, "-o", out, "--checkpoint", checkpoint, "-m", ARCH)
    return result, out


def test_every_truncation_and_bit_flip_is_refused_one_line_each(tmp_path, coded):
    data, checkpoint = coded
    files = {f"cut{n:05d}": data[:n] for n in range(0, len(data), 97)}
    rng = random.Random(0)
    for k in range(200):
        flipped = bytearray(data)
        position = rng.randrange(len(data) * 8)
        flipped[position // 8] ^= 1 << (position % 8)
        files[f"flip{k:03d}"] = bytes(flipped)
    result, out = _decode_all(tmp_path, files, checkpoint)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(files), result.stderr[-2000:]
    assert all(line.startswith("tinify decompress: error: ") for line in lines)
    assert "Traceback" not in result.stderr
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*"))


def test_forged_headers_are_refused(tmp_path, coded):
    data, checkpoint = coded
    header, strings = tfy.decode(data)
    fields = {f: getattr(header, f) for f in header.__dataclass_fields__}
    other = tfy.encode(tfy.TfyHeader(**{**fields, "architecture": "mbt2018-mean"}), strings)
    future = _with_crc(data[:8] + bytes([tfy.FORMAT_VERSION + 1]) + data[9:-4])
    size = struct.pack("<II", header.height, header.width)
    assert data.count(size) == 1
    huge = _with_crc(data[:-4].replace(size, struct.pack("<II", 10**6, 10**6)))
    files = {"other-model": other, "future-version": future, "huge": huge}
    result, out = _decode_all(tmp_path, files, checkpoint)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, result.stderr
    by_file = {name: next(line for line in lines if f"{name}.tfy" in line) for name in files}
    assert "mbt2018-mean" in by_file["other-model"]
    assert "version" in by_file["future-version"]
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*"))


@pytest.mark.parametrize("cut", [0, 10, 100])
def test_single_corrupt_file_is_one_line_and_leaves_no_output(tmp_path, coded, cut):
    data, checkpoint = coded
    src = tmp_path / "bad.tfy"
    src.write_bytes(data[:cut])
    result = tinify("decompress", src, "--checkpoint", checkpoint, "-m", ARCH)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "bad.tfy" in result.stderr
    assert not (tmp_path / "bad.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tfy"]
