"""The deterministic engine of the prior networks: torch modules compiled into native programs.

The networks whose outputs choose the entropy coder's CDFs (the hyper-synthesis ``h_s``, gain
vectors, mean/scale heads, context networks) must compute the same bits in the encoder and the
decoder, on any machine, or the rANS decoder desynchronises. torch's results depend on the
kernel, instruction set, thread count and version; the engine's do not (the contract is in
``docs/determinism.md``). :func:`compile` turns a module made of supported layers into a
:class:`Program` (weights extracted once, as float32), :func:`run` evaluates it on numpy
arrays in the Rust core, the GIL released.

.. code-block:: python

    program = engine.compile(model.h_s, input_gain=z_gain_inv, split=[M, M])
    scales, means = engine.run(program, z_hat.numpy(), threads=2)

Supported layers: ``nn.Conv2d`` (so :func:`~tinify.layers.conv3x3` and CompressAI's ``conv``),
:class:`~tinify.layers.MaskedConv2d` and :class:`~tinify.layers.CheckerboardMaskedConv2d` (their
masked weights), ``nn.ConvTranspose2d`` (``deconv``), ``nn.PixelShuffle`` (so
:func:`~tinify.layers.subpel_conv3x3`), :class:`~tinify.layers.GDN` and IGDN, ``nn.ReLU``,
``nn.LeakyReLU``, exact ``nn.GELU``, ``nn.Identity``, and ``nn.Sequential`` of them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from tinify import _core
from tinify.layers.gdn import GDN, GDN1

__all__ = ["ENGINE_VERSION", "KERNEL_ENV", "Program", "available_kernels", "compile", "run"]

#: The version of the engine's arithmetic, recorded in every ``.tfy`` file coded with
#: ``prior="engine"``. Any change to the order or rounding of an operation the engine
#: computes (``docs/determinism.md``, "The contract") increments it; a change that keeps every
#: bit (speed, a new kernel, new layers) does not.
ENGINE_VERSION = 1

#: The environment variable that forces a kernel for every :func:`run` given ``kernel="auto"``
#: in this process (``portable``, ``sse2``, ``avx2``, ``avx512``): for tests, and for
#: checking that a file decodes the same everywhere.
KERNEL_ENV = "TINIFY_ENGINE_KERNEL"

_SUPPORTED = (
    "Conv2d, MaskedConv2d, CheckerboardMaskedConv2d, ConvTranspose2d, PixelShuffle, GDN/IGDN, "
    "ReLU, LeakyReLU, GELU (exact), Identity and nn.Sequential of them"
)


def _numpy(t: Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().to("cpu", torch.float32).numpy())


def _pair(value: Any, name: str, layer: str) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return value[0], value[1]
    raise TypeError(f"{layer}: {name}={value!r} is not supported by the engine")


class _Compiler:
    """Appends one step per layer; the current value lives in buffer ``self.at``."""

    def __init__(self) -> None:
        self.steps: list[tuple[Any, ...]] = []
        self.at = 0
        self.buffers = 1

    def new_buffer(self) -> int:
        self.buffers += 1
        return self.buffers - 1

    def step(self, kind: str, *params: Any, in_place: bool = False) -> None:
        out = self.at if in_place else self.new_buffer()
        self.steps.append((kind, [self.at], [out], *params))
        self.at = out

    def add(self, module: nn.Module, name: str) -> None:
        if isinstance(module, nn.Sequential):
            for child_name, child in module.named_children():
                self.add(child, f"{name}.{child_name}")
        elif isinstance(module, nn.Conv2d):
            self.conv(module, name)
        elif isinstance(module, nn.ConvTranspose2d):
            self.conv_transpose(module, name)
        elif isinstance(module, nn.PixelShuffle):
            self.step("pixel_shuffle", int(module.upscale_factor))
        elif isinstance(module, GDN) and not isinstance(module, GDN1):
            gamma, beta = module._norm_inputs()
            self.step("gdn", _numpy(beta), _numpy(gamma[:, :, 0, 0]), bool(module.inverse))
        elif isinstance(module, nn.LeakyReLU):
            self.step("leaky_relu", float(module.negative_slope), in_place=True)
        elif isinstance(module, nn.ReLU):
            self.step("relu", in_place=True)
        elif isinstance(module, nn.GELU) and module.approximate == "none":
            self.step("gelu", in_place=True)
        elif isinstance(module, nn.Identity):
            pass
        else:
            raise TypeError(
                f"{name} ({type(module).__name__}) cannot be compiled for the engine, which "
                f"supports {_SUPPORTED}"
            )

    def _check_common(self, conv: nn.Module, name: str) -> int:
        label = f"{name} ({conv})"
        if conv.groups != 1:
            raise TypeError(f"{label}: grouped convolutions are not supported by the engine")
        if _pair(conv.dilation, "dilation", label) != (1, 1):
            raise TypeError(f"{label}: dilated convolutions are not supported by the engine")
        if conv.padding_mode != "zeros":
            raise TypeError(f"{label}: padding_mode={conv.padding_mode!r}; the engine pads zeros")
        sh, sw = _pair(conv.stride, "stride", label)
        if sh != sw:
            raise TypeError(f"{label}: the engine needs the same stride in both directions")
        return sh

    def conv(self, conv: nn.Conv2d, name: str) -> None:
        stride = self._check_common(conv, name)
        padding = conv.padding
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            kh, kw = conv.kernel_size
            if stride != 1 or kh % 2 == 0 or kw % 2 == 0:
                raise TypeError(f"{name} ({conv}): padding='same' needs stride 1 and odd kernels")
            padding = (kh // 2, kw // 2)
        # MaskedConv2d convolves weight * mask, the weight its masked_weight() returns.
        masked = getattr(conv, "masked_weight", None)
        weight = masked() if callable(masked) else conv.weight
        bias = None if conv.bias is None else _numpy(conv.bias)
        padding = _pair(padding, "padding", f"{name} ({conv})")
        self.step("conv2d", _numpy(weight), bias, stride, padding)

    def conv_transpose(self, conv: nn.ConvTranspose2d, name: str) -> None:
        stride = self._check_common(conv, name)
        label = f"{name} ({conv})"
        bias = None if conv.bias is None else _numpy(conv.bias)
        padding = _pair(conv.padding, "padding", label)
        output_padding = _pair(conv.output_padding, "output_padding", label)
        kh, kw = conv.kernel_size
        if stride > min(kh, kw) or padding[0] >= kh or padding[1] >= kw:
            raise TypeError(
                f"{label}: the engine needs stride <= kernel size and padding < kernel size"
            )
        self.step("conv_transpose2d", _numpy(conv.weight), bias, stride, padding, output_padding)


class Program:
    """A network compiled for the engine (see :func:`compile`); run it with :func:`run`.

    Attributes:
        steps: the step tuples given to the native program (for inspection).
        num_outputs: how many arrays :func:`run` returns.
    """

    def __init__(self, steps: list[tuple[Any, ...]], inputs: list[int], outputs: list[int]):
        self.steps = steps
        self._native = _core.EngineProgram(steps, inputs, outputs)
        self.num_outputs = len(outputs)

    def __repr__(self) -> str:
        kinds = ", ".join(step[0] for step in self.steps)
        return f"Program([{kinds}], outputs={self.num_outputs})"


def compile(
    module: nn.Module,
    *,
    input_gain: Tensor | np.ndarray | Sequence[float] | None = None,
    split: Sequence[int] | None = None,
) -> Program:
    """Compiles ``module`` (a supported layer, or an ``nn.Sequential`` of them) into a program.

    The weights are copied now, as float32: later changes to ``module`` are not seen.

    Args:
        module: the network, e.g. a model's ``h_s``.
        input_gain: a per-channel gain multiplied into the input first (the ``z_gain_inv[r]``
            of a gained model), or None.
        split: channel counts to split the output into (e.g. ``[M, M]`` for scales and
            means), or None for one output.

    Raises:
        TypeError: naming the first layer (by its path in ``module``) that the engine cannot
            run, and why.
        ValueError: if the weights are inconsistent (e.g. a split that does not sum to the
            output channels is found at :func:`run`).
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    compiler = _Compiler()
    if input_gain is not None:
        gain = torch.as_tensor(input_gain, dtype=torch.float32).reshape(-1)
        compiler.step("gain", _numpy(gain))
    with torch.no_grad():
        compiler.add(module, type(module).__name__)
    if not compiler.steps:
        compiler.step("identity")
    outputs = [compiler.at]
    if split is not None:
        sizes = [int(s) for s in split]
        outputs = [compiler.new_buffer() for _ in sizes]
        compiler.steps.append(("split", [compiler.at], outputs, sizes))
    return Program(compiler.steps, [0], outputs)


