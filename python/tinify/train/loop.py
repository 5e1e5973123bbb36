"""The training loop: data → forward → loss → backward → step → log, on one process or many.

Started by ``tinify train`` or ``torchrun --nproc_per_node=K -m tinify.train``: under torchrun
the model is wrapped in :class:`~torch.nn.parallel.DistributedDataParallel`, a
:class:`~torch.utils.data.DistributedSampler` gives each rank its own crops, and rank 0 alone
writes the log and the checkpoints.
"""

from __future__ import annotations

import argparse
import copy
import inspect
import json
import math
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, DistributedSampler

from tinify import distributed
from tinify.train.checkpoint import (
    get_rng_state,
    load_training_checkpoint,
    save_checkpoint,
    set_rng_state,
)
from tinify.train.data import ImageFolder, SkipSampler, image_files, load_uint8
from tinify.train.loss import RateDistortionLoss
from tinify.train.optim import configure_optimizers
from tinify.train.precision import autocast_transforms

__all__ = ["LAMBDAS", "add_arguments", "build_model", "main", "train", "validate"]

#: CompressAI's λ of each zoo quality 1..8.
LAMBDAS = {
    "mse": (0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483, 0.0932, 0.1800),
    "ms-ssim": (2.40, 4.58, 8.73, 16.64, 31.73, 60.50, 115.37, 220.00),
}


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``tinify train`` and ``python -m tinify.train`` (one parser for both)."""
    p = parser
    p.add_argument("data", type=Path, nargs="+", help="folder(s) of training images")
    p.add_argument("-m", "--model", dest="arch", required=True, help="architecture name")
    g = p.add_mutually_exclusive_group()
    g.add_argument("-q", "--quality", type=int, help="zoo quality: its N, M and λ")
    g.add_argument("--lambda", dest="lmbda", type=float, help="rate–distortion λ")
    p.add_argument("--metric", default="mse", choices=("mse", "ms-ssim"))
    p.add_argument("--N", type=int, help="hidden channels (instead of the zoo quality's)")
    p.add_argument("--M", type=int, help="latent channels (instead of the zoo quality's)")
    n = p.add_mutually_exclusive_group()
    n.add_argument("--steps", type=int, help="optimiser steps to reach (total, resume included)")
    n.add_argument("--epochs", type=int, help="epochs to reach (instead of --steps)")
    p.add_argument("--batch-size", type=int, default=8, help="per process (default 8)")
    p.add_argument("--patch-size", type=int, default=128, help="crop side (default 128)")
    p.add_argument("--repeat", type=int, default=16, help="crops per image per epoch (16)")
    p.add_argument(
        "--by-pixels",
        action="store_true",
        help="share each epoch's crops among images by pixel count instead of equally",
    )
    p.add_argument(
        "--scale-min",
        type=float,
        default=1.0,
        help="crops are downscaled by a factor drawn from [SCALE_MIN, 1] (default 1: none)",
    )
    p.add_argument("--rot90", action="store_true", help="random quarter turns of the crops")
    p.add_argument("--lr", type=float, default=1e-4, help="network learning rate (1e-4)")
    p.add_argument("--aux-lr", type=float, default=1e-3, help="quantiles learning rate (1e-3)")
    p.add_argument(
        "--lr-milestones",
        type=int,
        nargs="*",
        default=[],
        help="steps at which the learning rate is multiplied by 0.1 (none: constant)",
    )
    p.add_argument(
        "--warmup",
        type=int,
        default=0,
        help="steps of linear learning-rate warm-up from the start or --init (default 0)",
    )
    p.add_argument(
        "--ema-decay",
        type=float,
        default=0.0,
        help="keep an exponential moving average of the weights with this decay "
        "(e.g. 0.999; 0: none), saved as ema_state_dict and validated instead of the raw ones",
    )
    p.add_argument(
        "--mixed-quantization",
        action="store_true",
        help="noise for the rate term, rounded latents (straight-through) into the synthesis",
    )
    p.add_argument(
        "--init",
        type=Path,
        help="start from these weights (a state_dict or checkpoint) at step 0, new optimiser",
    )
    p.add_argument(
        "--bf16",
        action="store_true",
        help="run the transforms g_a and g_s under bfloat16 autocast (entropy models in float32)",
    )
    p.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's)")
    p.add_argument("--clip-max-norm", type=float, default=1.0, help="gradient clipping (1.0)")
    p.add_argument(
        "--files", type=Path, help="file of image names in DATA (one folder) to train on"
    )
    p.add_argument("--exclude", nargs="*", default=[], help="image names to leave out")
    p.add_argument("--val", type=Path, help="folder of validation images")
    p.add_argument("--val-files", nargs="*", help="names in --val to validate on")
    p.add_argument("--val-every", type=int, default=2000, help="steps between validations")
    p.add_argument("--log-every", type=int, default=100, help="steps per log line (100)")
    p.add_argument("--save-every", type=int, default=500, help="steps between checkpoints")
    p.add_argument("--resume", type=Path, help="training checkpoint to continue from")
    p.add_argument("--out", type=Path, default=Path("runs/train"), help="output folder")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--log-indices", action="store_true", help=argparse.SUPPRESS)
    return p


def build_model(
    arch: str, quality: int | None = None, N: int | None = None, M: int | None = None
) -> nn.Module:
    """A fresh model: the zoo's architecture at ``quality``, or, with ``N``/``M`` or for a
    registered model outside the zoo, the registered class built with them."""
    from tinify import registry

    zoo = None
    if N is None and M is None and quality is not None:
        try:
            import tinify.zoo as zoo
        except ImportError:
            zoo = None
    if zoo is not None:
        return zoo.model(arch, quality)
    import tinify.models  # noqa: F401  (registers the architectures)

    cls = registry.resolve("model", arch)
    kwargs = {k: v for k, v in (("N", N), ("M", M)) if v is not None}
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise ValueError(
            f"{arch} needs its size: give -q QUALITY (the zoo's N and M) or --N and --M"
        ) from err


def _rates(net: nn.Module) -> list[int | None]:
    """The rates to validate: each of a variable-rate model's, or the one rate (None)."""
    k = getattr(net, "num_rates", None)
    return list(range(k)) if k else [None]


