"""Type stubs of the native module ``tinify._core`` (Rust, PyO3).

Every function takes C-contiguous numpy arrays of the stated dtype and releases the GIL while
it works. Use the wrappers of :mod:`tinify.ans`, which accept lists and tensors too.
"""

from typing import Any, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "BufferedRansEncoder",
    "CdfTables",
    "DecodeError",
    "EngineProgram",
    "RansDecoder",
    "RasterScan",
    "__version__",
    "decode_batch",
    "decode_with_indexes",
    "encode_batch",
    "encode_with_indexes",
    "engine_kernels",
    "pmf_to_quantized_cdf",
    "quantized_cdf_table",
    "scale_indexes",
]

__version__: str

class DecodeError(ValueError):
    """A byte string is not a valid stream for the given indexes and CDF tables.

    Its qualified name is ``tinify.ans.DecodeError``."""

@final
class CdfTables:
    """A validated CDF table kept for many calls: ``(cdfs, cdfs_sizes, offsets)`` checked once.

    Every coding function takes one as ``cdfs``, with no ``cdfs_sizes`` and ``offsets``."""

    def __new__(
        cls,
        cdfs: npt.NDArray[np.int32],
        cdfs_sizes: npt.NDArray[np.int32],
        offsets: npt.NDArray[np.int32],
    ) -> CdfTables: ...
    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, max_length)`` of the table."""

_Cdfs = npt.NDArray[np.int32] | CdfTables

def pmf_to_quantized_cdf(pmf: npt.NDArray[np.float32], precision: int) -> list[int]:
    """Quantizes one pmf into a CDF of ``len(pmf) + 1`` entries ending at ``2**precision``."""

def quantized_cdf_table(
    pmfs: npt.NDArray[np.float32],
    lengths: npt.NDArray[np.int32],
    tail_masses: npt.NDArray[np.float32],
    precision: int,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Builds CDF rows for many pmfs; returns ``(cdfs, cdf_lengths)``."""

def scale_indexes(
    scales: npt.NDArray[np.float32] | npt.NDArray[np.float64],
    scale_table: npt.NDArray[np.float32],
    scale_bound: float,
) -> npt.NDArray[np.int32]:
    """The CDF row of each scale: the first table entry at least ``max(scale, scale_bound)``,
    the last row for larger scales and NaN."""

def encode_with_indexes(
    symbols: npt.NDArray[np.int32],
    indexes: npt.NDArray[np.int32],
    cdfs: _Cdfs,
    cdfs_sizes: npt.NDArray[np.int32] | None = None,
    offsets: npt.NDArray[np.int32] | None = None,
) -> bytes:
    """Encodes ``symbols[i]`` with CDF row ``indexes[i]`` into one stream."""

def encode_batch(
    symbols: npt.NDArray[np.int32],
    indexes: npt.NDArray[np.int32],
    cdfs: _Cdfs,
    cdfs_sizes: npt.NDArray[np.int32] | None = None,
    offsets: npt.NDArray[np.int32] | None = None,
) -> list[bytes]:
    """Encodes each row of ``symbols`` into its own stream, rows in parallel."""

def decode_with_indexes(
    encoded: bytes,
    indexes: npt.NDArray[np.int32],
    cdfs: _Cdfs,
    cdfs_sizes: npt.NDArray[np.int32] | None = None,
    offsets: npt.NDArray[np.int32] | None = None,
) -> npt.NDArray[np.int32]:
    """Decodes one stream, which must be consumed exactly."""

def decode_batch(
    strings: list[bytes],
    indexes: npt.NDArray[np.int32],
    cdfs: _Cdfs,
    cdfs_sizes: npt.NDArray[np.int32] | None = None,
    offsets: npt.NDArray[np.int32] | None = None,
) -> npt.NDArray[np.int32]:
    """Decodes ``strings[n]`` with row ``n`` of ``indexes``, streams in parallel."""

