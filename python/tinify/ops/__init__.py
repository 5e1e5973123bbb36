"""Differentiable building-block operations shared by tinify's layers and entropy models."""

from tinify.ops.bound_ops import LowerBound, lower_bound
from tinify.ops.padding import compute_padding
from tinify.ops.parametrizers import NonNegativeParametrizer
from tinify.ops.quantize import quantize_ste

__all__ = [
    "LowerBound",
    "NonNegativeParametrizer",
    "compute_padding",
    "lower_bound",
    "quantize_ste",
]
