"""Golden ``.tfy`` files: the default model at qualities 1 and 5 on a 64x64 crop of the sample
photo (``assets/seeding.png``, centred), committed in ``tests/codec/golden/``.

The SHA-256 of the latent symbols they decode to is pinned: it holds on every machine (the
prior runs on the engine) and changes only with the format, the engine version or the
default model's weights. The decoded pixels come from ``g_s``, which still runs in torch: their
hash is pinned for the machine it was recorded on and is torch-dependent (another CPU kernel or
torch version may move a pixel by one), so a difference there is reported as an expected
failure, not an error.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

import tinify
from tinify import engine, tfy
from tinify.entropy_models.base import record_symbols

GOLDEN = Path(__file__).with_name("golden")

#: name: (symbols SHA-256, decoded pixels SHA-256 (torch-dependent))
PINNED = {
    "default-q1": (
        "c7b8a20edcb1ab2c198caea235ba2064461513de0c068cce86da142879d5abce",
        "ea190c210850c822c97eb337dd92a8433a7b5d6fa10e14d0d8138b12191091b2",
    ),
    "default-q5": (
        "fe50f63439a5298d20d38be4db527ed21a4715261e57f79546725581fe822477",
        "c1d88e3e3124efa2cbf124b0be1826c8ee4195283aabe3a4fc721ef760de2fb6",
    ),
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
    assert record.sha256() == PINNED[name][0]
    assert record.checksum() == header.symbols_checksum


@pytest.mark.parametrize("name", sorted(PINNED))
def test_golden_file_pixels_torch_dependent(name: str) -> None:
    image = tinify.decompress((GOLDEN / f"{name}.tfy").read_bytes(), output="numpy")
    digest = hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()
    if digest != PINNED[name][1]:
        pytest.xfail(f"decoded pixels {digest}: g_s runs in torch, whose kernels move pixels")
