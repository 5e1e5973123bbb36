"""``tinify --help`` and ``tinify info`` answer without importing torch."""

from __future__ import annotations

import subprocess
import sys

import torch

from tests.cli.helpers import write_png
from tinify import zoo

_PROBE = """
import sys
from tinify.cli import main
status = main(sys.argv[1:])
assert status == {status}, status
print("torch" in sys.modules)
"""


def _imports_torch(*args: str, status: int = 0) -> bool:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.format(status=status), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1] == "True"


def test_help_does_not_import_torch():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\nfrom tinify.cli import main\ntry:\n main(['--help'])"
            "\nexcept SystemExit: pass\nprint('torch' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.strip().splitlines()[-1] == "False", result.stdout + result.stderr
    assert "compress" in result.stdout and "bdrate" in result.stdout


def test_info_does_not_import_torch(tmp_path):
    torch.manual_seed(0)
    checkpoint = tmp_path / "m.pth"
    torch.save(zoo.model("bmshj2018-factorized", 1).state_dict(), checkpoint)
    src = write_png(tmp_path / "a.png", 20, 30, "RGB")
    from tinify.cli import main

    assert main(["compress", str(src), "--checkpoint", str(checkpoint), "--quiet"]) == 0
    assert not _imports_torch("info", str(tmp_path / "a.tfy"))
    assert not _imports_torch("info", "--json", str(tmp_path / "a.tfy"))


def test_every_command_has_help_with_examples():
    from tinify.cli.main import COMMANDS

    for name in COMMANDS:
        result = subprocess.run(
            [sys.executable, "-m", "tinify", name, "--help"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, (name, result.stderr)
        assert "usage: tinify " + name in result.stdout


def test_missing_optional_extra_names_the_pip_command(tmp_path):
    results = tmp_path / "r.json"
    results.write_text('{"name": "x", "results": {"bpp": [0.1], "psnr-rgb": [30.0]}}')
    blocker = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'matplotlib':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from tinify.cli import main\n"
        f"sys.exit(main(['plot', {str(results)!r}, '-o', {str(tmp_path / 'rd.png')!r}]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", blocker], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        'tinify plot: error: matplotlib is not installed: pip install "tinify[plot]"'
    )


def test_a_corrupt_file_is_refused_before_torch_is_imported(tmp_path):
    # A truncated container (magic and version intact) fails the pure-Python reader's checks,
    # so `decompress` answers at once instead of first spending seconds importing torch.
    from tinify import tfy

    bad = tmp_path / "bad.tfy"
    bad.write_bytes(tfy.MAGIC + bytes([tfy.FORMAT_VERSION]) + bytes(40))
    assert not _imports_torch("decompress", str(bad), "-o", str(tmp_path / "out.png"), status=1)
    assert not (tmp_path / "out.png").exists()
