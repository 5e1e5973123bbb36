"""The benchmarks run (on tiny inputs), so they cannot rot; speed is measured by running them
directly, never asserted here."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHES = Path(__file__).resolve().parents[1] / "benches"


def _run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCHES / script), *args], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.compressai  # the bench runs CompressAI beside tinify
def test_bench_ans_runs_and_finds_identical_bytes():
    out = _run("bench_ans.py", "--symbols", "20000", "--repeat", "1")
    assert "tinify bytes == compressai bytes: True" in out


@pytest.mark.compressai  # the bench runs CompressAI beside tinify
def test_bench_entropy_models_runs_and_finds_identical_strings():
    out = _run(
        "bench_entropy_models.py",
        *("--N", "8", "--M", "12", "--channels", "8", "--height", "4", "--width", "6"),
        *("--batches", "1,2", "--repeat", "1"),
    )
    assert "tables identical: True" in out
    assert "tinify strings == compressai strings: True" in out


def test_bench_autoregressive_runs_and_codes_the_same_bytes_count():
    out = _run(
        "bench_autoregressive.py", "--models", "mbt2018-192", "--size", "128x64", "--repeat", "1"
    )
    assert "autoregressive step" in out and "PSNR" in out


@pytest.mark.compressai
def test_bench_codec_runs_file_to_file_for_tinify_and_compressai():
    out = _run(
        "bench_codec.py",
        *("--archs", "bmshj2018-factorized,mbt2018-mean", "--size", "64x96", "--repeat", "1"),
    )
    assert "bmshj2018-factorized" in out and "mbt2018-mean" in out and "x " in out


def test_bench_default_times_the_default_model_beside_the_codecs_it_is_given():
    sample = str(BENCHES.parent / "assets" / "seeding.png")  # the repository's own photo
    common = ("--image", sample, "--size", "256x192", "--qualities", "1", "--repeat", "1")
    common += ("--threads", "1")
    out = _run("bench_default.py", *common, "--codecs", "jpeg")
    assert "quality 1:" in out and "tinify, 1 thread(s)" in out
    assert "jpeg  q=" in out and "webp" not in out
    alone = _run("bench_default.py", *common, "--codecs", "none")
    assert "quality 1:" in alone and "jpeg" not in alone


def test_bench_default_refuses_an_unknown_codec():
    result = subprocess.run(
        [sys.executable, str(BENCHES / "bench_default.py"), "--codecs", "jpeg,heic"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 2
    assert "unknown codec(s) heic" in result.stderr
