"""CheckerboardLatentCodec: two-pass spatial context (anchors first, then the other half)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from tinify import registry
from tinify.latent_codecs.base import LatentCodec, check_children, check_choice
from tinify.limits import check_latent_size
from tinify.ops import quantize_ste
from tinify.typing import LatentCompressOutput, LatentDecompressOutput, LatentForwardOutput

__all__ = [
    "ANCHOR_PARITIES",
    "FORWARD_METHODS",
    "CheckerboardLatentCodec",
    "anchor_mask",
    "embed",
    "unembed",
]

#: ``"even"``: anchors where ``row + col`` is even; ``"odd"``: where it is odd.
ANCHOR_PARITIES = ("even", "odd")

#: The training passes of :class:`CheckerboardLatentCodec`.
FORWARD_METHODS = ("onepass", "twopass", "twopass_faster")

_STEPS = ("anchor", "non_anchor")


def anchor_mask(
    height: int, width: int, anchor_parity: str = "even", device: torch.device | None = None
) -> Tensor:
    """``(height, width)`` boolean mask, True at the anchors of the given parity."""
    check_choice("anchor_parity", anchor_parity, ANCHOR_PARITIES)
    rows = torch.arange(height, device=device)[:, None]
    cols = torch.arange(width, device=device)[None, :]
    return (rows + cols) % 2 == (0 if anchor_parity == "even" else 1)


def unembed(y: Tensor, anchor_parity: str = "even") -> Tensor:
    """Separate single tensor into two even/odd checkerboard chunks.

    .. code-block:: none

        ■ □ ■ □         ■ ■   □ □
        □ ■ □ ■   --->  ■ ■   □ □
        ■ □ ■ □         ■ ■   □ □

    Returns ``(2, N, C, H, W // 2)``: chunk 0 holds the anchors, chunk 1 the non-anchors,
    each row's values in column order (CompressAI's layout). The width must be even; the
    codec itself gathers the positions of any size without this helper.

    Args:
        y: ``(N, C, H, W)`` tensor, ``W`` even.
        anchor_parity: ``"even"`` or ``"odd"``, as :class:`CheckerboardLatentCodec`'s.
    """
    n, c, h, w = y.shape
    if w % 2:
        raise ValueError(f"unembed needs an even width, got shape {tuple(y.shape)}")
    mask = anchor_mask(h, w, anchor_parity, y.device)
    return torch.stack([y[:, :, mask], y[:, :, ~mask]]).reshape(2, n, c, h, w // 2)


def embed(y_: Tensor, anchor_parity: str = "even") -> Tensor:
    """Combine two even/odd checkerboard chunks into single tensor.

    .. code-block:: none

        ■ ■   □ □         ■ □ ■ □
        ■ ■   □ □   --->  □ ■ □ ■
        ■ ■   □ □         ■ □ ■ □

    The inverse of :func:`unembed`: ``(2, N, C, H, W // 2)`` → ``(N, C, H, W)``.

    Args:
        y_: the two chunks, anchors first.
        anchor_parity: ``"even"`` or ``"odd"``, as :class:`CheckerboardLatentCodec`'s.
    """
    if y_.dim() != 5 or y_.size(0) != 2:
        raise ValueError(f"embed expects (2, N, C, H, W // 2) chunks, got {tuple(y_.shape)}")
    _, n, c, h, w_half = y_.shape
    mask = anchor_mask(h, 2 * w_half, anchor_parity, y_.device)
    y = y_.new_zeros((n, c, h, 2 * w_half))
    y[:, :, mask] = y_[0].reshape(n, c, -1)
    y[:, :, ~mask] = y_[1].reshape(n, c, -1)
    return y


@registry.register("latent_codec", "CheckerboardLatentCodec")
class CheckerboardLatentCodec(LatentCodec):
    """Reconstructs latent using 2-pass context model with checkerboard anchors.

    Checkerboard context model introduced in [He2021].

    See :py:class:`~tinify.models.sensetime.Cheng2020AnchorCheckerboard` for example usage.

    - ``forward_method="onepass"`` is fastest, but does not use quantization based on the
      intermediate means. Uses noise to model quantization.
    - ``forward_method="twopass"`` is slightly slower, but accurately quantizes via STE based
      on the intermediate means. Uses the same operations as [Chandelier2023].
    - ``forward_method="twopass_faster"`` uses slightly fewer redundant operations.

    [He2021]: `"Checkerboard Context Model for Efficient Learned Image Compression"
    <https://arxiv.org/abs/2103.15306>`_, by Dailan He, Yaoyan Zheng, Baocheng Sun, Yan Wang,
    and Hongwei Qin, CVPR 2021.

    [Chandelier2023]: `"ELiC-ReImplemetation"
    <https://github.com/VincentChandelier/ELiC-ReImplemetation>`_, by Vincent Chandelier,
    2023.

    .. warning:: This implementation assumes that ``entropy_parameters`` is a pointwise
       function, e.g., a composition of 1x1 convs and pointwise nonlinearities.

    .. code-block:: none

        0. Input:

        □ □ □ □
        □ □ □ □
        □ □ □ □

        1. Decode anchors:

        ◌ □ ◌ □
        □ ◌ □ ◌
        ◌ □ ◌ □

        2. Decode non-anchors:

        ■ ◌ ■ ◌
        ◌ ■ ◌ ■
        ■ ◌ ■ ◌

        3. End result:

        ■ ■ ■ ■
        ■ ■ ■ ■
        ■ ■ ■ ■

        LEGEND:
        ■   decoded
        ◌   currently decoding
        □   empty

    The anchors are coded with parameters ``entropy_parameters(merge(0, side_params))``,
    the non-anchors with ``entropy_parameters(merge(context_prediction(y_hat_anchors),
    side_params))``; the context ``0`` of the anchors has ``context_prediction``'s output
    channels. ``compress`` returns ``{"strings": [anchor_strings, non_anchor_strings],
    "shape": (C, H, W), "y_hat"}``.

    Each step's positions are gathered in row-major order into a tensor of shape
    ``(N, C, H, W // 2)`` when ``W`` is even (then exactly CompressAI's
    :func:`unembed` layout, so the bytes are CompressAI's) and ``(N, C, 1, K)`` otherwise, so
    that latents of any height and width can be coded.

    Args:
        latent_codec: ``{"y": codec}``: the codec of each step's positions, taking
            ``(y_step, params)`` and a ``(rows, cols)`` shape, e.g. a
            :class:`~tinify.latent_codecs.GaussianConditionalLatentCodec` (whose ``_chunk``
            gives the means the two-pass forward methods quantize around).
        entropy_parameters: pointwise network, ``merge(context, side_params)`` → parameters
            of the child codec.
        context_prediction: the spatial context, typically a
            :class:`~tinify.layers.CheckerboardMaskedConv2d` (which sees only the other
            colour), keeping the spatial size.
        anchor_parity: ``"even"`` (anchors where ``row + col`` is even) or ``"odd"``.
        forward_method: ``"onepass"``, ``"twopass"`` or ``"twopass_faster"`` (see above).
        **kwargs: ignored (CompressAI compatibility).
    """

    entropy_parameters: nn.Module
    context_prediction: nn.Module
    y: LatentCodec

    def __init__(
        self,
        latent_codec: Mapping[str, LatentCodec],
        entropy_parameters: nn.Module,
        context_prediction: nn.Module,
        anchor_parity: str = "even",
        forward_method: str = "twopass",
        **kwargs: Any,
    ) -> None:
        super().__init__()
        check_choice("anchor_parity", anchor_parity, ANCHOR_PARITIES)
        check_choice("forward_method", forward_method, FORWARD_METHODS)
        check_children(self, latent_codec, ("y",))
        self._kwargs = kwargs
        self.anchor_parity = anchor_parity
        self.forward_method = forward_method
        # Registration order fixes the state_dict order: CompressAI's.
        self.entropy_parameters = entropy_parameters
        self.context_prediction = context_prediction
        self.y = latent_codec["y"]

    @property
    def latent_codec(self) -> dict[str, LatentCodec]:
        """The child by name: ``{"y": self.y}``."""
        return {"y": self.y}

    @property
    def non_anchor_parity(self) -> str:
        """The parity of the non-anchors: the other one."""
        return "odd" if self.anchor_parity == "even" else "even"

    def forward(self, y: Tensor, side_params: Tensor) -> LatentForwardOutput:
        check_choice("forward_method", self.forward_method, FORWARD_METHODS)
        if self.forward_method == "onepass":
            return self._forward_onepass(y, side_params)
        if self.forward_method == "twopass":
            return self._forward_twopass(y, side_params)
        return self._forward_twopass_faster(y, side_params)

    def _forward_onepass(self, y: Tensor, side_params: Tensor) -> LatentForwardOutput:
        """One pass of ``entropy_parameters``: the context comes from ``y`` quantized without
        means (noise when training), so it is only an estimate of the decoder's context."""
        y_hat = self.quantize(y)
        y_ctx = self._keep_only(self.context_prediction(y_hat), "non_anchor")
        params = self.entropy_parameters(self.merge(y_ctx, side_params))
        y_out = self.y(y, params)
        return {"likelihoods": {"y": y_out["likelihoods"]["y"]}, "y_hat": y_hat}

    def _forward_twopass(self, y: Tensor, side_params: Tensor) -> LatentForwardOutput:
        """Two passes, as the decoder runs them: the anchors are quantized (STE) around the
        means predicted without context, and their ``y_hat`` is the non-anchors' context."""
        anchors = self._mask(y, "anchor")
        params_anchor = self.entropy_parameters(self.merge(self._zero_context(y), side_params))
        y_hat_anchors = self._quantize_step(y, params_anchor, "anchor")
        y_ctx = self.context_prediction(y_hat_anchors)
        params_non_anchor = self.entropy_parameters(self.merge(y_ctx, side_params))
        y_hat_non_anchors = self._quantize_step(y, params_non_anchor, "non_anchor")
        params = torch.where(anchors, params_anchor, params_non_anchor)
        y_out = self.y(y, params)
        return {
            "likelihoods": {"y": y_out["likelihoods"]["y"]},
            "y_hat": torch.where(anchors, y_hat_anchors, y_hat_non_anchors),
        }

    def _forward_twopass_faster(self, y: Tensor, side_params: Tensor) -> LatentForwardOutput:
        """Two passes with fewer copies: the second pass's context is zero at the anchors, so
        its parameters there equal the first pass's, and the child's ``y_hat`` is kept for
        the non-anchors."""
        params = self.entropy_parameters(self.merge(self._zero_context(y), side_params))
        y_hat_anchors = self._quantize_step(y, self._keep_only(params, "anchor"), "anchor")
        y_ctx = self._keep_only(self.context_prediction(y_hat_anchors), "non_anchor")
        params = self.entropy_parameters(self.merge(y_ctx, side_params))
        y_out = self.y(y, params)
        y_hat = torch.where(self._mask(y, "anchor"), y_hat_anchors, y_out["y_hat"])
        return {"likelihoods": {"y": y_out["likelihoods"]["y"]}, "y_hat": y_hat}

    def compress(self, y: Tensor, side_params: Tensor) -> LatentCompressOutput:
        n, c, h, w = y.shape
        self._check_side_params(side_params, n, h, w)
        y_hat = side_params.new_zeros((n, c, h, w))
        strings: list[list[bytes]] = []
        for step in _STEPS:
            mask = self._mask(y, step)
            params = self._step_params(step, y_hat, side_params, mask)
            y_out = self.y.compress(self._gather(y, mask), params)
            y_hat = self._scatter(y_hat, mask, y_out["y_hat"])
            strings.extend(y_out["strings"])
        return {"strings": strings, "shape": (int(c), int(h), int(w)), "y_hat": y_hat}

    def decompress(
        self,
        strings: list[list[bytes]],
        shape: tuple[int, int, int],
        side_params: Tensor,
        **kwargs: Any,
    ) -> LatentDecompressOutput:
        if not strings or len(strings) % 2:
            raise ValueError(
                f"expected the streams of the anchors and of the non-anchors, got {len(strings)}"
            )
        n = len(strings[0])
        if any(len(s) != n for s in strings):
            raise ValueError(
                f"every stream needs one string per batch element, got {[len(s) for s in strings]}"
            )
        c, h, w = check_latent_size(shape, ndim=3, what="shape", leading=(n,), strings=strings)
        channels = getattr(self.context_prediction, "in_channels", c)
        if c != channels:
            raise ValueError(f"the shape {(c, h, w)} has {c} channels, this codec codes {channels}")
        self._check_side_params(side_params, n, h, w)
        per_step = len(strings) // 2
        y_hat = side_params.new_zeros((n, c, h, w))
        for i, step in enumerate(_STEPS):
            mask = self._mask(y_hat, step)
            params = self._step_params(step, y_hat, side_params, mask)
            y_out = self.y.decompress(
                strings[i * per_step : (i + 1) * per_step], _layout(mask), params
            )
            y_hat = self._scatter(y_hat, mask, y_out["y_hat"])
        return {"y_hat": y_hat}

    def unembed(self, y: Tensor) -> Tensor:
        """Separate single tensor into two even/odd checkerboard chunks.

        .. code-block:: none

            ■ □ ■ □         ■ ■   □ □
            □ ■ □ ■   --->  ■ ■   □ □
            ■ □ ■ □         ■ ■   □ □

        :func:`~tinify.latent_codecs.checkerboard.unembed` with this codec's anchor parity:
        ``(N, C, H, W)`` → ``(2, N, C, H, W // 2)``, anchors first.
        """
        return unembed(y, self.anchor_parity)

    def embed(self, y_: Tensor) -> Tensor:
        """Combine two even/odd checkerboard chunks into single tensor.

        .. code-block:: none

            ■ ■   □ □         ■ □ ■ □
            ■ ■   □ □   --->  □ ■ □ ■
            ■ ■   □ □         ■ □ ■ □

        :func:`~tinify.latent_codecs.checkerboard.embed` with this codec's anchor parity:
        ``(2, N, C, H, W // 2)`` → ``(N, C, H, W)``.
        """
        return embed(y_, self.anchor_parity)

    def merge(self, *args: Tensor) -> Tensor:
        """The input of ``entropy_parameters``: context and side parameters, concatenated
        along channels."""
        return torch.cat(args, dim=1)

    def quantize(self, y: Tensor) -> Tensor:
        """Uniform noise in [-0.5, 0.5) when training, rounding otherwise (no means)."""
        if self.training:
            return y + torch.empty_like(y).uniform_(-0.5, 0.5)
        return torch.round(y)

    def _mask(self, y: Tensor, step: str) -> Tensor:
        mask = anchor_mask(y.size(-2), y.size(-1), self.anchor_parity, y.device)
        return mask if step == "anchor" else ~mask

    def _keep_only(self, y: Tensor, step: str) -> Tensor:
        """``y`` at the positions of ``step``, zero elsewhere."""
        return torch.where(self._mask(y, step), y, 0)

    def _zero_context(self, y: Tensor) -> Tensor:
        """The anchors' context: zeros shaped like ``context_prediction``'s output."""
        channels = getattr(self.context_prediction, "out_channels", None)
        if channels is None:
            with torch.no_grad():
                return torch.zeros_like(self.context_prediction(y))
        return y.new_zeros((y.size(0), channels, *y.shape[2:]))

    def _quantize_step(self, y: Tensor, params: Tensor, step: str) -> Tensor:
        """``y`` rounded (STE) around the means of ``params`` at the step's positions."""
        _, means = self.y._chunk(params)  # type: ignore[operator]
        y_hat = quantize_ste(y) if means is None else quantize_ste(y - means) + means
        return self._keep_only(y_hat, step)

    def _step_params(self, step: str, y_hat: Tensor, side_params: Tensor, mask: Tensor) -> Tensor:
        """The child's parameters at the positions of ``step``, gathered; ``y_hat`` holds
        the anchors once they are decoded."""
        if not mask.any():
            # A 1x1 latent has no non-anchors. Convolutions refuse empty inputs, so evaluate
            # one dummy position and keep none of it: the child then codes empty streams.
            dummy = torch.zeros_like(mask).flatten()
            dummy[0] = True
            return self._step_params(step, y_hat, side_params, dummy.view_as(mask))[..., :0]
        side = self._gather(side_params, mask)
        if step == "anchor":
            y_ctx = self._gather(self._zero_context(y_hat), mask)
        else:
            y_ctx = self._gather(self.context_prediction(y_hat), mask)
        return self.entropy_parameters(self.merge(y_ctx, side))

    @staticmethod
    def _gather(x: Tensor, mask: Tensor) -> Tensor:
        """The positions of ``mask`` in row-major order, as ``(N, C, *_layout(mask))``."""
        return x[:, :, mask].reshape(x.size(0), x.size(1), *_layout(mask))

    @staticmethod
    def _scatter(x: Tensor, mask: Tensor, values: Tensor) -> Tensor:
        """``x`` with the positions of ``mask`` replaced by the gathered ``values``."""
        return x.masked_scatter(mask.expand_as(x), values.to(x.dtype))

    @staticmethod
    def _check_side_params(side_params: Tensor, n: int, h: int, w: int) -> None:
        if side_params.dim() != 4 or side_params.size(0) != n or side_params.shape[2:] != (h, w):
            raise ValueError(
                f"side_params of shape {tuple(side_params.shape)} do not fit a latent of batch "
                f"{n} and spatial shape {(h, w)}"
            )


def _layout(mask: Tensor) -> tuple[int, int]:
    """The 2-D arrangement of a step's gathered positions: ``(H, W // 2)`` rows when the width
    is even (each row holds ``W // 2`` of them), otherwise one row of all of them."""
    h, w = mask.shape
    if w % 2 == 0:
        return (h, w // 2)
    return (1, int(mask.sum()))
