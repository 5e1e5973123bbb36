"""Fuzz target of the ``.tfy`` reader and of ``tinify.decompress`` (atheris).

Each input is a ``.tfy`` file, mutated. It is read twice: as it is (exercising the frame
checks: magic, version, CRC), then with its CRC-32 recomputed, so that mutations reach the
header parser, the shape checks and, through ``tinify.decompress`` with the seeded models of
``tfy_models``, the library's decoders. Only ``ValueError`` (``tinify.tfy.TfyError`` is
one) may escape; anything else is a crash.

Run from the repository root::

    python fuzz/python/fuzz_tfy.py WORKDIR fuzz/corpus/tfy -max_total_time=600 \
        -rss_limit_mb=3072 -timeout=10 -artifact_prefix=ARTIFACTS/

(new inputs go to the first folder, WORKDIR, so the seed corpus stays as committed)

or, without atheris, ``python fuzz/python/fuzz_tfy.py --mutate SECONDS`` for a plain
mutation loop over the corpus.
"""

from __future__ import annotations

import contextlib
import random
import sys
import time
import zlib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

MODELS: dict = {}
tinify: Any = None
tfy: Any = None


def load(instrument: bool = False) -> None:
    """Imports tinify (instrumented for coverage when fuzzing with atheris) and builds the
    seeded models."""
    global tinify, tfy
    context = contextlib.nullcontext()
    if instrument:
        import atheris

        context = atheris.instrument_imports(include=["tinify", "tfy_models"])
    with context:
        import torch

        torch.set_num_threads(1)
        from tfy_models import build_models

        import tinify as _tinify
        import tinify.codec
        from tinify import tfy as _tfy

    tinify, tfy = _tinify, _tfy
    MODELS.update(build_models())


CORPUS = Path(__file__).parents[1] / "corpus" / "tfy"


def fix_crc(data: bytes) -> bytes:
    """``data`` with its last 4 bytes replaced by the CRC-32 of the rest."""
    if len(data) < 4:
        return data
    body = data[:-4]
    return body + zlib.crc32(body).to_bytes(4, "little")


def one_input(raw: bytes) -> None:
    """Decodes ``raw`` as it is, then with its CRC-32 recomputed, and decompresses the latter
    with the seeded model its header names."""
    try:
        tfy.decode(raw)
    except ValueError:
        pass
    data = fix_crc(raw)
    try:
        header, _ = tfy.decode(data)
    except ValueError:
        return
    net = MODELS.get(header.architecture)
    if net is None:
        return
    try:
        tinify.decompress(data, model=net, output="numpy")
    except ValueError:
        return


def mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.random()
        if not buf:
            buf.append(rng.randrange(256))
        elif op < 0.4:
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
        elif op < 0.6:
            buf[rng.randrange(len(buf))] = rng.choice((0, 1, 0x7F, 0x80, 0xFF, rng.randrange(256)))
        elif op < 0.75:
            del buf[rng.randrange(len(buf)) :]
        elif op < 0.9:
            at = rng.randrange(len(buf))
            buf[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        else:
            at = rng.randrange(len(buf))
            del buf[at : at + rng.randint(1, 16)]
    return bytes(buf)


def mutation_loop(seconds: float) -> int:
    """Fuzzes without atheris for ``seconds``; returns the number of inputs run."""
    rng = random.Random(0)
    seeds = [p.read_bytes() for p in sorted(CORPUS.glob("*.tfy"))]
    end = time.monotonic() + seconds
    count = 0
    while time.monotonic() < end:
        data = mutate(rng.choice(seeds), rng)
        one_input(data)
        count += 1
    return count


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--mutate":
        load()
        print(f"{mutation_loop(float(sys.argv[2]))} inputs, no crash")
        return
    import atheris

    load(instrument=True)
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
