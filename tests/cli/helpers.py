"""Running the installed ``tinify`` console script in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

TINIFY = shutil.which("tinify") or "tinify"


def tinify(*args: str | Path, cwd: Path | None = None, timeout: float = 600):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [TINIFY, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


def write_png(path: Path, height: int, width: int, mode: str, seed: int = 0) -> Path:
    """A smooth synthetic image (gradients and a sine) with a little noise."""
    rng = np.random.default_rng(seed)
    rows = np.linspace(0, 1, height)[:, None]
    cols = np.linspace(0, 1, width)[None, :]
    planes = [rows * cols, np.broadcast_to(rows, (height, width)), 0.5 + 0.5 * np.sin(8 * cols)]
    rgb = np.stack([np.broadcast_to(p, (height, width)) for p in planes], -1)
    rgb = np.clip(rgb * 255 + rng.normal(0, 4, rgb.shape), 0, 255).astype(np.uint8)
    image = Image.fromarray(rgb, "RGB")
    if mode == "L":
        image = image.convert("L")
    elif mode == "RGBA":
        alpha = Image.fromarray((rows * cols * 255).astype(np.uint8) if width > 0 else None)
        image.putalpha(alpha.resize((width, height)))
    image.save(path)
    return path
