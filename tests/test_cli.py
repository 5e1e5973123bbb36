"""The ``tinify`` command line."""

import subprocess
import sys
from pathlib import Path

from tinify.cli import main


def test_demo_round_trips_a_photo_with_the_default_model(tmp_path, capsys):
    from PIL import Image

    # The README's sample photograph, committed with the repository.
    photo = Path(__file__).resolve().parents[1] / "assets" / "seeding.png"
    src = tmp_path / "photo.png"
    with Image.open(photo) as image:
        image.convert("RGB").crop((0, 0, 192, 128)).save(src)
    out = tmp_path / "decoded.png"
    assert main(["demo", str(src), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "bpp" in text and "PSNR" in text and "encode" in text
    with Image.open(out) as decoded:
        assert decoded.size == (192, 128)


def test_version_flag_prints_the_package_version(capsys):
    import tinify

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == tinify.__version__


def test_python_dash_m_tinify_runs_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "tinify", "--version"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stdout.strip()
