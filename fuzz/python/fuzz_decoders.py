"""Fuzz target of the model decoders behind ``tinify.decompress`` (atheris).

``fuzz_tfy.py`` mutates whole files, and most mutations stop at the header checks. This
target keeps a valid header and fuzzes the coded strings only: the input's first byte picks
a seed file of ``fuzz/corpus/tfy`` (and so a model and a shape), the rest is cut into that
file's number of streams, and the file is rebuilt with :func:`tinify.tfy.encode`. Every
input therefore reaches the entropy decoders (Rust rANS, the autoregressive loop, the
checkerboard and channel-group codecs). Only ``ValueError`` may escape.

Run from the repository root::

    python fuzz/python/fuzz_decoders.py WORKDIR -max_total_time=600 -rss_limit_mb=3072 \\
        -timeout=10 -artifact_prefix=ARTIFACTS/
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import fuzz_tfy

SEEDS: list = []


def one_input(raw: bytes) -> None:
    if not raw:
        return
    header, strings = SEEDS[raw[0] % len(SEEDS)]
    payload = raw[1:]
    count = len(strings)
    step = -(-len(payload) // count) if payload else 0
    streams = [[payload[i * step : (i + 1) * step]] for i in range(count)]
    data = fuzz_tfy.tfy.encode(header, streams)
    try:
        fuzz_tfy.tinify.decompress(data, model=fuzz_tfy.MODELS[header.architecture])
    except ValueError:
        pass


def main() -> None:
    import atheris

    fuzz_tfy.load(instrument=True)
    for path in sorted(fuzz_tfy.CORPUS.glob("*.tfy")):
        SEEDS.append(fuzz_tfy.tfy.decode(path.read_bytes()))
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