def _lr_factor(warmup: int, milestones: Sequence[int]) -> Any:
    """The learning rate's factor at each step: a linear warm-up over ``warmup`` steps, then
    ×0.1 at each milestone (none: constant, so training can go on indefinitely)."""
    marks = sorted(milestones)

    def factor(step: int) -> float:
        ramp = min(1.0, (step + 1) / warmup) if warmup > 0 else 1.0
        return ramp * 0.1 ** sum(step >= m for m in marks)

    return factor


def _forward(net: nn.Module, x: Tensor, rate: int | None) -> Any:
    return net(x) if rate is None else net(x, rate=rate)


def _psnr(mse: float) -> float:
    return 10 * math.log10(1 / mse) if mse > 0 else float("inf")


def _centre_crop(x: Tensor, multiple: int = 64, max_hw: tuple[int, int] = (512, 768)) -> Tensor:
    h, w = x.shape[-2:]
    if h > w:
        max_hw = max_hw[::-1]
    ch = min(h, max_hw[0]) // multiple * multiple
    cw = min(w, max_hw[1]) // multiple * multiple
    top, left = (h - ch) // 2, (w - cw) // 2
    return x[..., top : top + ch, left : left + cw]


@torch.no_grad()
def validate(net: nn.Module, images: Sequence[Tensor]) -> dict[str, Any]:
    """Codes each image for real at each rate: bpp from the strings beside the estimate, and
    the PSNR of the decoded image. Calls ``update(force=True)`` first (the CDF tables follow
    the weights); leaves ``net`` in eval mode."""
    net.eval()
    net.update(force=True)
    results: dict[str, Any] = {}
    for rate in _rates(net):
        sums = {"bpp_estimate": 0.0, "bpp": 0.0, "psnr": 0.0}
        for x in images:
            pixels = x.size(-2) * x.size(-1)
            out = _forward(net, x, rate)
            est = sum(torch.log2(lk).sum() for lk in out["likelihoods"].values())
            sums["bpp_estimate"] += float(-est) / pixels
            enc = net.compress(x) if rate is None else net.compress(x, rate=rate)
            nbytes = sum(len(s[0]) for s in enc["strings"])
            sums["bpp"] += 8 * nbytes / pixels
            dec = (
                net.decompress(enc["strings"], enc["shape"])
                if rate is None
                else net.decompress(enc["strings"], enc["shape"], rate=rate)
            )
            x8 = (x * 255).round()
            y8 = (dec["x_hat"] * 255).round()
            sums["psnr"] += _psnr(float(((x8 - y8) / 255).pow(2).mean()))
        key = "default" if rate is None else str(rate + 1)
        results[key] = {k: v / len(images) for k, v in sums.items()}
    return results


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(type(obj).__name__)


