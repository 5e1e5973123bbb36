"""compress → decompress through the installed ``tinify`` script, for every zoo architecture."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from tests.cli.helpers import tinify, write_png
from tinify import zoo

SIZES = [(131, 97, "RGB"), (1, 1, "L"), (9, 2048, "RGBA"), (70, 33, "L")]


@pytest.mark.parametrize("arch", zoo.ARCHITECTURES)
def test_decoded_images_have_the_input_size_and_mode(tmp_path, arch):
    torch.manual_seed(0)
    checkpoint = tmp_path / "random.pth"
    torch.save(zoo.model(arch, 1).state_dict(), checkpoint)
    sources = tmp_path / "in"
    sources.mkdir()
    for i, (h, w, mode) in enumerate(SIZES):
        write_png(sources / f"img{i}.png", h, w, mode, seed=i)

    coded = tmp_path / "coded"
    result = tinify(
        "compress", sources, "-m", arch, "--checkpoint", checkpoint, "-q", "1", "-o", coded
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(" bpp, ") == len(SIZES)

    decoded = tmp_path / "out"
    result = tinify("decompress", coded, "--checkpoint", checkpoint, "-m", arch, "-o", decoded)
    assert result.returncode == 0, result.stderr
    for i, (h, w, mode) in enumerate(SIZES):
        with Image.open(decoded / f"img{i}.png") as image:
            assert (image.size, image.mode) == ((w, h), mode)

    info = tinify("info", coded / "img0.tfy", "--json")
    assert info.returncode == 0, info.stderr
    header = json.loads(info.stdout)
    assert header["architecture"] == arch
    assert (header["height"], header["width"], header["mode"]) == (131, 97, "RGB")
    assert header["quality"] == 1
    text = tinify("info", coded / "img0.tfy")
    assert arch in text.stdout and "97x131 RGB" in text.stdout


def test_existing_output_is_kept_without_force(tmp_path):
    torch.manual_seed(0)
    checkpoint = tmp_path / "random.pth"
    torch.save(zoo.model("bmshj2018-factorized", 1).state_dict(), checkpoint)
    src = write_png(tmp_path / "photo.png", 40, 50, "RGB")
    (tmp_path / "photo.tfy").write_bytes(b"keep")
    result = tinify("compress", src, "--checkpoint", checkpoint)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "--force" in result.stderr
    assert (tmp_path / "photo.tfy").read_bytes() == b"keep"
    result = tinify("compress", src, "--checkpoint", checkpoint, "-f", "--quiet")
    assert result.returncode == 0 and result.stdout == ""
    assert (tmp_path / "photo.tfy").read_bytes()[:4] == b"\x89TFY"


def test_missing_input_is_one_line_and_status_1(tmp_path):
    result = tinify("compress", tmp_path / "nothing.png")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "nothing.png" in result.stderr
