"""Serial raster-scan (autoregressive) latent coding, run by the Rust core.

Autoregressive context models (mbt2018, cheng2020, ``RasterScanLatentCodec``) decode one latent
position after another: each position's Gaussian depends on the positions decoded before it.
:class:`RasterScanCoder` describes the context model and the entropy-parameter network to
:mod:`tinify._core` as data (masked kernel, 1x1 convolutions, activations), which runs the
whole loop without the GIL, images of a batch in parallel. The encoder runs the same routine
as the decoder, so both see bit-identical floats.

The stream is ordered by wavefronts rather than CompressAI's raster scan (``docs/design.md``,
"The autoregressive loop"): streams of tinify's raster-scan models are not CompressAI's, and
the other way round.

A network the Rust loop cannot describe (a GDN, a 3x3 convolution, an overridden ``merge``)
runs on :class:`TorchRasterScanCoder` instead: the same wavefront order and stream format,
each wavefront's parameters computed by torch over all its positions at once and coded by
:mod:`tinify.ans`. :func:`choose_coder` picks the coder (its owner keeps it as prepared state).

The package's modules: ``context`` (the geometry of the context model, its masked kernel),
``rust_loop`` (:class:`RasterScanCoder` and the description it sends to the core),
``torch_coder`` (:class:`TorchRasterScanCoder`) and ``cache`` (:func:`choose_coder`).
"""

from __future__ import annotations

from tinify.autoregressive.cache import SlowPathWarning, choose_coder
from tinify.autoregressive.context import check_context_prediction
from tinify.autoregressive.rust_loop import (
    RasterScanCoder,
    UnsupportedNetworkError,
    describe_entropy_parameters,
)
from tinify.autoregressive.torch_coder import TorchRasterScanCoder

__all__ = [
    "RasterScanCoder",
    "SlowPathWarning",
    "TorchRasterScanCoder",
    "UnsupportedNetworkError",
    "check_context_prediction",
    "choose_coder",
    "describe_entropy_parameters",
]
