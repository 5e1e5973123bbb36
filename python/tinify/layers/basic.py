"""Small parameter-free layers that wrap a function or reshape tensors inside ``nn.Sequential``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import Tensor, nn

__all__ = ["Interleave", "Lambda", "NamedLayer", "Reshape", "Transpose"]


class Lambda(nn.Module):
    """Apply an arbitrary function, so it can sit inside :class:`torch.nn.Sequential`.

    Args:
        func: Called as ``func(x)``; its result is the layer's output.
    """

    def __init__(self, func: Callable[[Tensor], Tensor]) -> None:
        super().__init__()
        self.func = func

    def forward(self, x: Tensor) -> Tensor:
        return self.func(x)

    def extra_repr(self) -> str:
        return f"func={self.func}"


class NamedLayer(nn.Module):
    """Identity layer carrying a name, as a marker (e.g. for forward hooks) in a stack.

    Args:
        name: Any label.
    """

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def forward(self, x: Tensor) -> Tensor:
        return x

    def extra_repr(self) -> str:
        return f"name={self.name}"


class Reshape(nn.Module):
    """Reshape every sample to ``shape``, keeping the batch dimension.

    Args:
        shape: Target per-sample shape; its product must equal the per-sample element count
            (one entry may be ``-1``).
    """

    def __init__(self, shape: Sequence[int]) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: Tensor) -> Tensor:
        target = (x.shape[0], *self.shape)
        try:
            return x.reshape(target)
        except RuntimeError as e:
            raise RuntimeError(f"Reshape: cannot reshape input {tuple(x.shape)} to {target}") from e

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


class Transpose(nn.Module):
    """Swap two dimensions and return a contiguous tensor.

    Args:
        dim0: First dimension, any valid (possibly negative) index.
        dim1: Second dimension.
    """

    def __init__(self, dim0: int, dim1: int) -> None:
        super().__init__()
        self.dim0 = dim0
        self.dim1 = dim1

    def forward(self, x: Tensor) -> Tensor:
        return x.transpose(self.dim0, self.dim1).contiguous()

    def extra_repr(self) -> str:
        return f"dim0={self.dim0}, dim1={self.dim1}"


class Interleave(nn.Module):
    """Interleave channel groups: channel ``g * (C // groups) + k`` moves to ``k * groups + g``.

    The channel shuffle of `"ShuffleNet: An Extremely Efficient Convolutional Neural Network
    for Mobile Devices" <https://arxiv.org/abs/1707.01083>`_, Zhang, Zhou, Lin and Sun,
    CVPR 2018; it lets grouped convolutions exchange information.

    Args:
        groups: Number of groups, ``>= 1``; it must divide the input's channel count
            (dimension 1).
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        if groups < 1:
            raise ValueError(f"groups must be >= 1, got {groups!r}")
        self.groups = groups

    def forward(self, x: Tensor) -> Tensor:
        n, c, *rest = x.shape
        if c % self.groups != 0:
            raise ValueError(f"Interleave: {c} channels are not divisible by groups={self.groups}")
        grouped = x.reshape(n, self.groups, c // self.groups, *rest)
        return grouped.transpose(1, 2).reshape(x.shape)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
