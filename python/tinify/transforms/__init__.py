"""Image transforms, as ``compressai.transforms``: RGB ↔ YCbCr and YUV 4:4:4 ↔ 4:2:0, as
functions (:mod:`tinify.transforms.functional`) and as transform objects."""

from tinify.transforms import functional
from tinify.transforms.transforms import RGB2YCbCr, YCbCr2RGB, YUV420To444, YUV444To420

__all__ = ["RGB2YCbCr", "YCbCr2RGB", "YUV420To444", "YUV444To420", "functional"]
