"""Variable-rate (VBR) versions of the scale, mean-scale and joint autoregressive hyperprior
models: one network, any rate, chosen by a quantization step at coding time."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from tinify.autoregressive import TorchRasterScanCoder, check_context_prediction
from tinify.autoregressive.torch_coder import wavefronts
from tinify.entropy_models import EntropyBottleneckVbr
from tinify.models.base import get_scale_table
from tinify.models.google import (
    JointAutoregressiveHierarchicalPriors,
    MeanScaleHyperprior,
    ScaleHyperprior,
    _load_exactly,
    _out_channels,
)
from tinify.ops import LowerBound, quantize_ste
from tinify.registry import register
from tinify.typing import CompressOutput, DecompressOutput, ForwardOutput, Strings

__all__ = [
    "JointAutoregressiveHierarchicalPriorsVbr",
    "MeanScaleHyperpriorVbr",
    "ScaleHyperpriorVbr",
]

#: The initial gains (inverse quantization steps) of the eight rates, lowest rate first.
INITIAL_GAINS = (0.10000, 0.13944, 0.19293, 0.26874, 0.37268, 0.51801, 0.71957, 1.00000)

#: The training λ of the eight rates (the λ of CompressAI's MSE qualities 1 to 8).
LAMBDAS = (0.0018, 0.0035, 0.0067, 0.0130, 0.025, 0.0483, 0.0932, 0.18)

# Symbols below this magnitude (that is, zero) get no reconstruction offset.
_ZERO = 0.0001

# Entropy-bottleneck parameter names of any CompressAI release: `_matrix0`, `_matrices.0`,
# `matrices.0` (and biases, factors).
_EB_PARAMETER = re.compile(
    r"^(?P<owner>(?:.*\.)?)_?(?P<kind>matrix|bias|factor|matrices|biases|factors)\.?(?P<i>\d+)$"
)
_SINGULAR = {"matrices": "matrix", "biases": "bias", "factors": "factor"}


def _flat_bottleneck_keys(
    state_dict: Mapping[str, Tensor], expected: Sequence[str] | Any
) -> dict[str, Tensor]:
    """Renames entropy-bottleneck parameters to the ``_matrix0`` spelling of
    :class:`~tinify.entropy_models.EntropyBottleneckVbr` wherever the model expects it
    (``tinify.zoo.normalize_state_dict`` writes ``matrices.0``)."""
    expected = set(expected)
    out = {}
    for key, value in state_dict.items():
        bare = key.removeprefix("module.")
        match = _EB_PARAMETER.match(bare)
        if match:
            kind = _SINGULAR.get(match["kind"], match["kind"])
            flat = f"{match['owner']}_{kind}{match['i']}"
            if flat in expected:
                key = flat
        out[key] = value
    return out


def _check_stage(stage: Any) -> int:
    if stage not in (1, 2) or isinstance(stage, bool):
        raise ValueError(f"invalid stage {stage!r}: 1 (the single-rate model) or 2 (variable rate)")
    return int(stage)


def _is_zero(inputscale: Any) -> bool:
    """CompressAI's ``inputscale == 0``: no gain given."""
    if isinstance(inputscale, Tensor):
        return inputscale.numel() == 1 and float(inputscale) == 0
    return bool(inputscale == 0)