@final
class BufferedRansEncoder:
    """Collects symbols over several calls and encodes them at ``flush()``."""

    def __init__(self) -> None: ...
    def encode_with_indexes(
        self,
        symbols: npt.NDArray[np.int32],
        indexes: npt.NDArray[np.int32],
        cdfs: _Cdfs,
        cdfs_sizes: npt.NDArray[np.int32] | None = None,
        offsets: npt.NDArray[np.int32] | None = None,
    ) -> None:
        """Appends symbols; on error nothing is appended."""

    def flush(self) -> bytes:
        """Encodes everything appended so far into one stream and empties the buffer."""

@final
class RansDecoder:
    """Decodes a stream set by ``set_stream`` in successive ``decode_stream`` calls."""

    def __init__(self) -> None: ...
    def set_stream(self, encoded: bytes) -> None:
        """Starts decoding ``encoded`` (copied)."""

    def decode_stream(
        self,
        indexes: npt.NDArray[np.int32],
        cdfs: _Cdfs,
        cdfs_sizes: npt.NDArray[np.int32] | None = None,
        offsets: npt.NDArray[np.int32] | None = None,
    ) -> npt.NDArray[np.int32]:
        """Decodes the next ``len(indexes)`` symbols of the stream."""

    def finish(self) -> None:
        """Raises ``DecodeError`` unless the stream was decoded exactly to its end."""

@final
class RasterScan:
    """The context model and entropy-parameter network of a raster-scan latent codec, prepared
    for the serial loop."""

    def __new__(
        cls,
        latent_channels: int,
        param_channels: int,
        context_weight: npt.NDArray[np.float32],
        context_bias: npt.NDArray[np.float32],
        layers: list[tuple[Any, ...]],
        scale_table: npt.NDArray[np.float32],
        scale_bound: float,
    ) -> RasterScan:
        """``layers``: ``("conv", weight (out, in), bias or None)``, ``("relu",)``,
        ``("leaky_relu", slope)``, ``("gelu",)`` or ``("identity",)``, in order."""

    def encode(
        self,
        y: npt.NDArray[np.float32],
        params: npt.NDArray[np.float32],
        cdfs: _Cdfs,
        cdfs_sizes: npt.NDArray[np.int32] | None = None,
        offsets: npt.NDArray[np.int32] | None = None,
        *,
        threads: int = 0,
    ) -> tuple[list[bytes], npt.NDArray[np.float32]]:
        """Encodes each latent given its hyper params, images in parallel on ``threads`` threads
        (0: one per core; more than the machine's parallelism are clamped to it, and each pool
        size is built once); returns one stream per image and ``y_hat``."""

    def decode(
        self,
        strings: list[bytes],
        params: npt.NDArray[np.float32],
        cdfs: _Cdfs,
        cdfs_sizes: npt.NDArray[np.int32] | None = None,
        offsets: npt.NDArray[np.int32] | None = None,
        *,
        threads: int = 0,
    ) -> npt.NDArray[np.float32]:
        """Decodes one stream per image given the hyper params; returns ``y_hat``."""

@final
class EngineProgram:
    """A network of the deterministic engine: steps over numbered buffers, weights copied and
    packed once. ``tinify.engine.compile`` builds one from torch modules."""

    def __new__(
        cls, steps: list[tuple[Any, ...]], inputs: list[int], outputs: list[int]
    ) -> EngineProgram:
        """``steps``: ``(kind, inputs, outputs, *params)``; kinds ``conv2d``,
        ``conv_transpose2d``, ``pixel_shuffle``, ``relu``, ``leaky_relu``, ``gelu``,
        ``identity``, ``gdn``, ``gain``, ``concat``, ``split``."""

    @property
    def num_inputs(self) -> int:
        """Number of input arrays ``run`` takes."""

    @property
    def num_outputs(self) -> int:
        """Number of arrays ``run`` returns."""

    def run(
        self,
        inputs: list[npt.NDArray[np.float32]],
        *,
        threads: int = 1,
        kernel: str = "auto",
    ) -> list[npt.NDArray[np.float32]]:
        """Runs the program on each image of the ``(N, C, H, W)`` inputs; the bits do not
        depend on ``threads`` (0: one per core) or ``kernel``."""

def engine_kernels() -> list[str]:
    """The engine's kernels this CPU can run (besides ``"auto"``), narrowest first."""
