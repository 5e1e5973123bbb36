"""The training loop: data → forward → loss → backward → step → log, on one process or many.

:class:`Trainer` runs a :class:`~tinify.train.config.TrainConfig`; ``tinify train`` and
``torchrun --nproc_per_node=K -m tinify.train`` fill the config from their options. Under
torchrun the model is wrapped in :class:`~torch.nn.parallel.DistributedDataParallel`, a
:class:`~torch.utils.data.DistributedSampler` gives each rank its own crops, and rank 0 alone
writes the log and the checkpoints.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import inspect
import json
import random
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, DistributedSampler

from tinify import distributed
from tinify.evaluation.metrics import likelihood_bits, psnr, psnr_from_mse
from tinify.models.base import CompressionModel, num_rates
from tinify.train.checkpoint import (
    get_rng_state,
    load_training_checkpoint,
    save_checkpoint,
    set_rng_state,
)
from tinify.train.config import TrainConfig, add_arguments
from tinify.train.data import ImageFolder, SkipSampler, image_files, load_uint8
from tinify.train.loss import RateDistortionLoss
from tinify.train.optim import configure_optimizers
from tinify.train.precision import autocast_transforms

__all__ = ["Trainer", "add_arguments", "build_model", "main", "train", "validate"]


def build_model(
    arch: str, quality: int | None = None, N: int | None = None, M: int | None = None
) -> CompressionModel:
    """A fresh model: the zoo's architecture at ``quality``, or, with ``N``/``M`` or for a
    registered model outside the zoo, the registered class built with them."""
    from tinify import registry

    zoo: ModuleType | None = None
    if N is None and M is None and quality is not None:
        try:
            zoo = importlib.import_module("tinify.zoo")
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
    k = num_rates(net)
    return list(range(k)) if k > 1 else [None]


def _lr_factor(warmup: int, milestones: Sequence[int], gamma: float = 0.1) -> Any:
    """The learning rate's factor at each step: a linear warm-up over ``warmup`` steps, then
    ×``gamma`` at each milestone (none: constant, so training can go on indefinitely)."""
    marks = sorted(milestones)

    def factor(step: int) -> float:
        ramp = min(1.0, (step + 1) / warmup) if warmup > 0 else 1.0
        return ramp * gamma ** sum(step >= m for m in marks)

    return factor


def _forward(net: nn.Module, x: Tensor, rate: int | None) -> Any:
    return net(x) if rate is None else net(x, rate=rate)


def _centre_crop(x: Tensor, multiple: int = 64, max_hw: tuple[int, int] = (512, 768)) -> Tensor:
    h, w = x.shape[-2:]
    if h > w:
        max_hw = max_hw[::-1]
    ch = min(h, max_hw[0]) // multiple * multiple
    cw = min(w, max_hw[1]) // multiple * multiple
    top, left = (h - ch) // 2, (w - cw) // 2
    return x[..., top : top + ch, left : left + cw]


@torch.no_grad()
def validate(net: CompressionModel, images: Sequence[Tensor]) -> dict[str, Any]:
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
            sums["bpp_estimate"] += likelihood_bits(out["likelihoods"]) / pixels
            enc = net.compress(x) if rate is None else net.compress(x, rate=rate)
            nbytes = sum(len(s[0]) for s in enc["strings"])
            sums["bpp"] += 8 * nbytes / pixels
            dec = (
                net.decompress(enc["strings"], enc["shape"])
                if rate is None
                else net.decompress(enc["strings"], enc["shape"], rate=rate)
            )
            sums["psnr"] += psnr(x, dec["x_hat"])
        key = "default" if rate is None else str(rate + 1)
        results[key] = {k: v / len(images) for k, v in sums.items()}
    return results


class Trainer:
    """Trains a model per a :class:`TrainConfig`, resumably, on one process or under torchrun.

    Building it sets everything up (process group, model, optimisers, data, EMA copy, resumed
    state); :meth:`fit` runs the steps up to ``config.steps`` (or ``epochs``) and returns the
    trained model. Checkpoints (``checkpoint.pth.tar``) hold every state that decides the next
    step, so a run resumed from one continues bit for bit (CPU); they load with
    ``torch.load(weights_only=True)``.

    Example::

        config = TrainConfig(["photos/"], "bmshj2018-hyperprior", quality=3, steps=1000)
        net = Trainer(config).fit()
    """

    def __init__(self, config: TrainConfig) -> None:
        cfg = self.config = config
        self.rank, self.world = distributed.init_from_env(
            "nccl" if cfg.device == "cuda" else "gloo"
        )
        self.main_rank = self.rank == 0
        if cfg.device == "cuda":
            self.device = torch.device("cuda", torch.cuda.current_device())
        else:
            self.device = torch.device("cpu")
        if self.main_rank:
            cfg.out.mkdir(parents=True, exist_ok=True)
        if cfg.threads is not None:
            torch.set_num_threads(cfg.threads)

        # Seeds: the same model initialisation everywhere, then each rank its own stream.
        torch.manual_seed(cfg.seed)
        net = self.net = build_model(cfg.arch, cfg.quality, cfg.N, cfg.M).to(self.device)
        self.variable_rate = num_rates(net) > 1
        if self.variable_rate and (cfg.quality is not None or cfg.lmbda is not None):
            raise ValueError(f"{cfg.arch} trains every rate at once: give neither -q nor --lambda")
        if not self.variable_rate and cfg.quality is None and cfg.lmbda is None:
            raise ValueError("give -q QUALITY or --lambda L")
        lmbda = cfg.lmbda
        if lmbda is None and not self.variable_rate:
            from tinify.zoo import LAMBDAS

            assert cfg.quality is not None  # checked above: -q or --lambda
            lmbda = LAMBDAS[cfg.metric][cfg.quality]
        seed = cfg.seed + self.rank
        torch.manual_seed(seed)
        np.random.seed(seed)  # noqa: NPY002 (the global one, by design)
        random.seed(seed)
        self.rate_generator = torch.Generator().manual_seed(cfg.seed)  # same on every rank

        if cfg.init is not None:
            init = torch.load(cfg.init, map_location=self.device, weights_only=True)
            if isinstance(init, dict) and "state_dict" in init:
                init = init.get("ema_state_dict") or init["state_dict"]
            net.load_state_dict(init)
        if cfg.mixed_quantization:
            if not hasattr(type(net), "mixed_quantization"):
                raise ValueError(f"{cfg.arch} has no mixed quantization to switch on")
            # Checked just above: the class declares the switch, CompressionModel does not.
            net.mixed_quantization = True  # type: ignore[assignment]
        self.criterion = RateDistortionLoss(lmbda or 1.0, metric=cfg.metric)
        self.optimizer, self.aux_optimizer = configure_optimizers(net, lr=cfg.lr, aux_lr=cfg.aux_lr)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, _lr_factor(cfg.warmup, cfg.lr_milestones, cfg.lr_gamma)
        )
        # The moving average of the parameters only: the buffers (CDF tables) of the copy are
        # its own, rebuilt from its own weights when it is validated or exported.
        self.ema = copy.deepcopy(net).requires_grad_(False) if cfg.ema_decay > 0 else None
        self._ema_pairs = (
            list(zip(self.ema.parameters(), net.parameters(), strict=True)) if self.ema else []
        )
        # After the EMA copy, which must not inherit the hooks: validation and export run float32.
        self._precision = autocast_transforms(net) if cfg.bf16 else []

        self.dataset = _dataset(cfg)
        self.sampler: DistributedSampler[Any] = DistributedSampler(
            self.dataset,
            num_replicas=self.world,
            rank=self.rank,
            shuffle=True,
            seed=cfg.seed,
            drop_last=True,
        )
        self.steps_per_epoch = len(self.sampler) // cfg.batch_size
        if self.steps_per_epoch < 1:
            raise ValueError(
                f"{len(self.dataset)} crops over {self.world} process(es) do not fill one batch "
                f"of {cfg.batch_size}: raise --repeat or lower --batch-size"
            )
        self.total = (
            cfg.steps if cfg.steps is not None else (cfg.epochs or 1) * self.steps_per_epoch
        )
        self.step, self.train_time = 0, 0.0
        if cfg.resume is not None:
            self._resume(cfg.resume)

        self.model: nn.Module = net
        if self.world > 1:
            # No buffer sync at each forward: the CDF tables (buffers) change size when rank 0
            # validates. (torch 2.15 renamed the option; the ranks' buffers are equal at start.)
            ddp = nn.parallel.DistributedDataParallel
            params = inspect.signature(ddp).parameters
            sync = (
                "forward_sync_buffers" if "forward_sync_buffers" in params else "broadcast_buffers"
            )
            options: dict[str, Any] = {sync: False}
            self.model = ddp(net, **options)

        self.val_images: list[Tensor] = []
        if cfg.val is not None and self.main_rank:
            val_paths = image_files(cfg.val, cfg.val_files)
            self.val_images = [
                _centre_crop(load_uint8(p).float().div(255).unsqueeze(0)).to(self.device)
                for p in val_paths
            ]

    def _resume(self, path: Path) -> None:
        state = load_training_checkpoint(path, map_location=self.device)
        self.net.load_state_dict(state["state_dict"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.aux_optimizer is not None:
            self.aux_optimizer.load_state_dict(state["aux_optimizer"])
        self.scheduler.load_state_dict(state["lr_scheduler"])
        if self.ema is not None:
            if state.get("ema_state_dict") is None:
                raise ValueError(f"{path} has no EMA weights; resume without --ema-decay")
            self.ema.load_state_dict(state["ema_state_dict"])
        self.rate_generator.set_state(state["rate_generator"].cpu())
        if len(state["rng"]) != self.world:
            raise ValueError(
                f"{path} was saved by {len(state['rng'])} process(es), not {self.world}: "
                "resume with the same number"
            )
        set_rng_state(state["rng"][self.rank])
        self.step = int(state["step"])
        self.train_time = float(state.get("train_time_s", 0.0))

    @property
    def averaged(self) -> CompressionModel:
        """The model that is validated and exported: the moving average, or the raw weights."""
        return self.ema if self.ema is not None else self.net

    def save(self, path: Path) -> None:
        """Writes a checkpoint from which :class:`Trainer` resumes (collective under torchrun:
        every rank calls it, rank 0 writes)."""
        rng = distributed.gather(get_rng_state())
        if not self.main_rank:
            return
        save_checkpoint(
            path,
            {
                "step": self.step,
                "arch": self.config.arch,
                "state_dict": self.net.state_dict(),
                "ema_state_dict": self.ema.state_dict() if self.ema is not None else None,
                "optimizer": self.optimizer.state_dict(),
                "aux_optimizer": self.aux_optimizer.state_dict() if self.aux_optimizer else None,
                "lr_scheduler": self.scheduler.state_dict(),
                "rate_generator": self.rate_generator.get_state(),
                "rng": rng,
                "train_time_s": self.train_time,
                "args": self.config.to_dict(),
            },
        )

    def _validate(self) -> dict[str, Any]:
        for handle in self._precision:
            handle.remove()
        result = validate(self.averaged, self.val_images)
        self._precision = autocast_transforms(self.net) if self.config.bf16 else []
        self.net.train()
        return result

    def fit(self) -> nn.Module:
        """Trains up to the configured step; returns the trained model (its moving average with
        ``ema_decay``; eval mode, CDF tables built) on every rank."""
        cfg, net = self.config, self.net
        log = (cfg.out / "log.jsonl").open("a") if self.main_rank else None

        def write(record: dict[str, Any]) -> None:
            if log is not None:
                log.write(json.dumps(record) + "\n")
                log.flush()

        progress = None
        if self.main_rank and cfg.progress:
            from tqdm import tqdm

            progress = tqdm(total=self.total, initial=self.step, desc="train", dynamic_ncols=True)

        try:
            self._loop(write, progress)
        finally:
            if progress is not None:
                progress.close()
        for handle in self._precision:
            handle.remove()
        self._precision = []
        net.eval()
        net.update(force=True)
        final = self.averaged.eval()
        final.update(force=True)
        self.save(cfg.out / "checkpoint.pth.tar")
        if self.main_rank:
            save_checkpoint(
                cfg.out / "model.pth.tar", {"arch": cfg.arch, "state_dict": final.state_dict()}
            )
            if self.val_images and not (cfg.val_every and self.step % cfg.val_every == 0):
                write({"step": self.step, "val": validate(final, self.val_images)})
        if log is not None:
            log.close()
        distributed.barrier()
        return final

    def _loop(self, write: Any, progress: Any) -> None:
        cfg, net = self.config, self.net
        main_params = [p for group in self.optimizer.param_groups for p in group["params"]]
        sums: dict[str, float] = {}
        count, indices = 0, []
        tick = time.perf_counter()
        net.train()
        while self.step < self.total:
            epoch, offset = divmod(self.step, self.steps_per_epoch)
            self.sampler.set_epoch(epoch)
            batches = SkipSampler(self.sampler, offset * cfg.batch_size)
            # A generator of its own: the loader would otherwise draw a seed from the global one
            # at each iterator, one draw more after a resume than without.
            loader = DataLoader(
                self.dataset,
                batch_size=cfg.batch_size,
                sampler=batches,
                drop_last=True,
                generator=torch.Generator(),
            )
            if cfg.log_indices:
                order = list(batches)
            for i, x in enumerate(loader):
                losses, aux_loss = self._step(x.to(self.device), main_params)
                for k, v in losses.items():
                    sums[k] = sums.get(k, 0.0) + float(v.detach())
                sums["aux_loss"] = sums.get("aux_loss", 0.0) + float(aux_loss.detach())
                count += 1
                if cfg.log_indices:
                    indices.extend(order[i * cfg.batch_size : (i + 1) * cfg.batch_size])
                if progress is not None:
                    progress.update(1)
                    progress.set_postfix(
                        loss=f"{losses['loss'].item():.3f}", bpp=f"{losses['bpp_loss'].item():.3f}"
                    )
                step = self.step
                if step % cfg.log_every == 0 or step == self.total:
                    now = time.perf_counter()
                    self.train_time += now - tick
                    tick = now
                    record: dict[str, Any] = {"step": step, "epoch": epoch}
                    record.update({k: v / count for k, v in sums.items()})
                    if "mse_loss" in record:
                        record["psnr"] = psnr_from_mse(record["mse_loss"])
                    record["lr"] = self.optimizer.param_groups[0]["lr"]
                    record["train_time_s"] = round(self.train_time, 2)
                    record["time"] = time.time()
                    if cfg.log_indices:
                        record["indices"] = distributed.gather(indices)
                    write(record)
                    sums, count, indices = {}, 0, []
                if cfg.val_every and step % cfg.val_every == 0 and self.val_images:
                    write({"step": step, "val": self._validate()})
                if cfg.save_every and step % cfg.save_every == 0 and step < self.total:
                    self.save(cfg.out / "checkpoint.pth.tar")
                if step >= self.total:
                    break

    def _step(self, x: Tensor, main_params: list[nn.Parameter]) -> tuple[dict[str, Tensor], Tensor]:
        """One optimiser step on batch ``x``: returns the losses and the auxiliary loss."""
        cfg, net = self.config, self.net
        rate = None
        if self.variable_rate:
            rate = int(torch.randint(net.num_rates, (), generator=self.rate_generator))
            # Variable-rate models (num_rates > 1) define lmbda(rate); CompressionModel does not.
            self.criterion.lmbda = net.lmbda(rate)  # type: ignore[operator]
        output = _forward(self.model, x, rate)
        losses = self.criterion(output, x)
        aux_loss = net.aux_loss()
        self.optimizer.zero_grad()
        if self.aux_optimizer is not None:
            self.aux_optimizer.zero_grad()
        # One backward: the aux loss reaches only the quantiles, the RD loss only the rest, and
        # DDP sees every parameter's gradient once per step.
        (losses["loss"] + aux_loss).backward()
        if cfg.clip_max_norm > 0:
            nn.utils.clip_grad_norm_(main_params, cfg.clip_max_norm)
        self.optimizer.step()
        if self.aux_optimizer is not None:
            self.aux_optimizer.step()
        self.scheduler.step()
        with torch.no_grad():
            for averaged, current in self._ema_pairs:
                averaged.lerp_(current, 1 - cfg.ema_decay)
        self.step += 1
        return losses, aux_loss


def _dataset(cfg: TrainConfig) -> ImageFolder:
    names = None
    if cfg.files is not None:
        if len(cfg.data) != 1:
            raise ValueError("--files names images of one folder: give one DATA folder with it")
        names = [ln.strip() for ln in cfg.files.read_text().splitlines() if ln.strip()]
    paths = [p for folder in cfg.data for p in image_files(folder, names, cfg.exclude)]
    return ImageFolder(
        paths,
        patch_size=cfg.patch_size,
        repeat=cfg.repeat,
        scale=(cfg.scale_min, 1.0),
        rot90=cfg.rot90,
        by_pixels=cfg.by_pixels,
    )


def train(config: TrainConfig | argparse.Namespace) -> nn.Module:
    """Trains per ``config`` (a :class:`TrainConfig`, or options parsed by
    :func:`add_arguments`) and returns the trained model: ``Trainer(config).fit()``."""
    if isinstance(config, argparse.Namespace):
        config = TrainConfig.from_namespace(config)
    return Trainer(config).fit()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tinify.train``: parse, train, leave the process group."""
    parser = add_arguments(argparse.ArgumentParser(prog="python -m tinify.train"))
    config = TrainConfig.from_namespace(parser.parse_args(argv))
    with distributed.leaving():
        Trainer(config).fit()
    return 0