@register("model", "bmshj2018-hyperprior-vbr")
class ScaleHyperpriorVbr(ScaleHyperprior):
    r"""Variable-rate :class:`~tinify.models.ScaleHyperprior`: one network codes at any rate,
    set by a quantization step of the latent, with learned quantization-reconstruction offsets.

    From `"Variable-Rate Learned Image Compression with Multi-Objective Optimization and
    Quantization-Reconstruction Offsets" <https://arxiv.org/abs/2402.18930>`_, F. Kamisli,
    F. Racapé and H. Choi, DCC 2024. At rate ``s`` the latent is scaled by the gain
    :math:`g = \text{Gain}[s]` (the inverse of the quantization step) before rounding and
    coded with Gaussians of scale :math:`g\sigma`; the decoder adds to each non-zero symbol
    :math:`q` an offset :math:`\delta = -\text{QuantABCD}(g\sigma, g)` towards zero and
    rescales:

    .. math::
        \hat y = \mu + \operatorname{sign}(q)\,(|q| + \delta) / g.

    .. code-block:: none

                  ┌───┐    y     ┌───┐  z  ┌───┐ z_hat      z_hat ┌───┐
            x ──►─┤g_a├──►─┬──►──┤h_a├──►──┤ Q ├───►───·⋯⋯·───►───┤h_s├─┐
                  └───┘    │     └───┘     └───┘        EB        └───┘ │
                           ▼ × g                                        │
                         ┌─┴─┐                                          │
                         │ Q │                                          │
                         └─┬─┘                                          │
                           ·                                            │
                        GC : ◄───────────────────◄──────────────────────┘
                           ·                  scales_hat × g
                           ▼ + offset(QuantABCD), / g
                  ┌───┐    │              EB = entropy bottleneck
        x_hat ──◄─┤g_s├────┘              GC = Gaussian conditional
                  └───┘

    ``stage=1`` runs the plain single-rate model (for the first training phase), ``stage=2``
    the variable-rate one at ``Gain[s]`` (``s`` in 0–7), or at ``inputscale`` when it is not
    0 (any gain between and beyond the eight). With ``vr_entbttlnck=True`` the hyper-latent's
    step varies too: ``gayn2zqstep`` maps ``1/g`` to a step of at least 0.5 for an
    :class:`~tinify.entropy_models.EntropyBottleneckVbr`; call ``update(scale=g)`` before
    coding at gain ``g`` then. Strings, shapes and padding are as in ScaleHyperprior.

    Args:
        N: channels of the transforms' hidden layers and of ``z``, >= 1 (192 in the zoo).
        M: channels of the latent ``y``, >= 1 (320 in the zoo).
        vr_entbttlnck: give the hyper-latent a variable step as well.
    """

    def __init__(self, N: int, M: int, vr_entbttlnck: bool = False, **kwargs: Any) -> None:
        super().__init__(N=N, M=M, **kwargs)
        self.lmbda = list(LAMBDAS)
        self.levels = len(self.lmbda)
        self.Gain = nn.Parameter(torch.tensor(INITIAL_GAINS), requires_grad=True)
        hidden = 12
        self.QuantABCD = nn.Sequential(
            nn.Linear(2, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 1),
        )
        #: Reconstruct without offsets (``sign(q)|q| / g + mean``).
        self.no_quantoffset = False
        self.vr_entbttlnck = bool(vr_entbttlnck)
        if self.vr_entbttlnck:
            self.entropy_bottleneck = EntropyBottleneckVbr(self.N)
            hidden = 10
            self.gayn2zqstep = nn.Sequential(
                nn.Linear(1, hidden),
                nn.ReLU(),
                nn.Linear(hidden, hidden),
                nn.ReLU(),
                nn.Linear(hidden, 1),
                nn.Softplus(),
            )
            self.lower_bound_zqstep = LowerBound(0.5)

    # -- checkpoints --------------------------------------------------------------------------

    @classmethod
    def from_state_dict(  # type: ignore[override]
        cls, state_dict: Mapping[str, Tensor], vr_entbttlnck: bool | None = None
    ) -> ScaleHyperpriorVbr:
        """Builds the model at the checkpoint's sizes (N from ``g_a.0.weight``, M from
        ``g_a.6.weight``) and loads it.

        Args:
            state_dict: the checkpoint (CompressAI's or tinify's keys).
            vr_entbttlnck: whether the hyper-latent has a variable step; ``None`` reads it
                from the keys (``gayn2zqstep.*``), so CompressAI's published weights load.

        Raises:
            ValueError: if the checkpoint is another architecture's, naming the keys.
        """
        sd = {k: v for k, v in state_dict.items() if k != "QuantOffset"}
        if vr_entbttlnck is None:
            vr_entbttlnck = any(k.removeprefix("module.").startswith("gayn2zqstep.") for k in sd)
        net = cls(
            _out_channels(cls, sd, "g_a.0.weight"),
            _out_channels(cls, sd, "g_a.6.weight"),
            vr_entbttlnck=vr_entbttlnck,
        )
        _load_exactly(net, _flat_bottleneck_keys(sd, net.state_dict().keys()))
        return net

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> Any:
        """As :meth:`CompressionModel.load_state_dict
        <tinify.models.CompressionModel.load_state_dict>`; the variable-step bottleneck's
        parameters load under any CompressAI spelling too."""
        state_dict = _flat_bottleneck_keys(state_dict, self.state_dict().keys())
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def update(
        self,
        scale_table: Tensor | None = None,
        force: bool = False,
        scale: Tensor | float | None = None,
        *,
        update_quantiles: bool = False,
    ) -> bool:
        """Builds the CDF tables; needed once after training.

        Args:
            scale_table: scales of the Gaussian conditional (default: ``get_scale_table()``).
            force: rebuild tables that exist.
            scale: with ``vr_entbttlnck``, the gain whose hyper-latent step the
                bottleneck's tables are built for (``None``: step 1).
            update_quantiles: solve the bottleneck's quantiles by bisection first.

        Returns:
            True if any table was (re)built.
        """
        if scale_table is None:
            scale_table = get_scale_table()
        updated = self.gaussian_conditional.update_scale_table(scale_table, force=force)
        bottleneck = self.entropy_bottleneck
        if isinstance(bottleneck, EntropyBottleneckVbr) and scale is not None:
            if update_quantiles and (force or bottleneck._offset.numel() == 0):
                bottleneck._update_quantiles()
            with torch.no_grad():
                step = self._z_step(self._as_scale(scale))
            updated |= bottleneck.update_variable(force=force, qs=step)
        else:
            updated |= bottleneck.update(force=force, update_quantiles=update_quantiles)
        return updated

    # -- the rate -----------------------------------------------------------------------------

    def _as_scale(self, scale: Tensor | float) -> Tensor:
        value = torch.as_tensor(scale, dtype=self.Gain.dtype, device=self.Gain.device)
        if value.numel() != 1:
            raise ValueError(f"a gain is one number, got shape {tuple(value.shape)}")
        value = value.reshape(())
        if not bool(torch.isfinite(value)) or float(value) <= 0:
            raise ValueError(f"a gain must be positive and finite, got {float(value)}")
        return value

    def _get_scale(self, stage: int, s: int, inputscale: Tensor | float) -> Tensor:
        """The gain of ``forward``: ``Gain[s]`` (``s`` clipped to 0–7), or ``inputscale``
        when it is not 0 in eval mode."""
        s = max(0, min(int(s), len(self.Gain) - 1))
        if self.training or _is_zero(inputscale):
            return self.Gain[s].detach()
        return self._as_scale(inputscale)

    def _coding_scale(self, s: int, inputscale: Tensor | float) -> Tensor:
        """The gain of ``compress``/``decompress``: ``|Gain[s]|`` or ``inputscale``."""
        if not _is_zero(inputscale):
            return self._as_scale(inputscale)
        if isinstance(s, bool) or s not in range(self.levels):
            raise ValueError(f"s must be a rate in 0-{self.levels - 1}, got {s!r}")
        return torch.abs(self.Gain[s])

    def _z_step(self, scale: Tensor) -> Tensor:
        """The hyper-latent's quantization step at gain ``scale``, shape ``(1,)``."""
        return self.lower_bound_zqstep(self.gayn2zqstep(1.0 / scale.clone().view(1)))

    def _offsets(self, stdev: Tensor, scale: Tensor, q_abs: Tensor) -> Tensor:
        """Reconstruction offsets of symbols of magnitude ``q_abs`` with scaled standard
        deviations ``stdev`` at gain ``scale``: zero for zero symbols."""
        stdev = self.gaussian_conditional.lower_bound_scale(stdev).unsqueeze(-1)
        features = torch.cat((stdev, scale.detach().expand(stdev.shape)), dim=-1)
        offsets = -self.QuantABCD(features).squeeze(-1)
        return offsets.masked_fill(q_abs < _ZERO, 0.0)

    # -- forward ------------------------------------------------------------------------------

    def _z_ste(self, z: Tensor, scale: Tensor) -> tuple[Tensor, Tensor]:
        """The hyper-latent of stage 2: rounded with a straight-through gradient (or, with
        ``vr_entbttlnck``, to the step of gain ``scale``), and its likelihoods."""
        if not self.vr_entbttlnck:
            _, z_likelihoods = self.entropy_bottleneck(z)
            medians = self.entropy_bottleneck._get_medians()
            return quantize_ste(z - medians) + medians, z_likelihoods
        step = self._z_step(scale)
        return self.entropy_bottleneck(z, qs=step[0], training=None, ste=False)

    def _y_ste(
        self, y: Tensor, scales_hat: Tensor, means_hat: Tensor | None, scale: Tensor
    ) -> tuple[Tensor, Tensor]:
        """The latent of stage 2 at gain ``scale``: quantized with a straight-through
        gradient and reconstructed with offsets, and its likelihoods."""
        rescale = 1.0 / scale.clone().detach()
        scaled_means = None if means_hat is None else means_hat * scale
        _, y_likelihoods = self.gaussian_conditional(
            y * scale, scales_hat * scale, means=scaled_means
        )
        centred = y if means_hat is None else y - means_hat
        if self.no_quantoffset:
            y_hat = quantize_ste(centred * scale) * rescale
        else:
            scaled = centred * scale
            signs = torch.sign(scaled).detach()
            q_abs = quantize_ste(torch.abs(scaled))
            y_hat = signs * (q_abs + self._offsets(scales_hat * scale, scale, q_abs)) * rescale
        return (y_hat if means_hat is None else y_hat + means_hat), y_likelihoods

    def forward(  # type: ignore[override]
        self, x: Tensor, stage: int = 2, s: int = 1, inputscale: Tensor | float = 0
    ) -> ForwardOutput:
        """Reconstructs ``x`` and returns ``{"x_hat", "likelihoods": {"y", "z"}}``.

        Args:
            x: images ``(N, 3, H, W)`` in [0, 1].
            stage: 1 for the single-rate model (noise or rounding, no gain), 2 for the
                variable-rate model (straight-through rounding at the gain, offsets).
            s: the rate, an index into ``Gain`` (clipped to 0–7).
            inputscale: a gain to use instead of ``Gain[s]`` in eval mode (0: none).
        """
        self._check_images(x)
        stage = _check_stage(stage)
        scale = self._get_scale(stage, s, inputscale)
        y = self.g_a(x)
        z = self.h_a(self._hyper_input(y))
        if stage == 1:
            z_hat, z_likelihoods = self.entropy_bottleneck(z)
            scales_hat, means_hat = self._gaussian_params(z_hat)
            y_hat, y_likelihoods = self.gaussian_conditional(y, scales_hat, means=means_hat)
        else:
            z_hat, z_likelihoods = self._z_ste(z, scale)
            scales_hat, means_hat = self._gaussian_params(z_hat)
            y_hat, y_likelihoods = self._y_ste(y, scales_hat, means_hat, scale)
        return {"x_hat": self.g_s(y_hat), "likelihoods": {"y": y_likelihoods, "z": z_likelihoods}}

    # -- coding -------------------------------------------------------------------------------

    def _code_z(self, z: Tensor, stage: int, scale: Tensor) -> tuple[list[bytes], Tensor]:
        bottleneck, size = self.entropy_bottleneck, z.size()[-2:]
        if stage == 2 and self.vr_entbttlnck:
            step = self._z_step(scale)[0]
            strings = bottleneck.compress(z, qs=step)
            return strings, bottleneck.decompress(strings, size, qs=step)
        strings = bottleneck.compress(z)
        return strings, bottleneck.decompress(strings, size)

    def _decode_z(
        self, strings: list[bytes], shape: Sequence[int], stage: int, scale: Tensor
    ) -> Tensor:
        if stage == 2 and self.vr_entbttlnck:
            return self.entropy_bottleneck.decompress(strings, shape, qs=self._z_step(scale)[0])
        return self.entropy_bottleneck.decompress(strings, shape)

    def _check_latent_sizes(self, x: Tensor, y: Tensor, params: Tensor) -> None:
        if params.shape[2:] != y.shape[2:]:
            raise ValueError(
                f"{type(self).__name__} cannot code a {x.size(2)}x{x.size(3)} image: its "
                f"latent is {y.size(2)}x{y.size(3)} but a decoder would rebuild "
                f"{params.size(2)}x{params.size(3)} from the hyper-latent; pad images to a "
                f"multiple of {self.downsampling_factor} (tinify.ops.compute_padding)"
            )

    @torch.no_grad()
    def compress(  # type: ignore[override]
        self, x: Tensor, stage: int = 2, s: int = 1, inputscale: Tensor | float = 0
    ) -> CompressOutput:
        """Codes images ``(N, 3, H, W)`` (H, W multiples of 64) at rate ``s`` (or gain
        ``inputscale``) into ``{"strings": [y_strings, z_strings], "shape"}``. Needs
        :meth:`update` first (with ``scale`` for a variable-step hyper-latent).

        Raises:
            ValueError: for a stage other than 1 and 2, ``s`` outside 0–7, a gain that is
                not positive, or an image size the decoder cannot rebuild.
        """
        self._check_images(x)
        stage = _check_stage(stage)
        scale = self._coding_scale(s, inputscale)
        y = self.g_a(x)
        z = self.h_a(self._hyper_input(y))
        z_strings, z_hat = self._code_z(z, stage, scale)
        scales_hat, means_hat = self._gaussian_params(z_hat)
        self._check_latent_sizes(x, y, scales_hat)
        gc = self.gaussian_conditional
        if stage == 1:
            y_strings = gc.compress(y, gc.build_indexes(scales_hat), means=means_hat)
        else:
            means = None if means_hat is None else means_hat * scale
            y_strings = gc.compress(y * scale, gc.build_indexes(scales_hat * scale), means=means)
        return {"strings": [y_strings, z_strings], "shape": (int(z.size(2)), int(z.size(3)))}

    @torch.no_grad()
    def decompress(  # type: ignore[override]
        self,
        strings: Strings,
        shape: Sequence[int],
        stage: int = 2,
        s: int = 1,
        inputscale: Tensor | float = 0,
    ) -> DecompressOutput:
        """Decodes the output of :meth:`compress` (same ``stage``, ``s``, ``inputscale``)
        into ``{"x_hat"}``, clamped to [0, 1]."""
        y_strings, z_strings = self._unpack(strings, 2, shape)
        stage = _check_stage(stage)
        scale = self._coding_scale(s, inputscale)
        z_hat = self._decode_z(z_strings, shape, stage, scale)
        scales_hat, means_hat = self._gaussian_params(z_hat)
        gc = self.gaussian_conditional
        if stage == 1:
            indexes = gc.build_indexes(scales_hat)
            y_hat = gc.decompress(y_strings, indexes, z_hat.dtype, means_hat)
            return {"x_hat": self._synthesize(y_hat)}
        rescale = torch.tensor(1.0) / scale
        indexes = gc.build_indexes(scales_hat * scale)
        if self.no_quantoffset:
            means = None if means_hat is None else means_hat * scale
            y_hat = gc.decompress(y_strings, indexes, means=means) * rescale
        else:
            q = gc.decompress(y_strings, indexes)
            q_abs, signs = q.abs(), torch.sign(q)
            offsets = self._offsets(scales_hat * scale, scale, q_abs)
            y_hat = signs * (q_abs + offsets) * rescale
            if means_hat is not None:
                y_hat = y_hat + means_hat
        return {"x_hat": self._synthesize(y_hat)}