def available_kernels() -> list[str]:
    """The kernels this CPU can run, narrowest first (``"auto"`` picks the widest)."""
    return list(_core.engine_kernels())


def run(
    program: Program,
    x: np.ndarray | Tensor,
    *,
    threads: int = 1,
    kernel: str = "auto",
) -> np.ndarray | tuple[np.ndarray, ...]:
    """Evaluates ``program`` on ``x``, a float32 ``(N, C, H, W)`` (or ``(C, H, W)``) array.

    The result has the same bits for every ``threads`` and ``kernel``, on every machine.

    Args:
        program: from :func:`compile`.
        x: the input; a torch tensor is converted (it must be float32 too).
        threads: threads to split the rows of each output over (0: one per core).
        kernel: ``"auto"`` or one of :func:`available_kernels`. ``"auto"`` is the kernel
            the environment variable ``TINIFY_ENGINE_KERNEL`` names, when set, else the
            widest this CPU supports.

    Returns:
        The output array (same rank as ``x``), or a tuple of them if the program splits its
        output.

    Raises:
        TypeError: if ``x`` is not a float32 array or tensor, or ``threads`` not an int.
        ValueError: if ``x`` has the wrong rank or channels, ``threads`` is negative, or the
            kernel is unknown or not supported by this CPU.
    """
    if not isinstance(program, Program):
        raise TypeError(f"program must be a tinify.engine.Program, got {type(program).__name__}")
    if isinstance(x, Tensor):
        x = x.detach().cpu().numpy()
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a numpy array or torch tensor, got {type(x).__name__}")
    if x.dtype != np.float32:
        raise TypeError(f"x must be float32, got {x.dtype}")
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise TypeError(f"threads must be an int, got {type(threads).__name__}")
    if threads < 0:
        raise ValueError(f"threads must be >= 0, got {threads}")
    if not isinstance(kernel, str):
        raise TypeError(f"kernel must be a str, got {type(kernel).__name__}")
    if kernel == "auto":
        kernel = os.environ.get(KERNEL_ENV) or "auto"
    single = x.ndim == 3
    if single:
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"x must be (N, C, H, W) or (C, H, W), got shape {x.shape}")
    outputs = program._native.run([np.ascontiguousarray(x)], threads=threads, kernel=kernel)
    if single:
        outputs = [y[0] for y in outputs]
    return outputs[0] if program.num_outputs == 1 else tuple(outputs)
