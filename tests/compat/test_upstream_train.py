"""CompressAI's examples/train.py, with only its imports changed to tinify
(tests/compat/upstream/train.py), trains on synthetic images, and its checkpoint codes with
``tinify compress --checkpoint`` and ``tinify decompress --checkpoint``."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

TRAIN_PY = Path(__file__).parent / "upstream" / "train.py"


def _images(folder: Path, count: int, size: int, seed: int) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size]
    for i in range(count):
        base = np.stack([x * (i + 1), y * 3, (x + y) * 2], -1) % 256
        noisy = base + rng.normal(0, 10, base.shape)
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(folder / f"{i:02d}.png")


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.compressai
def test_compressai_train_script_trains_and_its_checkpoint_codes_with_tinify(tmp_path):
    data = tmp_path / "data"
    _images(data / "train", 20, 64, seed=0)  # batch size 1: 20 steps in the one epoch
    _images(data / "test", 2, 64, seed=1)
    argv = [sys.executable, str(TRAIN_PY), "-d", str(data), "--epochs", "1"]
    argv += ["--batch-size", "1", "--test-batch-size", "2", "--patch-size", "64", "64"]
    argv += ["-n", "0", "--seed", "0"]
    done = _run(argv, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Train epoch 0: [10/20" in done.stdout and "Test epoch 0" in done.stdout
    checkpoint = tmp_path / "checkpoint_best_loss.pth.tar"
    assert checkpoint.is_file() and (tmp_path / "checkpoint.pth.tar").is_file()

    photo = tmp_path / "photo.png"
    _images(tmp_path / "photos", 1, 96, seed=2)
    (tmp_path / "photos" / "00.png").rename(photo)
    tinify = [sys.executable, "-m", "tinify"]
    done = _run([*tinify, "compress", str(photo), "--checkpoint", str(checkpoint)], tmp_path)
    assert done.returncode == 0, done.stderr
    coded = tmp_path / "photo.tfy"
    assert coded.is_file()
    out = tmp_path / "decoded.png"
    done = _run(
        [*tinify, "decompress", str(coded), "--checkpoint", str(checkpoint), "-o", str(out)],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    with Image.open(out) as decoded, Image.open(photo) as original:
        assert decoded.size == original.size
