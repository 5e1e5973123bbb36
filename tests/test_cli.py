"""The ``tinify`` command line."""

import subprocess
import sys

from tinify.cli import main


def test_demo_decodes_exactly(capsys):
    assert main(["demo", "--symbols", "20000", "--image-size", "64x128"]) == 0
    out = capsys.readouterr().out
    assert out.count("decoded exactly: True") == 2
    assert "truncated stream is refused" in out
    assert "mbt2018" in out


def test_version_flag_prints_the_package_version(capsys):
    import tinify

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == tinify.__version__


def test_python_dash_m_tinify_runs_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "tinify", "--version"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stdout.strip()
