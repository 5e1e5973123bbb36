"""LatentCodec: the forward/compress/decompress contract every latent codec follows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import torch
from torch import Tensor, nn

from tinify.typing import (
    LatentCompressOutput,
    LatentDecompressOutput,
    LatentForwardOutput,
    Shape,
)

__all__ = [
    "PRIORS",
    "QUANTIZERS",
    "LatentCodec",
    "check_children",
    "check_choice",
    "one_stream",
    "plain_shape",
    "prior_params",
    "with_prior",
]

#: Quantizers of the codecs that take a ``quantizer`` argument: ``"noise"`` keeps the entropy
#: model's own output (uniform noise when training), ``"ste"`` rounds around the means with a
#: straight-through gradient.
QUANTIZERS = ("noise", "ste")

#: Where the hyper codecs compute ``params = h_s(z_hat)`` in ``compress`` and ``decompress``:
#: ``"torch"`` (CompressAI's floats, its bytes) or ``"engine"`` (:mod:`tinify.engine`, the same
#: bits on every machine, kernel and thread count; see ``docs/determinism.md``).
PRIORS = ("torch", "engine")

T = TypeVar("T", bound=nn.Module)


class LatentCodec(nn.Module):
    """Base class of latent codecs: modules that code a latent ``y`` given optional side
    parameters, and compose into larger codecs.

    A codec implements three methods with CompressAI's dictionaries:

    - ``forward(y, *args)`` → ``{"likelihoods": {name: Tensor}, "y_hat": Tensor}``, the
      training and rate-estimation pass;
    - ``compress(y, *args)`` → ``{"strings": [[bytes per batch element] per stream],
      "shape": ..., "y_hat": Tensor}``, where ``y_hat`` is exactly what ``decompress`` will
      return;
    - ``decompress(strings, shape, *args)`` → ``{"y_hat": Tensor}``.

    ``shape`` holds only ints, tuples, lists and dicts, so that a container can store it.
    Composite codecs keep their children in a mapping named ``latent_codec``;
    ``codec[key]`` returns a child.
    """

    def prepared(self, key: str, build: Any) -> Any:
        """State prepared from the weights (an engine program, a coder), built by ``build()``
        on first use and kept until the weights may change: a state_dict is loaded, a child
        module replaced, the codec moved (``.to()``) or switched between training and
        evaluation."""
        state = self.__dict__.setdefault("_prepared", {})
        if key not in state:
            state[key] = build()
        return state[key]

    def drop_prepared(self) -> None:
        """Forgets the prepared state (rebuilt on next use)."""
        self.__dict__.pop("_prepared", None)

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, nn.Module):
            self.drop_prepared()
        super().__setattr__(name, value)

    def train(self, mode: bool = True) -> Any:
        self.drop_prepared()
        return super().train(mode)

    def _apply(self, *args: Any, **kwargs: Any) -> Any:
        self.drop_prepared()
        return super()._apply(*args, **kwargs)

    def _load_from_state_dict(self, *args: Any, **kwargs: Any) -> None:
        self.drop_prepared()
        super()._load_from_state_dict(*args, **kwargs)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_prepared", None)
        return state

    # (*args, **kwargs) lets each codec take its own side inputs (params, gains, ...).
    def forward(self, *args: Any, **kwargs: Any) -> LatentForwardOutput:
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def compress(self, *args: Any, **kwargs: Any) -> LatentCompressOutput:
        raise NotImplementedError(f"{type(self).__name__} does not implement compress()")

    def decompress(self, *args: Any, **kwargs: Any) -> LatentDecompressOutput:
        raise NotImplementedError(f"{type(self).__name__} does not implement decompress()")

    def __getitem__(self, key: str) -> LatentCodec:
        children = getattr(self, "latent_codec", None)
        if not isinstance(children, Mapping | nn.ModuleDict):
            raise TypeError(f"{type(self).__name__} holds no child latent codecs")
        if key not in children:
            raise KeyError(
                f"{type(self).__name__} has no child latent codec {key!r}; "
                f"it has {sorted(children.keys())}"
            )
        return children[key]  # type: ignore[return-value]


def check_choice(name: str, value: Any, choices: tuple[Any, ...]) -> None:
    """Raises ValueError naming the argument, the value and the valid choices."""
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}, expected one of {choices}")


def plain_shape(shape: Any) -> Shape:
    """``shape`` with every ``torch.Size`` and tensor turned into ints and tuples of ints,
    so that only ints, tuples, lists and dicts remain."""
    if isinstance(shape, Tensor):
        return tuple(int(s) for s in shape.reshape(-1).tolist()) if shape.dim() else int(shape)
    if isinstance(shape, torch.Size | tuple):
        return tuple(plain_shape(s) for s in shape)
    if isinstance(shape, list):
        return [plain_shape(s) for s in shape]
    if isinstance(shape, Mapping):
        return {key: plain_shape(value) for key, value in shape.items()}
    if isinstance(shape, int):
        return int(shape)
    raise TypeError(f"cannot store a shape holding {type(shape).__name__}: {shape!r}")


def one_stream(strings: list[list[bytes]], owner: nn.Module) -> list[list[bytes]]:
    """``strings``, after checking that it holds the one stream ``owner`` codes."""
    if not isinstance(strings, list | tuple) or len(strings) != 1:
        count = len(strings) if isinstance(strings, list | tuple) else type(strings).__name__
        raise ValueError(
            f"{type(owner).__name__} codes one stream: expected [strings], got {count} lists"
        )
    return list(strings)


def check_children(owner: nn.Module, children: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    """Raises ValueError unless the mapping ``children`` holds every key of ``keys``."""
    if not isinstance(children, Mapping | nn.ModuleDict):
        raise ValueError(
            f"{type(owner).__name__} takes its child latent codecs as a mapping "
            f"{{{', '.join(repr(k) for k in keys)}: ...}}, got {type(children).__name__}"
        )
    missing = [key for key in keys if key not in children]
    if missing:
        raise ValueError(
            f"{type(owner).__name__} needs the child latent codecs {list(keys)}, missing {missing}"
        )


class EnginePrior:
    """``h_s`` compiled for :mod:`tinify.engine`, kept by a hyper codec beside the module.

    Compiled at the first coding call with ``prior="engine"``; the hyper codec drops it when
    a state_dict is loaded, ``h_s`` is replaced, the module is moved, or it switches between
    training and evaluation (training steps change the weights in training mode).
    """

    __slots__ = ("program",)

    def __init__(self, h_s: nn.Module) -> None:
        from tinify import engine  # the engine's import is needed on this path alone

        self.program = engine.compile(h_s)

    def __call__(self, z_hat: Tensor) -> Tensor:
        from tinify import engine

        params = engine.run(self.program, z_hat.detach().to("cpu", torch.float32).contiguous())
        return torch.from_numpy(params).to(z_hat.device)  # type: ignore[arg-type]


def with_prior(codec: T, prior: str) -> T:
    """``codec`` with its ``prior`` attribute set (checked): for building hyper codecs in one
    expression."""
    check_choice("prior", prior, PRIORS)
    codec.prior = prior  # type: ignore[attr-defined]
    return codec


def prior_params(codec: LatentCodec, h_s: nn.Module, z_hat: Tensor) -> Tensor:
    """``h_s(z_hat)`` for coding, on the path ``codec.prior`` names: torch, or the engine
    program prepared once for ``h_s`` and kept in the codec's prepared state."""
    prior = getattr(codec, "prior", "torch")
    check_choice("prior", prior, PRIORS)
    if prior == "torch":
        return h_s(z_hat)  # type: ignore[no-any-return]
    return codec.prepared("engine_prior", lambda: EnginePrior(h_s))(z_hat)  # type: ignore[no-any-return]
