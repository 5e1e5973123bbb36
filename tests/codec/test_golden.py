"""Golden ``.tfy`` files: the default model at qualities 1 and 5 on a 64x64 crop of the sample
photo (``assets/seeding.png``, centred), committed in ``tests/codec/golden/``.

The SHA-256 of the latent symbols they decode to is pinned: it holds on every machine (the
prior runs on the engine) and changes only with the format, the engine version or the
default model's weights. The decoded pixels come from ``g_s``, which still runs in torch, whose
kernels may move a pixel by one grey level between machines: they are compared with the
committed decoded image (``*.png``) to within one level.

After a change of the default model's weights, regenerate the files and the pins with
``python tests/codec/test_golden.py`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tinify
from tinify import engine, tfy
from tinify.entropy_models.base import record_symbols

GOLDEN = Path(__file__).with_name("golden")

#: name: SHA-256 of the latent symbols it decodes to.
PINNED = {
    "default-q1": "d705cceb919d498d0072222c315bb0ebb6f64a09567661dfab5a228a24c91eb2",
    "default-q5": "791bd908e016e3639919eaf8b3134cf14fb72be9fa8a250aed358c917d0debe5",
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_golden_file_decodes_to_its_pinned_symbols(name: str) -> None:
    data = (GOLDEN / f"{name}.tfy").read_bytes()
    header = tfy.read_header(data)
    assert header.format_version == 2 and header.prior == "engine"
    assert header.engine_version == engine.ENGINE_VERSION
    with record_symbols("decompress") as record:
        image = tinify.decompress(data, output="numpy")
    assert image.shape == (64, 64, 3)
    assert record.sha256() == PINNED[name]
    assert record.checksum() == header.symbols_checksum


@pytest.mark.parametrize("name", sorted(PINNED))
def test_golden_file_pixels_are_within_one_level_of_the_committed_image(name: str) -> None:
    from PIL import Image

    image = tinify.decompress((GOLDEN / f"{name}.tfy").read_bytes(), output="numpy")
    with Image.open(GOLDEN / f"{name}.png") as committed:
        expected = np.asarray(committed.convert("RGB"))
    assert image.shape == expected.shape
    assert int(np.abs(image.astype(np.int16) - expected.astype(np.int16)).max()) <= 1


def _regenerate() -> None:
    """Writes the golden files, their decoded images, and prints the pins to paste above."""
    from PIL import Image

    with Image.open(Path(__file__).resolve().parents[2] / "assets" / "seeding.png") as photo:
        rgb = photo.convert("RGB")
        left, top = (rgb.width - 64) // 2, (rgb.height - 64) // 2
        crop = rgb.crop((left, top, left + 64, top + 64))
    for name, quality in (("default-q1", 1), ("default-q5", 5)):
        data = tinify.compress(crop, quality=quality)
        (GOLDEN / f"{name}.tfy").write_bytes(data)
        with record_symbols("decompress") as record:
            image = tinify.decompress(data, output="numpy")
        Image.fromarray(image).save(GOLDEN / f"{name}.png")
        print(f"{name!r}: {record.sha256()!r},")


if __name__ == "__main__":
    _regenerate()