@register("model", "mbt2018-mean-vbr")
class MeanScaleHyperpriorVbr(ScaleHyperpriorVbr, MeanScaleHyperprior):
    r"""Variable-rate :class:`~tinify.models.MeanScaleHyperprior`, with the gain,
    reconstruction offsets and optional variable-step hyper-latent of
    :class:`ScaleHyperpriorVbr`.

    From `"Variable-Rate Learned Image Compression with Multi-Objective Optimization and
    Quantization-Reconstruction Offsets" <https://arxiv.org/abs/2402.18930>`_, F. Kamisli,
    F. Racapé and H. Choi, DCC 2024. The latent is centred on the predicted means before the
    gain: the symbol is :math:`q = \operatorname{round}((y - \mu) g)`, coded with scale
    :math:`g\sigma`, and :math:`\hat y = \mu + \operatorname{sign}(q)(|q| + \delta)/g`.

    .. code-block:: none

                  ┌───┐    y     ┌───┐  z  ┌───┐ z_hat      z_hat ┌───┐
            x ──►─┤g_a├──►─┬──►──┤h_a├──►──┤ Q ├───►───·⋯⋯·───►───┤h_s├─┐
                  └───┘    │     └───┘     └───┘        EB        └───┘ │
                           ▼ - means_hat, × g                           │
                         ┌─┴─┐                                          │
                         │ Q │                                          │
                         └─┬─┘                                          │
                           ·                                            │
                        GC : ◄───────────────────◄──────────────────────┘
                           ·                  scales_hat × g, means_hat
                           ▼ + offset(QuantABCD), / g, + means_hat
                  ┌───┐    │              EB = entropy bottleneck
        x_hat ──◄─┤g_s├────┘              GC = Gaussian conditional
                  └───┘

    Args:
        N: channels of the transforms' hidden layers and of ``z``, >= 1 (192 in the zoo).
        M: channels of the latent ``y``, >= 1 (320 in the zoo).
        vr_entbttlnck: give the hyper-latent a variable step as well.
    """

    def __init__(
        self, N: int = 192, M: int = 320, vr_entbttlnck: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(N, M, vr_entbttlnck=vr_entbttlnck, **kwargs)


class _GainedRasterScanCoder(TorchRasterScanCoder):
    """The wavefront coder of :class:`JointAutoregressiveHierarchicalPriorsVbr` at one gain:
    scales multiplied by the gain (so the CDF rows are those of the scaled Gaussians),
    symbols ``round((y - mean) g)``, decoded values ``mean + sign(q)(|q| + offset)/g`` and the
    context shifted by ``scale_to_context(g)``."""

    def __init__(self, model: JointAutoregressiveHierarchicalPriorsVbr, scale: Tensor) -> None:
        self.model = model
        self.scale = scale.detach()
        self.rescale = torch.tensor(1.0) / self.scale
        merge = None
        if model.scl2ctx:
            shift = model.scale_to_context(self.scale.view(1, 1)).view(1, -1, 1, 1)
            merge = lambda params, context: torch.cat((params, context + shift), dim=1)  # noqa: E731
        super().__init__(
            model.context_prediction, model.entropy_parameters, model.gaussian_conditional, merge
        )

    def _gaussians(
        self, y_hat: Tensor, params: Tensor, rows: Tensor, cols: Tensor
    ) -> tuple[Tensor, Tensor]:
        scales, means = super()._gaussians(y_hat, params, rows, cols)
        return scales * self.scale, means

    def _symbols(self, values: Tensor, scales: Tensor, means: Tensor) -> Tensor:
        return torch.round((values - means) * self.scale)

    def _reconstruct(self, symbols: Tensor, scales: Tensor, means: Tensor) -> Tensor:
        if self.model.no_quantoffset:
            return symbols * self.rescale + means
        q_abs, signs = symbols.abs(), torch.sign(symbols)
        offsets = self.model._offsets(scales, self.scale, q_abs)
        return signs * (q_abs + offsets) * self.rescale + means


@register("model", "mbt2018-vbr")
class JointAutoregressiveHierarchicalPriorsVbr(
    ScaleHyperpriorVbr, JointAutoregressiveHierarchicalPriors
):
    r"""Variable-rate :class:`~tinify.models.JointAutoregressiveHierarchicalPriors`
    (mbt2018): the gain and reconstruction offsets of :class:`ScaleHyperpriorVbr` inside the
    autoregressive loop, whose context is also shifted by a learned function of the gain.

    From `"Variable-Rate Learned Image Compression with Multi-Objective Optimization and
    Quantization-Reconstruction Offsets" <https://arxiv.org/abs/2402.18930>`_, F. Kamisli,
    F. Racapé and H. Choi, DCC 2024. Each position's context is
    ``context_prediction(y_hat) + scale_to_context(g)``; its symbol is
    :math:`\operatorname{round}((y - \mu) g)`, coded with scale :math:`g\sigma`, and its
    decoded value :math:`\mu + \operatorname{sign}(q)(|q| + \delta)/g` is what later
    positions see (in training too: stage 2 quantizes recursively, with straight-through
    gradients). The hyper-latent has step 1.

    .. code-block:: none

                  ┌───┐    y     ┌───┐  z  ┌───┐ z_hat      z_hat ┌───┐
            x ──►─┤g_a├──►─┬──►──┤h_a├──►──┤ Q ├───►───·⋯⋯·───►───┤h_s├─┐
                  └───┘    │     └───┘     └───┘        EB        └───┘ │
                           ▼ × g                                 params ▼
                         ┌─┴─┐                                          │
                         │ Q │            scale_to_context(g)           │
                         └─┬─┘                  │ +                     │
                     y_hat ▼                 ┌──┴──┐                    │
                           ├──────────►──────┤  CP ├────────►───────────┤
                           │                 └─────┘                    │
                           ·                 ┌─────┐                    │
                        GC : ◄──────◄────────┤  EP ├────────◄───────────┘
                           ·  scales × g     └─────┘
                           ▼  + offset, / g, + means
                  ┌───┐    │
        x_hat ──◄─┤g_s├────┘

    Stage 1 is :class:`~tinify.models.JointAutoregressiveHierarchicalPriors` itself, coded by
    the Rust loop. Stage 2's reconstruction (the offset network) is not a network the Rust
    loop can describe, so it is coded by :class:`tinify.autoregressive.TorchRasterScanCoder`'s
    wavefront loop: the same stream order, so the ``y`` strings are tinify's own, not
    CompressAI's raster-order ones; the decoded latent and the rate are CompressAI's.

    Args:
        N: channels of the transforms' hidden layers and of ``z``, >= 1 (192 in the zoo).
        M: channels of the latent ``y``, >= 1 (320 in the zoo).
    """

    def __init__(self, N: int = 192, M: int = 320, **kwargs: Any) -> None:
        super().__init__(N, M, vr_entbttlnck=False, **kwargs)
        #: Stage 2 quantizes recursively, each position seeing its decoded neighbours.
        self.ste_recursive = True
        #: Shift the context by ``scale_to_context(gain)``.
        self.scl2ctx = True
        self.scale_to_context = nn.Linear(1, 2 * self.M)

    @classmethod
    def from_state_dict(  # type: ignore[override]
        cls, state_dict: Mapping[str, Tensor]
    ) -> JointAutoregressiveHierarchicalPriorsVbr:
        """Builds the model at the checkpoint's sizes (N from ``g_a.0.weight``, M from
        ``g_a.6.weight``) and loads it.

        Raises:
            ValueError: if the checkpoint is another architecture's, naming the keys.
        """
        sd = {k: v for k, v in state_dict.items() if k != "QuantOffset"}
        net = cls(_out_channels(cls, sd, "g_a.0.weight"), _out_channels(cls, sd, "g_a.6.weight"))
        _load_exactly(net, sd)
        return net

    def _check_recursive(self) -> None:
        if not self.ste_recursive:
            raise ValueError(
                f"{type(self).__name__} supports only ste_recursive=True in stage 2 (as "
                "CompressAI's forward)"
            )

    def _recursive_quantization(
        self, y: Tensor, params: Tensor, scale: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Stage 2's latent: each position quantized at gain ``scale`` from the Gaussian its
        decoded neighbourhood gives, in wavefront order (all positions of a wavefront at
        once), with straight-through gradients. Returns ``(y_hat, y_likelihoods)``."""
        n, m, height, width = y.shape
        k = check_context_prediction(self.context_prediction)
        pad = k // 2
        weight = self.context_prediction.masked_weight()
        bias = self.context_prediction.bias
        rescale = 1.0 / scale.clone().detach()
        shift = None
        if self.scl2ctx:
            shift = self.scale_to_context(scale.view(1, 1)).view(1, -1, 1, 1)
        y_hat = y.new_zeros(n, m, height + 2 * pad, width + 2 * pad)
        likelihoods = y.new_zeros(n, m, height, width)
        taps = torch.arange(k, device=y.device)
        for rows, cols in wavefronts(height, width, pad + 1):
            rows, cols = rows.to(y.device), cols.to(y.device)
            count = rows.numel()
            r = (rows[:, None] + taps)[:, :, None]
            c = (cols[:, None] + taps)[:, None, :]
            crops = y_hat[:, :, r, c].permute(0, 2, 1, 3, 4).reshape(-1, m, k, k)
            context = F.conv2d(crops, weight, bias)
            if shift is not None:
                context = context + shift
            side = params[:, :, rows, cols].permute(0, 2, 1).reshape(-1, params.size(1), 1, 1)
            gaussian = self.entropy_parameters(torch.cat((side, context), dim=1))
            scales, means = gaussian.squeeze(3).squeeze(2).chunk(2, 1)
            values = y[:, :, rows, cols].permute(0, 2, 1).reshape(-1, m)
            _, lik = self.gaussian_conditional(
                ((values - means) * scale)[:, :, None, None], (scales * scale)[:, :, None, None]
            )
            if self.no_quantoffset:
                decoded = quantize_ste((values - means.detach()) * scale) * rescale + means.detach()
            else:
                scaled = (values - means) * scale
                signs = torch.sign(scaled).detach()
                q_abs = quantize_ste(torch.abs(scaled))
                offsets = self._offsets(scales * scale, scale, q_abs)
                decoded = signs * (q_abs + offsets) * rescale + means
            y_hat[:, :, rows + pad, cols + pad] = decoded.reshape(n, count, m).permute(0, 2, 1)
            likelihoods[:, :, rows, cols] = lik.reshape(n, count, m).permute(0, 2, 1)
        return y_hat[:, :, pad : pad + height, pad : pad + width], likelihoods

    def forward(  # type: ignore[override]
        self, x: Tensor, stage: int = 2, s: int = 1, inputscale: Tensor | float = 0
    ) -> ForwardOutput:
        """Reconstructs ``x`` and returns ``{"x_hat", "likelihoods": {"y", "z"}}``; stage 1
        is mbt2018's forward, stage 2 the recursive quantization at gain ``Gain[s]`` (or
        ``inputscale``), as in :meth:`ScaleHyperpriorVbr.forward`."""
        stage = _check_stage(stage)
        if stage == 1:
            return JointAutoregressiveHierarchicalPriors.forward(self, x)
        self._check_images(x)
        self._check_recursive()
        scale = self._get_scale(stage, s, inputscale)
        y = self.g_a(x)
        z_hat, z_likelihoods = self._z_ste(self.h_a(y), scale)
        y_hat, y_likelihoods = self._recursive_quantization(y, self.h_s(z_hat), scale)
        return {"x_hat": self.g_s(y_hat), "likelihoods": {"y": y_likelihoods, "z": z_likelihoods}}

    def _coder(self, scale: Tensor) -> _GainedRasterScanCoder:
        self._check_recursive()
        return _GainedRasterScanCoder(self, scale)

    @torch.no_grad()
    def compress(  # type: ignore[override]
        self,
        x: Tensor,
        stage: int = 2,
        s: int = 1,
        inputscale: Tensor | float = 0,
        *,
        threads: int | None = None,
    ) -> CompressOutput:
        """Codes images ``(N, 3, H, W)`` (H, W multiples of 64) into ``{"strings":
        [y_strings, z_strings], "shape"}``; stage 1 as mbt2018 (the Rust loop), stage 2 at
        rate ``s`` (or gain ``inputscale``) on the torch wavefront loop. ``threads`` applies
        to stage 1. Needs :meth:`update` first."""
        stage = _check_stage(stage)
        if stage == 1:
            return JointAutoregressiveHierarchicalPriors.compress(self, x, threads=threads)
        self._check_images(x)
        scale = self._coding_scale(s, inputscale)
        coder = self._coder(scale)
        y = self.g_a(x)
        z = self.h_a(y)
        z_strings, z_hat = self._code_z(z, stage, scale)
        params = self.h_s(z_hat)
        self._check_latent_sizes(x, y, params)
        y_strings, _ = coder.encode(y, params)
        return {"strings": [y_strings, z_strings], "shape": (int(z.size(2)), int(z.size(3)))}

    @torch.no_grad()
    def decompress(  # type: ignore[override]
        self,
        strings: Strings,
        shape: Sequence[int],
        stage: int = 2,
        s: int = 1,
        inputscale: Tensor | float = 0,
        *,
        threads: int | None = None,
    ) -> DecompressOutput:
        """Decodes the output of :meth:`compress` (same ``stage``, ``s``, ``inputscale``)
        into ``{"x_hat"}``, clamped to [0, 1]."""
        stage = _check_stage(stage)
        if stage == 1:
            return JointAutoregressiveHierarchicalPriors.decompress(
                self, strings, shape, threads=threads
            )
        y_strings, z_strings = self._unpack(strings, 2, shape)
        scale = self._coding_scale(s, inputscale)
        coder = self._coder(scale)
        z_hat = self._decode_z(z_strings, shape, stage, scale)
        y_hat = coder.decode(y_strings, self.h_s(z_hat), latent_channels=self.M)
        return {"x_hat": self._synthesize(y_hat)}
