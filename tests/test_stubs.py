"""The type stubs of the native module match it (mypy's stubtest)."""

import subprocess
import sys


def test_core_stub_matches_the_native_module():
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "tinify._core"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
