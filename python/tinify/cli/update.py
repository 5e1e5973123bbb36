"""Rebuild a checkpoint's CDF tables (update(force=True)) and save its state_dict as
DIR/NAME-<sha256[:8]>.pth.tar, the layout torch.hub's hash check expects (CompressAI's
update_model). Training checkpoints (state_dict/network/model_state_dict wrappers, module.
prefixes, older CompressAI key names) are accepted; the architecture is inferred from the keys
when they tell.
"""

from __future__ import annotations

import argparse

HELP = "rebuild a checkpoint's CDF tables and save it as NAME-<sha256[:8]>.pth.tar"

EPILOG = """examples:
  tinify update checkpoint_best_loss.pth.tar -n my-model -o models/
  tinify update old.pth.tar -a bmshj2018-hyperprior
"""


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", metavar="CHECKPOINT")
    parser.add_argument("-a", "--architecture", metavar="ARCH", help="if the keys do not tell")
    parser.add_argument("-o", "--output", metavar="DIR", help="(default: the checkpoint's folder)")
    parser.add_argument("-n", "--name", help="file name stem (default: the checkpoint's)")


def run(args: argparse.Namespace) -> int:
    from tinify.zoo import update_checkpoint

    path = update_checkpoint(
        args.checkpoint, args.architecture, directory=args.output, name=args.name
    )
    print(path)
    return 0
