"""The autoregressive loop with torch computing the Gaussians, for networks the Rust loop
cannot describe: the same wavefront order and stream format, symbols coded by
:mod:`tinify.ans`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from tinify import ans
from tinify.autoregressive.context import check_context_prediction, masked_weight
from tinify.entropy_models import GaussianConditional
from tinify.layers.masked_conv import raster_scan_mask

__all__ = ["TorchRasterScanCoder"]


def wavefronts(height: int, width: int, slope: int) -> list[tuple[Tensor, Tensor]]:
    """Rows and columns of each wavefront ``slope r + c = t``, rows increasing: the order of
    the Rust loop's stream."""
    fronts = []
    for t in range(slope * (height - 1) + width if height * width else 0):
        first = -(-max(0, t - (width - 1)) // slope)
        rows = torch.arange(first, min(height, t // slope + 1))
        fronts.append((rows, t - slope * rows))
    return fronts


class TorchRasterScanCoder:
    """The serial loop with torch computing each wavefront's Gaussians: for any context and
    entropy-parameter network (GDN, 3x3 convolutions, an overridden ``merge``), slower than
    :class:`RasterScanCoder`.

    Same wavefront order and stream format as the Rust loop. Each position's parameters are
    those CompressAI computes for it: ``entropy_parameters(merge(params, context))`` on the
    position alone, a ``1 x 1`` input, batched over the positions of a wavefront and the
    images of the batch; the encoder and the decoder run the same batched calls, so they see
    the same floats. Symbols are coded by :mod:`tinify.ans`, one stream per image.

    Args:
        context_prediction: as for :class:`RasterScanCoder`.
        entropy_parameters: any module mapping ``merge(params, context)`` to
            ``cat(scales, means)``.
        gaussian_conditional: the entropy model, with its CDF tables built.
        merge: combines ``(params, context)`` (default: concatenation along channels).
    """

    def __init__(
        self,
        context_prediction: nn.Conv2d,
        entropy_parameters: nn.Module,
        gaussian_conditional: GaussianConditional,
        merge: Callable[..., Tensor] | None = None,
    ) -> None:
        self.kernel_size = check_context_prediction(context_prediction)
        weight = masked_weight(context_prediction).detach()
        causal = raster_scan_mask(self.kernel_size, self.kernel_size, "A")
        if bool((weight[:, :, ~causal] != 0).any()):
            raise ValueError(
                "context_prediction is not causal: its masked weight has non-zero taps at or "
                "after the centre; a type 'A' mask is required"
            )
        if gaussian_conditional.scale_table.numel() == 0:
            raise ValueError("GaussianConditional has no scale table: call update() first")
        self.weight = weight
        self.bias = None if context_prediction.bias is None else context_prediction.bias.detach()
        self.entropy_parameters = entropy_parameters
        self.gaussian_conditional = gaussian_conditional
        self.merge = merge if merge is not None else (lambda *args: torch.cat(args, dim=1))

    def _gaussians(
        self, y_hat: Tensor, params: Tensor, rows: Tensor, cols: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Scales and means ``(N, P, M)`` of the ``P`` positions ``(rows, cols)``, from the
        zero-padded ``y_hat`` decoded so far."""
        n, m = y_hat.size(0), y_hat.size(1)
        k = self.kernel_size
        offsets = torch.arange(k)
        r = (rows[:, None] + offsets)[:, :, None]
        c = (cols[:, None] + offsets)[:, None, :]
        crops = y_hat[:, :, r, c].permute(0, 2, 1, 3, 4).reshape(-1, m, k, k)
        context = F.conv2d(crops, self.weight.to(crops), None if self.bias is None else self.bias)
        side = params[:, :, rows, cols].permute(0, 2, 1).reshape(-1, params.size(1), 1, 1)
        out = self.entropy_parameters(self.merge(side, context))
        if out.shape[1:] != (2 * m, 1, 1):
            raise ValueError(
                f"entropy_parameters gives {tuple(out.shape[1:])} per position, expected "
                f"({2 * m}, 1, 1): scales and means of {m} channels"
            )
        scales, means = out.reshape(n, rows.numel(), 2 * m).chunk(2, dim=2)
        return scales, means

    def _symbols(self, values: Tensor, scales: Tensor, means: Tensor) -> Tensor:
        """The symbols coding ``values`` (``(N, P, M)``, as scales and means): rounded around
        the means. A subclass may quantize otherwise (the variable-rate models)."""
        return torch.round(values - means)

    def _reconstruct(self, symbols: Tensor, scales: Tensor, means: Tensor) -> Tensor:
        """The decoded values of ``symbols`` (float, ``(N, P, M)``): ``symbols + means``. The
        encoder and the decoder both call it, so the context sees the same values."""
        return symbols + means

    def encode(
        self, y: Tensor, params: Tensor, threads: int | None = None
    ) -> tuple[list[bytes], Tensor]:
        """As :meth:`RasterScanCoder.encode`."""
        n, m, height, width = y.shape
        pad = self.kernel_size // 2
        y_hat = y.new_zeros(n, m, height + 2 * pad, width + 2 * pad)
        symbols, indexes = [], []
        for rows, cols in wavefronts(height, width, pad + 1):
            scales, means = self._gaussians(y_hat, params, rows, cols)
            q = self._symbols(y[:, :, rows, cols].permute(0, 2, 1), scales, means)
            if not bool(torch.isfinite(q).all()) or float(q.abs().max()) >= 2**31 - 128:
                raise ValueError("a latent value is not finite or too far from its mean to code")
            decoded = self._reconstruct(q, scales, means)
            y_hat[:, :, rows + pad, cols + pad] = decoded.permute(0, 2, 1)
            symbols.append(q.reshape(n, -1).to(torch.int32))
            indexes.append(self.gaussian_conditional.build_indexes(scales).reshape(n, -1))
        strings = ans.encode_batch(
            torch.cat(symbols, dim=1),
            torch.cat(indexes, dim=1),
            *self.gaussian_conditional._tables(),
        )
        return strings, y_hat[:, :, pad : pad + height, pad : pad + width].contiguous()

    def decode(
        self,
        strings: Sequence[bytes],
        params: Tensor,
        threads: int | None = None,
        latent_channels: int | None = None,
    ) -> Tensor:
        """As :meth:`RasterScanCoder.decode`."""
        n, _, height, width = params.shape
        m = int(latent_channels if latent_channels is not None else self.weight.size(1))
        pad = self.kernel_size // 2
        tables = self.gaussian_conditional._tables()
        decoders = []
        for s in strings:
            decoder = ans.RansDecoder()
            decoder.set_stream(bytes(s))
            decoders.append(decoder)
        y_hat = params.new_zeros(n, m, height + 2 * pad, width + 2 * pad)
        for rows, cols in wavefronts(height, width, pad + 1):
            scales, means = self._gaussians(y_hat, params, rows, cols)
            indexes = self.gaussian_conditional.build_indexes(scales).cpu().numpy()
            q = torch.stack(
                [
                    torch.from_numpy(decoder.decode_stream(idx.reshape(-1), *tables))
                    for decoder, idx in zip(decoders, indexes, strict=True)
                ]
            ).reshape(means.shape)
            y_hat[:, :, rows + pad, cols + pad] = self._reconstruct(
                q.to(means), scales, means
            ).permute(0, 2, 1)
        for decoder in decoders:
            decoder.finish()
        return y_hat[:, :, pad : pad + height, pad : pad + width].contiguous()
