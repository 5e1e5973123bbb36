"""Fixtures of the training tests: a folder of small smooth images."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def smooth_image(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A photograph-like test image: a few low-frequency colour gradients, plus a little noise."""
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    channels = []
    for _ in range(3):
        a, b, c, d = rng.uniform(-3, 3, 4)
        channels.append(0.5 + 0.35 * np.sin(a * xx + b * yy + c) * np.cos(d * xx))
    img = np.stack(channels, -1) + rng.normal(0, 0.01, (h, w, 3))
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


@pytest.fixture(scope="session")
def image_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(smooth_image(rng, 80, 96)).save(root / f"img{i}.png")
    return root
