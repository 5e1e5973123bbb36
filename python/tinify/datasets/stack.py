"""Several datasets of equal length read side by side, as CompressAI's (and torch's)."""

from __future__ import annotations

from torch.utils.data import StackDataset as _TorchStackDataset

__all__ = ["StackDataset"]


class StackDataset(_TorchStackDataset):
    """Item ``i`` is ``(a[i], b[i], …)`` for ``StackDataset(a, b, …)``, or
    ``{"x": a[i], "y": b[i]}`` for ``StackDataset(x=a, y=b)``.

    torch's ``torch.utils.data.StackDataset``, of which CompressAI's is a copy: positional
    datasets give tuples, keyword datasets dicts. It raises ValueError if both or neither kind
    is given, or the lengths differ.
    """