def train(args: argparse.Namespace) -> nn.Module:
    """Trains per ``args`` (see :func:`add_arguments`) and returns the trained model (its
    moving average with ``--ema-decay``; eval mode, CDF tables built) on every rank."""
    rank, world = distributed.init_from_env("nccl" if args.device == "cuda" else "gloo")
    main_rank = rank == 0
    device = torch.device("cuda", torch.cuda.current_device()) if args.device == "cuda" else None
    device = device or torch.device("cpu")
    out: Path = args.out
    if main_rank:
        out.mkdir(parents=True, exist_ok=True)

    # Seeds: the same model initialisation everywhere, then each rank its own stream.
    torch.manual_seed(args.seed)
    net = build_model(args.arch, args.quality, args.N, args.M).to(device)
    variable_rate = getattr(net, "num_rates", None) is not None
    if variable_rate and (args.quality is not None or args.lmbda is not None):
        raise ValueError(f"{args.arch} trains every rate at once: give neither -q nor --lambda")
    if not variable_rate and args.quality is None and args.lmbda is None:
        raise ValueError("give -q QUALITY or --lambda L")
    lmbda = args.lmbda if args.lmbda is not None else None
    if lmbda is None and not variable_rate:
        lmbda = LAMBDAS[args.metric][args.quality - 1]
    seed = args.seed + rank
    torch.manual_seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (the global one, by design)
    random.seed(seed)
    rate_generator = torch.Generator().manual_seed(args.seed)  # same on every rank

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.init is not None:
        init = torch.load(args.init, map_location=device, weights_only=True)
        if isinstance(init, dict) and "state_dict" in init:
            init = init.get("ema_state_dict") or init["state_dict"]
        net.load_state_dict(init)
    if args.mixed_quantization:
        if not hasattr(type(net), "mixed_quantization"):
            raise ValueError(f"{args.arch} has no mixed quantization to switch on")
        net.mixed_quantization = True
    criterion = RateDistortionLoss(lmbda or 1.0, metric=args.metric)
    optimizer, aux_optimizer = configure_optimizers(net, lr=args.lr, aux_lr=args.aux_lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _lr_factor(args.warmup, args.lr_milestones)
    )
    # The moving average of the parameters only: the buffers (CDF tables) of the copy are its
    # own, rebuilt from its own weights when it is validated or exported.
    ema = copy.deepcopy(net).requires_grad_(False) if args.ema_decay > 0 else None
    ema_pairs = list(zip(ema.parameters(), net.parameters(), strict=True)) if ema else []
    # After the EMA copy, which must not inherit the hooks: validation and export run float32.
    precision = autocast_transforms(net) if args.bf16 else []

    names = None
    folders = list(args.data)
    if args.files is not None:
        if len(folders) != 1:
            raise ValueError("--files names images of one folder: give one DATA folder with it")
        names = [ln.strip() for ln in args.files.read_text().splitlines() if ln.strip()]
    paths = [p for folder in folders for p in image_files(folder, names, args.exclude)]
    dataset = ImageFolder(
        paths,
        patch_size=args.patch_size,
        repeat=args.repeat,
        scale=(args.scale_min, 1.0),
        rot90=args.rot90,
        by_pixels=args.by_pixels,
    )
    sampler = DistributedSampler(
        dataset, num_replicas=world, rank=rank, shuffle=True, seed=args.seed, drop_last=True
    )
    steps_per_epoch = len(sampler) // args.batch_size
    if steps_per_epoch < 1:
        raise ValueError(
            f"{len(dataset)} crops over {world} process(es) do not fill one batch of "
            f"{args.batch_size}: raise --repeat or lower --batch-size"
        )
    total = args.steps if args.steps is not None else (args.epochs or 1) * steps_per_epoch

    step, train_time = 0, 0.0
    if args.resume is not None:
        state = load_training_checkpoint(args.resume, map_location=device)
        net.load_state_dict(state["state_dict"])
        optimizer.load_state_dict(state["optimizer"])
        if aux_optimizer is not None:
            aux_optimizer.load_state_dict(state["aux_optimizer"])
        scheduler.load_state_dict(state["lr_scheduler"])
        if ema is not None:
            if state.get("ema_state_dict") is None:
                raise ValueError(f"{args.resume} has no EMA weights; resume without --ema-decay")
            ema.load_state_dict(state["ema_state_dict"])
        rate_generator.set_state(state["rate_generator"].cpu())
        if len(state["rng"]) != world:
            raise ValueError(
                f"{args.resume} was saved by {len(state['rng'])} process(es), not {world}: "
                "resume with the same number"
            )
        set_rng_state(state["rng"][rank])
        step, train_time = int(state["step"]), float(state.get("train_time_s", 0.0))

    model: nn.Module = net
    if world > 1:
        # No buffer sync at each forward: the CDF tables (buffers) change size when rank 0
        # validates. (torch 2.15 renamed the option; the ranks' buffers are equal at start.)
        ddp = nn.parallel.DistributedDataParallel
        params = inspect.signature(ddp).parameters
        sync = "forward_sync_buffers" if "forward_sync_buffers" in params else "broadcast_buffers"
        model = ddp(net, **{sync: False})

    val_images: list[Tensor] = []
    if args.val is not None and main_rank:
        val_paths = image_files(args.val, args.val_files)
        val_images = [
            _centre_crop(load_uint8(p).float().div(255).unsqueeze(0)).to(device) for p in val_paths
        ]

    def checkpoint(path: Path) -> None:
        rng = distributed.gather(get_rng_state())
        if main_rank:
            save_checkpoint(
                path,
                {
                    "step": step,
                    "arch": args.arch,
                    "state_dict": net.state_dict(),
                    "ema_state_dict": ema.state_dict() if ema is not None else None,
                    "optimizer": optimizer.state_dict(),
                    "aux_optimizer": aux_optimizer.state_dict() if aux_optimizer else None,
                    "lr_scheduler": scheduler.state_dict(),
                    "rate_generator": rate_generator.get_state(),
                    "rng": rng,
                    "train_time_s": train_time,
                    "args": json.loads(json.dumps(vars(args), default=_json_default)),
                },
            )

    log = (out / "log.jsonl").open("a") if main_rank else None

    def write(record: dict[str, Any]) -> None:
        if log is not None:
            log.write(json.dumps(record) + "\n")
            log.flush()

    progress = None
    if main_rank and args.progress:
        from tqdm import tqdm

        progress = tqdm(total=total, initial=step, desc="train", dynamic_ncols=True)

    main_params = [p for group in optimizer.param_groups for p in group["params"]]
    sums: dict[str, float] = {}
    count, indices = 0, []
    tick = time.perf_counter()
    net.train()
    while step < total:
        epoch, offset = divmod(step, steps_per_epoch)
        sampler.set_epoch(epoch)
        batches = SkipSampler(sampler, offset * args.batch_size)
        # A generator of its own: the loader would otherwise draw a seed from the global one at
        # each iterator, one draw more after a resume than without.
        loader = DataLoader(
            dataset,
            batch_size=args.batch_size,
            sampler=batches,
            drop_last=True,
            generator=torch.Generator(),
        )
        if args.log_indices:
            order = list(batches)
        for i, x in enumerate(loader):
            x = x.to(device)
            rate = (
                int(torch.randint(net.num_rates, (), generator=rate_generator))
                if variable_rate
                else None
            )
            if rate is not None:
                criterion.lmbda = net.lmbda(rate)

            output = _forward(model, x, rate)
            losses = criterion(output, x)
            aux_loss = net.aux_loss()

            optimizer.zero_grad()
            if aux_optimizer is not None:
                aux_optimizer.zero_grad()
            # One backward: the aux loss reaches only the quantiles, the RD loss only the
            # rest, and DDP sees every parameter's gradient once per step.
            (losses["loss"] + aux_loss).backward()
            if args.clip_max_norm > 0:
                nn.utils.clip_grad_norm_(main_params, args.clip_max_norm)
            optimizer.step()
            if aux_optimizer is not None:
                aux_optimizer.step()
            scheduler.step()
            with torch.no_grad():
                for averaged, current in ema_pairs:
                    averaged.lerp_(current, 1 - args.ema_decay)
            step += 1

            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach())
            sums["aux_loss"] = sums.get("aux_loss", 0.0) + float(aux_loss.detach())
            count += 1
            if args.log_indices:
                indices.extend(order[i * args.batch_size : (i + 1) * args.batch_size])
            if progress is not None:
                progress.update(1)
                progress.set_postfix(
                    loss=f"{losses['loss'].item():.3f}", bpp=f"{losses['bpp_loss'].item():.3f}"
                )

            if step % args.log_every == 0 or step == total:
                now = time.perf_counter()
                train_time += now - tick
                tick = now
                record: dict[str, Any] = {"step": step, "epoch": epoch}
                record.update({k: v / count for k, v in sums.items()})
                if "mse_loss" in record:
                    record["psnr"] = _psnr(record["mse_loss"])
                record["lr"] = optimizer.param_groups[0]["lr"]
                record["train_time_s"] = round(train_time, 2)
                record["time"] = time.time()
                if args.log_indices:
                    record["indices"] = distributed.gather(indices)
                write(record)
                sums, count, indices = {}, 0, []
            if args.val_every and step % args.val_every == 0 and val_images:
                for handle in precision:
                    handle.remove()
                write({"step": step, "val": validate(ema or net, val_images)})
                precision = autocast_transforms(net) if args.bf16 else []
                net.train()
            if args.save_every and step % args.save_every == 0 and step < total:
                checkpoint(out / "checkpoint.pth.tar")
            if step >= total:
                break

    if progress is not None:
        progress.close()
    for handle in precision:
        handle.remove()
    net.eval()
    net.update(force=True)
    final = net
    if ema is not None:
        final = ema.eval()
        final.update(force=True)
    checkpoint(out / "checkpoint.pth.tar")
    if main_rank:
        save_checkpoint(
            out / "model.pth.tar", {"arch": args.arch, "state_dict": final.state_dict()}
        )
        if val_images and not (args.val_every and step % args.val_every == 0):
            write({"step": step, "val": validate(final, val_images)})
    if log is not None:
        log.close()
    distributed.barrier()
    return final


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tinify.train``: parse, train, leave the process group."""
    parser = add_arguments(argparse.ArgumentParser(prog="python -m tinify.train"))
    args = parser.parse_args(argv)
    try:
        train(args)
    finally:
        distributed.cleanup()
    return 0
