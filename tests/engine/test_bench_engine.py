"""The engine benchmark runs (on a tiny image), so it cannot rot; speed is never asserted."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benches" / "bench_engine.py"


def test_bench_engine_runs_and_prints_both_models():
    result = subprocess.run(
        [sys.executable, str(BENCH), "--size", "128x64", "--threads", "1", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "default" in result.stdout and "mbt2018-mean" in result.stdout
