"""Compression models: CompressionModel and the model zoo's architectures."""

from tinify.models.base import (
    SCALES_LEVELS,
    SCALES_MAX,
    SCALES_MIN,
    CompressionModel,
    SimpleVAECompressionModel,
    get_scale_table,
)

__all__ = [
    "SCALES_LEVELS",
    "SCALES_MAX",
    "SCALES_MIN",
    "CompressionModel",
    "SimpleVAECompressionModel",
    "get_scale_table",
]
