"""Writes the seed corpus of the ``.tfy`` fuzz target: small real files, one per model of
``tfy_models`` and colour mode, in ``fuzz/corpus/tfy/``.

Run from the repository root: ``python fuzz/python/make_tfy_corpus.py``. The files depend on
the seeded weights of ``tfy_models.build_models``; rerun after changing them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))

from tfy_models import build_models

import tinify

OUT = Path(__file__).parents[1] / "corpus" / "tfy"


def smooth_image(height: int, width: int, channels: int, seed: int) -> np.ndarray:
    """A smooth colour image (a blurred noise field), so the latents look like a photo's."""
    rng = np.random.default_rng(seed)
    small = rng.random((height // 8 + 2, width // 8 + 2, channels))
    image = np.kron(small, np.ones((8, 8, 1)))[:height, :width]
    return (image * 255).round().astype(np.uint8)


def main() -> None:
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    for i, (arch, net) in enumerate(build_models().items()):
        for mode, channels, size in (
            ("RGB", 3, (40, 56)),
            ("L", 1, (17, 33)),
            ("RGBA", 4, (9, 70)),
        ):
            image = smooth_image(*size, channels, seed=i)
            if channels == 1:
                image = image[:, :, 0]
            data = tinify.compress(image, net, quality=1)
            path = OUT / f"{arch}-{mode.lower()}.tfy"
            path.write_bytes(data)
            print(f"{path.name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
