"""Files coded with the engine's prior decode to the same latent symbols under every torch
configuration and engine kernel (issue 16): oneDNN limited to AVX2 or SSE4.1, oneDNN off, one
and two threads, flush-to-zero on, and each engine kernel forced (``TINIFY_ENGINE_KERNEL``).

Each configuration is one subprocess decoding every file; the decoder checks each file's
symbols checksum itself (a mismatch raises ``DecodeMismatchError``), and the subprocess also
reports the checksum it recomputed, which must be the encoder's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

import tinify
from tinify import engine, tfy
from tinify.models.google import MeanScaleHyperprior, ScaleHyperprior
from tinify.zoo import default

from .conftest import realistic

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "assets" / "seeding.png"

_SETUP = {
    "onednn-avx2": ({"ONEDNN_MAX_CPU_ISA": "AVX2"}, ""),
    "onednn-sse41": ({"ONEDNN_MAX_CPU_ISA": "SSE41"}, ""),
    "mkldnn-off": ({}, "torch.backends.mkldnn.enabled = False"),
    "threads-1": ({}, "torch.set_num_threads(1)"),
    "threads-2": ({}, "torch.set_num_threads(2)"),
    "flush-denormal": ({}, "torch.set_flush_denormal(True)"),
}

_CHILD = """
import json, sys, torch
from tinify import tfy
from tinify.codec.coding import decompress_loaded
from tinify.codec.container import read_container
from tinify.codec.resolve import decoder_model
from tinify.entropy_models import base
{setup}
folder = sys.argv[1]
jobs = json.load(open(folder + "/jobs.json"))
seen = {{}}
recorded = []
original = base.record_symbols
def spy(side):
    ctx = original(side)
    record = ctx.__enter__()
    recorded.append(record)
    class _Ctx:
        def __enter__(self):
            return record
        def __exit__(self, *exc):
            return ctx.__exit__(*exc)
    return _Ctx()
import tinify.codec.coding as coding
coding.record_symbols = spy
for name, weights in jobs:
    header, strings = read_container(open(f"{{folder}}/{{name}}.tfy", "rb").read())
    model = None
    if weights:
        model = torch.load(f"{{folder}}/{{weights}}.pt", weights_only=False)
    net = decoder_model(header, model, None)
    decompress_loaded(net, header, strings)  # raises DecodeMismatchError on a mismatch
    seen[name] = recorded[-1].checksum()
print(json.dumps(seen))
"""


def _models() -> dict[str, torch.nn.Module]:
    torch.manual_seed(16)
    return {
        "bmshj2018-hyperprior": realistic(ScaleHyperprior(64, 96)),
        "mbt2018-mean": realistic(MeanScaleHyperprior(64, 96)),
    }


@pytest.mark.slow
def test_files_decode_to_the_same_symbols_everywhere(tmp_path: Path) -> None:
    photo = Image.open(PHOTO).convert("RGB")
    left, top = (photo.width - 256) // 2, (photo.height - 192) // 2
    image = photo.crop((left, top, left + 256, top + 192))
    jobs: list[tuple[str, str | None]] = []
    checksums: dict[str, str] = {}
    for quality in default.QUALITIES:
        data = tinify.compress(image, quality=quality)
        name = f"default-q{quality}"
        (tmp_path / f"{name}.tfy").write_bytes(data)
        jobs.append((name, None))
    for arch, net in _models().items():
        torch.save(net, tmp_path / f"{arch}.pt")
        data = tinify.compress(image, net, quality=1)
        (tmp_path / f"{arch}.tfy").write_bytes(data)
        jobs.append((arch, arch))
    for name, _ in jobs:
        header = tfy.read_header((tmp_path / f"{name}.tfy").read_bytes())
        assert header.prior == "engine" and header.engine_version == engine.ENGINE_VERSION
        assert header.symbols_checksum is not None
        checksums[name] = header.symbols_checksum
    (tmp_path / "jobs.json").write_text(json.dumps(jobs))

    configs = dict(_SETUP)
    for kernel in engine.available_kernels():
        configs[f"kernel-{kernel}"] = ({engine.KERNEL_ENV: kernel}, "")
    procs = {}
    for label, (env, setup) in configs.items():
        script = _CHILD.format(setup=setup)
        child_env = {**os.environ, "OMP_NUM_THREADS": "1", **env}
        procs[label] = subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path)],
            env=child_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        if len(procs) % 2 == 0:  # two at a time (CI's two cores)
            for p in procs.values():
                p.wait()
    failures = []
    for label, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        if proc.returncode != 0:
            failures.append(f"{label}: {err.strip().splitlines()[-1:]}")
            continue
        seen = json.loads(out.strip().splitlines()[-1])
        if seen != checksums:
            failures.append(f"{label}: {seen} != {checksums}")
    assert not failures, "\n".join(failures)
    assert len(configs) >= len(_SETUP) + 1 and len(checksums) == len(default.QUALITIES) + 2
