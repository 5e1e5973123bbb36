"""Run by test_torchrun.py under ``torchrun --nproc_per_node=2``: trains with tinify's loop,
then writes whether every rank ended with the same weights (rank 0 writes ``ranks.json``)."""

import argparse
import json
import sys

import torch

from tinify import distributed
from tinify.train import add_arguments, train


def main() -> int:
    args = add_arguments(argparse.ArgumentParser()).parse_args(sys.argv[1:])
    net = train(args)
    flat = torch.cat([p.detach().reshape(-1) for p in net.parameters()])
    everyone = distributed.gather(flat)
    if everyone is not None:
        result = {
            "world": len(everyone),
            "max_abs_difference": max(float((w - everyone[0]).abs().max()) for w in everyone),
        }
        (args.out / "ranks.json").write_text(json.dumps(result))
    distributed.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
