"""Turn a training checkpoint of the default model into the shipped weights file.

Usage (from the repository root)::

    python recipes/default/export.py runs/default/checkpoint.pth.tar

Solves the entropy bottleneck's quantiles and builds the CDF tables
(``update(force=True, update_quantiles=True)``), checks that an image round-trips at every
quality, and writes ``python/tinify/zoo/weights/<DEFAULT_NAME>.pth`` (a float32 state_dict
with the tables) plus ``<DEFAULT_NAME>.json`` (step, training time, sha256).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import torch

from tinify.models.gain import GainedMeanScaleHyperprior
from tinify.zoo import default


def _built(state: dict, raw: bool = False) -> GainedMeanScaleHyperprior:
    # The moving average when the run kept one (the recipe's), else the raw weights.
    weights = (None if raw else state.get("ema_state_dict")) or state["state_dict"]
    net = GainedMeanScaleHyperprior.from_state_dict(weights).eval()
    # Quantiles solved exactly (the auxiliary loss converges slowly), then the tables.
    net.update(force=True, update_quantiles=True)
    return net


def release_model(checkpoint: Path, *, raw: bool = False) -> tuple[GainedMeanScaleHyperprior, int]:
    """The model a release of ``checkpoint`` ships, in eval mode with its tables, and the
    checkpoint's step. ``raw`` takes the raw weights even where the run kept a moving average
    (to compare the two; releases ship the average)."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    return _built(state, raw), int(state.get("step", -1))


def export(checkpoint: Path, out: Path = default.WEIGHTS) -> dict:
    """Writes the weights of ``checkpoint`` to ``out``; returns the metadata written beside."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    net, step = _built(state), int(state.get("step", -1))
    torch.manual_seed(0)
    x = torch.rand(1, 3, 64, 128)
    with torch.no_grad():
        for rate in range(net.num_rates):
            enc = net.compress(x, rate=rate)
            dec = net.decompress(enc["strings"], enc["shape"], rate=rate)
            if dec["x_hat"].shape != x.shape:
                raise RuntimeError("round trip changed the image size")
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.detach().clone() for k, v in net.state_dict().items()}, out)
    meta = {
        "name": default.DEFAULT_NAME,
        "architecture": default.ARCHITECTURE,
        "step": step,
        "train_time_s": float(state.get("train_time_s", 0.0)),
        "ema": state.get("ema_state_dict") is not None,
        "lambdas": [round(v, 6) for v in net.lambdas.tolist()],
        "sha256": hashlib.sha256(out.read_bytes()).hexdigest(),
        "bytes": out.stat().st_size,
    }
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--out", type=Path, default=default.WEIGHTS)
    args = parser.parse_args(argv)
    print(json.dumps(export(args.checkpoint, args.out), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
