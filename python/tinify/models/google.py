"""The Ballé–Minnen image codecs: factorized prior, scale and mean-scale hyperpriors, and the
joint autoregressive and hierarchical priors model (mbt2018)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import torch
from torch import Tensor, nn

from tinify.entropy_models import EntropyBottleneck, GaussianConditional
from tinify.latent_codecs import (
    GaussianConditionalLatentCodec,
    HyperLatentCodec,
    HyperpriorLatentCodec,
    LatentCodec,
    RasterScanLatentCodec,
)
from tinify.latent_codecs.base import PRIORS, check_choice, with_prior
from tinify.layers import GDN, MaskedConv2d
from tinify.limits import check_latent_size
from tinify.models.base import (
    SCALES_LEVELS,
    SCALES_MAX,
    SCALES_MIN,
    CompressionModel,
    check_float_images,
    get_scale_table,
)
from tinify.models.utils import conv, deconv, remap_legacy_keys
from tinify.registry import name_of, register
from tinify.typing import CompressOutput, DecompressOutput, ForwardOutput, Strings

# CompressAI's google module also exports the base class and the scale table's helpers.
__all__ = [
    "SCALES_LEVELS",
    "SCALES_MAX",
    "SCALES_MIN",
    "CompressionModel",
    "FactorizedPrior",
    "FactorizedPriorReLU",
    "JointAutoregressiveHierarchicalPriors",
    "MeanScaleHyperprior",
    "ScaleHyperprior",
    "get_scale_table",
]

_Model = TypeVar("_Model", bound="_ImageCodec")

# Buffers whose size depends on update(), not on the architecture: a checkpoint may hold any
# size (CompressionModel.load_state_dict resizes them), so they never count as a mismatch.
_RESIZABLE = ("_quantized_cdf", "_offset", "_cdf_length", "scale_table")


def _describe(cls: type) -> str:
    name = name_of("model", cls)
    return f"{cls.__name__} ({name!r})" if name else cls.__name__


def _listing(keys: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def _analysis(n: int, m: int, activation: Callable[[int], nn.Module]) -> nn.Sequential:
    """Four stride-2 5x5 convolutions, 3 -> N -> N -> N -> M channels, ``activation`` between."""
    return nn.Sequential(
        conv(3, n), activation(n), conv(n, n), activation(n), conv(n, n), activation(n), conv(n, m)
    )


def _synthesis(n: int, m: int, activation: Callable[[int], nn.Module]) -> nn.Sequential:
    """The mirror of :func:`_analysis`: four stride-2 transposed convolutions, M -> ... -> 3."""
    return nn.Sequential(
        deconv(m, n),
        activation(n),
        deconv(n, n),
        activation(n),
        deconv(n, n),
        activation(n),
        deconv(n, 3),
    )


def _gdn(channels: int) -> nn.Module:
    return GDN(channels)


def _igdn(channels: int) -> nn.Module:
    return GDN(channels, inverse=True)


def _relu(channels: int) -> nn.Module:
    return nn.ReLU(inplace=True)


class _ImageCodec(CompressionModel):
    """What the four codecs share: input checks and loading a checkpoint of unknown size."""

    N: int
    M: int
    g_a: nn.Module
    g_s: nn.Module

    def __init__(self, N: int, M: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if int(N) < 1 or int(M) < 1:
            raise ValueError(f"N and M must be positive channel counts, got N={N}, M={M}")
        self.N = int(N)
        self.M = int(M)

    #: Where each part of :attr:`latent_codec` lives on the model: codec path → model
    #: attribute. The attributes are CompressAI's flat modules, so the state_dict keys,
    #: ``named_modules()`` and checkpoints are CompressAI's; the codec is composed over the
    #: same module objects, not registered a second time.
    LATENT_CODEC_KEYS: ClassVar[Mapping[str, str]] = {}

    #: Where ``compress``/``decompress`` compute ``h_s``'s output, the Gaussians' parameters:
    #: ``"torch"`` (CompressAI's floats, so its bytes: the default, and what ``.tfy`` files
    #: of this format version hold) or ``"engine"`` (:mod:`tinify.engine`: encoder and
    #: decoder compute the same scales on every machine). Both ends must use the same one.
    prior: str = "torch"

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "prior":
            check_choice("prior", value, PRIORS)
        if name == "prior" or name in self.LATENT_CODEC_KEYS.values():
            # A part was replaced (a subclass's own h_a, say): compose the codec anew.
            self.__dict__.pop("_latent_codec", None)
        super().__setattr__(name, value)

    @property
    def latent_codec(self) -> LatentCodec:
        """The latent codec this model codes ``y`` with, composed over its modules by
        :meth:`_build_latent_codec` (see :attr:`LATENT_CODEC_KEYS`)."""
        codec = self.__dict__.get("_latent_codec")
        if codec is None:
            codec = self._build_latent_codec()
            self.__dict__["_latent_codec"] = codec
        if codec.training != self.training:
            codec.train(self.training)
        return codec  # type: ignore[no-any-return]

    def __getitem__(self, key: str) -> LatentCodec:
        return self.latent_codec[key]

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> Any:
        # New weights: the codec and what it prepared from the old ones are composed anew.
        self.__dict__.pop("_latent_codec", None)
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def _apply(self, *args: Any, **kwargs: Any) -> Any:
        self.__dict__.pop("_latent_codec", None)
        return super()._apply(*args, **kwargs)

    def __getstate__(self) -> dict[str, Any]:
        # Copies and pickles carry the modules; the codec over them is composed again.
        state = dict(super().__getstate__())
        state.pop("_latent_codec", None)
        return state

    def _build_latent_codec(self) -> LatentCodec:
        raise NotImplementedError(f"{type(self).__name__} codes without a latent codec")

    @classmethod
    def from_state_dict(cls: type[_Model], state_dict: Mapping[str, Tensor]) -> _Model:
        """Builds the model at the size the checkpoint was trained at, and loads it.

        N is read from the first analysis convolution (``g_a.0.weight``) and M from the last
        one (``g_a.6.weight``). Checkpoints of older CompressAI releases load too
        (``module.`` prefixes, ``_matrix0``-style entropy-bottleneck names).

        Raises:
            ValueError: if the checkpoint is another architecture's (missing or unexpected
                keys, or tensors of the wrong shape), naming the keys at fault.
        """
        net = cls(
            _out_channels(cls, state_dict, "g_a.0.weight"),
            _out_channels(cls, state_dict, "g_a.6.weight"),
        )
        _load_exactly(net, state_dict)
        return net

    def _check_images(self, x: Tensor) -> None:
        check_float_images(x, type(self).__name__)
        if x.dim() != 4 or x.size(1) != 3:
            raise ValueError(
                f"{type(self).__name__} expects a batch of RGB images of shape (N, 3, H, W), "
                f"got shape {tuple(x.shape)}"
            )

    def _unpack(self, strings: Strings, count: int, shape: Sequence[int]) -> list[list[bytes]]:
        def is_stream_list(s: object) -> bool:
            return isinstance(s, list | tuple) and all(isinstance(b, bytes) for b in s)

        got = None
        if not isinstance(strings, list | tuple):
            got = f"a {type(strings).__name__}"
        elif len(strings) != count:
            got = f"{len(strings)} items"
        if got is not None:
            raise ValueError(
                f"{type(self).__name__}.decompress expects `strings` as a list of {count} "
                f"list(s) of bytes (what compress() returns), got {got}"
            )
        if not all(is_stream_list(s) for s in strings):
            raise ValueError(
                f"{type(self).__name__}.decompress expects each item of `strings` to be a list "
                "of bytes, one per image"
            )
        check_latent_size(shape, ndim=2, what="shape", strings=strings)
        return [list(s) for s in strings]


def _out_channels(cls: type, state_dict: Mapping[str, Tensor], key: str) -> int:
    weight = state_dict.get(key, state_dict.get(f"module.{key}"))
    if weight is None or weight.dim() != 4:
        found = "no such key" if weight is None else f"shape {tuple(weight.shape)}"
        raise ValueError(
            f"the state_dict is not a {_describe(cls)} checkpoint: expected a 4-D convolution "
            f"weight {key!r}, found {found}"
        )
    return int(weight.size(0))


def _load_exactly(net: _ImageCodec, state_dict: Mapping[str, Tensor]) -> None:
    """``net.load_state_dict(state_dict)``, with a ValueError naming the keys when the
    checkpoint belongs to another architecture."""
    expected = net.state_dict()
    given = remap_legacy_keys(state_dict, expected.keys())
    missing = [k for k in expected if k not in given]
    unexpected = [k for k in given if k not in expected]
    mismatched = [
        f"{k} {tuple(given[k].shape)} (expected {tuple(v.shape)})"
        for k, v in expected.items()
        if k in given and given[k].shape != v.shape and not k.endswith(_RESIZABLE)
    ]
    if missing or unexpected or mismatched:
        problems = [
            f"{label}: {_listing(keys)}"
            for label, keys in (
                ("missing keys", missing),
                ("unexpected keys", unexpected),
                ("wrong shapes", mismatched),
            )
            if keys
        ]
        raise ValueError(
            f"the state_dict is not a {_describe(type(net))} checkpoint of N={net.N}, "
            f"M={net.M}; " + "; ".join(problems)
        )
    net.load_state_dict(given, strict=True)


@register("model", "bmshj2018-factorized")
class FactorizedPrior(_ImageCodec):
    r"""Image codec whose latent is coded with a learned factorized density (an entropy
    bottleneck), without side information.

    From `"End-to-end Optimized Image Compression" <https://arxiv.org/abs/1611.01704>`_,
    J. Ballé, V. Laparra and E.P. Simoncelli, ICLR 2017 (with the entropy bottleneck of
    `"Variational Image Compression with a Scale Hyperprior"
    <https://arxiv.org/abs/1802.01436>`_, ICLR 2018). The transforms are four 5x5 stride-2
    convolutions each way, with GDN between them in the analysis and inverse GDN in the
    synthesis.

    .. code-block:: none

                  ┌───┐    y
            x ──►─┤g_a├──►─┐
                  └───┘    │
                         ┌─┴─┐
                         │ Q │
                         └─┬─┘
                     y_hat ▼
                           ·
                        EB :     EB = entropy bottleneck
                           ·
                     y_hat ▼
                  ┌───┐    │
        x_hat ──◄─┤g_s├────┘
                  └───┘

    ``compress`` returns ``{"strings": [y_strings], "shape": (h, w)}``, the latent's size; any
    image size works, and ``downsampling_factor`` is 16.

    Args:
        N: channels of the hidden layers of both transforms, >= 1 (128 or 192 in the zoo).
        M: channels of the latent ``y``, >= 1 (192 or 320 in the zoo).
    """

    def __init__(self, N: int, M: int, **kwargs: Any) -> None:
        super().__init__(N, M, **kwargs)
        self.entropy_bottleneck = EntropyBottleneck(self.M)
        self.g_a = self._analysis_transform(self.N, self.M)
        self.g_s = self._synthesis_transform(self.N, self.M)

    @staticmethod
    def _analysis_transform(n: int, m: int) -> nn.Module:
        return _analysis(n, m, _gdn)

    @staticmethod
    def _synthesis_transform(n: int, m: int) -> nn.Module:
        return _synthesis(n, m, _igdn)

    @property
    def downsampling_factor(self) -> int:
        """16: four stride-2 convolutions."""
        return 2**4

    def forward(self, x: Tensor) -> ForwardOutput:
        """Reconstructs ``x`` through the quantized (or, in training, noisy) latent and returns
        ``{"x_hat", "likelihoods": {"y"}}``."""
        self._check_images(x)
        y_hat, y_likelihoods = self.entropy_bottleneck(self.g_a(x))
        return {"x_hat": self.g_s(y_hat), "likelihoods": {"y": y_likelihoods}}

    def compress(self, x: Tensor, *, rate: int | None = None) -> CompressOutput:
        """Codes images ``(N, 3, H, W)`` into ``{"strings": [y_strings], "shape"}``, one byte
        string per image. Needs :meth:`update` first."""
        self._check_images(x)
        self._rate(rate)
        y = self.g_a(x)
        return {
            "strings": [self.entropy_bottleneck.compress(y)],
            "shape": (int(y.size(2)), int(y.size(3))),
        }

    def decompress(
        self, strings: Strings, shape: Sequence[int], *, rate: int | None = None
    ) -> DecompressOutput:
        """Decodes the output of :meth:`compress` into ``{"x_hat"}``, clamped to [0, 1]."""
        self._rate(rate)
        (y_strings,) = self._unpack(strings, 1, shape)
        y_hat = self.entropy_bottleneck.decompress(y_strings, shape)
        return {"x_hat": self._synthesize(y_hat)}


@register("model", "bmshj2018-factorized-relu")
class FactorizedPriorReLU(FactorizedPrior):
    r""":class:`FactorizedPrior` with ReLU in place of GDN and inverse GDN in the transforms.

    The architecture of `"End-to-end Optimized Image Compression"
    <https://arxiv.org/abs/1611.01704>`_, J. Ballé, V. Laparra and E.P. Simoncelli, ICLR 2017,
    with a pointwise ReLU as the nonlinearity. Same dataflow, strings and state_dict layout as
    :class:`FactorizedPrior`, less the GDN parameters.

    .. code-block:: none

                  ┌───┐    y
            x ──►─┤g_a├──►─┐      g_a, g_s: convolutions with ReLU between them
                  └───┘    │
                         ┌─┴─┐
                         │ Q │
                         └─┬─┘
                     y_hat ▼
                           ·
                        EB :     EB = entropy bottleneck
                           ·
                     y_hat ▼
                  ┌───┐    │
        x_hat ──◄─┤g_s├────┘
                  └───┘

    It is registered as ``"bmshj2018-factorized-relu"``. (CompressAI's zoo function of that
    name builds a GDN :class:`FactorizedPrior` instead, a known defect.)

    Args:
        N: channels of the hidden layers of both transforms, >= 1.
        M: channels of the latent ``y``, >= 1.
    """

    @staticmethod
    def _analysis_transform(n: int, m: int) -> nn.Module:
        return _analysis(n, m, _relu)

    @staticmethod
    def _synthesis_transform(n: int, m: int) -> nn.Module:
        return _synthesis(n, m, _relu)


@register("model", "bmshj2018-hyperprior")
class ScaleHyperprior(_ImageCodec):
    r"""Image codec whose latent is coded with zero-mean Gaussians, their scales predicted
    from a hyper-latent ``z`` sent first as side information.

    From `"Variational Image Compression with a Scale Hyperprior"
    <https://arxiv.org/abs/1802.01436>`_, J. Ballé, D. Minnen, S. Singh, S.J. Hwang and
    N. Johnston, ICLR 2018. ``g_a``/``g_s`` are the GDN transforms of :class:`FactorizedPrior`;
    the hyper analysis ``h_a`` sees ``|y|`` and the hyper synthesis ``h_s`` ends with a ReLU,
    so the predicted scales are non-negative.

    .. code-block:: none

                  ┌───┐    y     ┌───┐  z  ┌───┐ z_hat      z_hat ┌───┐
            x ──►─┤g_a├──►─┬──►──┤h_a├──►──┤ Q ├───►───·⋯⋯·───►───┤h_s├─┐
                  └───┘    │     └───┘     └───┘        EB        └───┘ │
                         ┌─┴─┐                                          │
                         │ Q │                                          │
                         └─┬─┘                                          │
                     y_hat ▼                                            │
                           ·                                            │
                        GC : ◄──────────────────◄───────────────────────┘
                           ·                scales_hat
                     y_hat ▼
                  ┌───┐    │              EB = entropy bottleneck
        x_hat ──◄─┤g_s├────┘              GC = Gaussian conditional
                  └───┘

    ``compress`` returns ``{"strings": [y_strings, z_strings], "shape": (h, w)}``, the
    hyper-latent's size. The decoder rebuilds ``y``'s size as four times ``z``'s, so image
    sizes must make it so: pad images to a multiple of ``downsampling_factor`` (64).

    Args:
        N: channels of the transforms' hidden layers and of ``z``, >= 1 (128 or 192 in the
            zoo).
        M: channels of the latent ``y``, >= 1 (192 or 320 in the zoo).
    """

    def __init__(self, N: int, M: int, **kwargs: Any) -> None:
        super().__init__(N, M, **kwargs)
        self.entropy_bottleneck = EntropyBottleneck(self.N)
        self.g_a = _analysis(self.N, self.M, _gdn)
        self.g_s = _synthesis(self.N, self.M, _igdn)
        self.h_a = self._hyper_analysis(self.N, self.M)
        self.h_s = self._hyper_synthesis(self.N, self.M)
        self.gaussian_conditional = GaussianConditional(None)

    @staticmethod
    def _hyper_analysis(n: int, m: int) -> nn.Module:
        return nn.Sequential(
            conv(m, n, kernel_size=3, stride=1),
            nn.ReLU(inplace=True),
            conv(n, n),
            nn.ReLU(inplace=True),
            conv(n, n),
        )

    @staticmethod
    def _hyper_synthesis(n: int, m: int) -> nn.Module:
        return nn.Sequential(
            deconv(n, n),
            nn.ReLU(inplace=True),
            deconv(n, n),
            nn.ReLU(inplace=True),
            conv(n, m, kernel_size=3, stride=1),
            nn.ReLU(inplace=True),
        )

    @property
    def downsampling_factor(self) -> int:
        """64: four stride-2 convolutions to ``y``, two more to ``z``."""
        return 2 ** (4 + 2)

    #: Spatial factor between ``y`` and ``z``: ``h_s`` rebuilds ``y``'s size as this many
    #: times ``z``'s.
    HYPER_FACTOR = 2**2

    LATENT_CODEC_KEYS: ClassVar[Mapping[str, str]] = {
        "y.gaussian_conditional": "gaussian_conditional",
        "hyper.entropy_bottleneck": "entropy_bottleneck",
        "hyper.h_a.transform": "h_a",
        "hyper.h_s": "h_s",
    }

    def _build_latent_codec(self) -> LatentCodec:
        """``HyperpriorLatentCodec(y: GaussianConditionalLatentCodec, hyper:
        HyperLatentCodec)``; ``h_a`` sees ``|y|``, ``h_s`` gives the scales."""
        return HyperpriorLatentCodec(
            {
                "y": GaussianConditionalLatentCodec(
                    gaussian_conditional=self.gaussian_conditional, chunks=("scales",)
                ),
                "hyper": with_prior(
                    HyperLatentCodec(self.entropy_bottleneck, AbsInput(self.h_a), self.h_s),
                    self.prior,
                ),
            }
        )

    def _hyper_input(self, y: Tensor) -> Tensor:
        return torch.abs(y)

    def _gaussian_params(self, z_hat: Tensor) -> tuple[Tensor, Tensor | None]:
        """The scales (and means, in subclasses) of ``y``'s Gaussians."""
        return self.h_s(z_hat), None

    def forward(self, x: Tensor) -> ForwardOutput:
        """Reconstructs ``x`` through the quantized (or, in training, noisy) latents and
        returns ``{"x_hat", "likelihoods": {"y", "z"}}``."""
        self._check_images(x)
        out = self.latent_codec(self.g_a(x))
        return {"x_hat": self.g_s(out["y_hat"]), "likelihoods": out["likelihoods"]}

    def compress(self, x: Tensor, *, rate: int | None = None, **kwargs: Any) -> CompressOutput:
        """Codes images ``(N, 3, H, W)`` into ``{"strings": [y_strings, z_strings], "shape"}``,
        one byte string per image and latent. Needs :meth:`update` first. ``kwargs`` go to the
        latent codec for ``y``."""
        self._check_images(x)
        self._rate(rate)
        y = self.g_a(x)
        self._check_latent(x, y)
        out = self.latent_codec.compress(y, **kwargs)
        return {"strings": out["strings"], "shape": tuple(out["shape"]["hyper"])}

    def decompress(
        self, strings: Strings, shape: Sequence[int], *, rate: int | None = None, **kwargs: Any
    ) -> DecompressOutput:
        """Decodes the output of :meth:`compress` into ``{"x_hat"}``, clamped to [0, 1]."""
        self._rate(rate)
        strings = self._unpack(strings, 2, shape)
        y_hat = self.latent_codec.decompress(strings, self._shapes(shape), **kwargs)["y_hat"]
        return {"x_hat": self._synthesize(y_hat)}

    def _shapes(self, shape: Sequence[int]) -> dict[str, tuple[int, ...]]:
        """The hyperprior codec's shapes from CompressAI's ``shape``, ``z``'s size."""
        z_shape = tuple(int(s) for s in shape)
        return {"y": tuple(s * self.HYPER_FACTOR for s in z_shape), "hyper": z_shape}

    def _check_latent(self, x: Tensor, y: Tensor) -> None:
        """Raises ValueError unless a decoder rebuilds ``y``'s size from ``z``'s."""
        if y.size(2) % self.HYPER_FACTOR or y.size(3) % self.HYPER_FACTOR:
            f = self.HYPER_FACTOR
            raise ValueError(
                f"{type(self).__name__} cannot code a {x.size(2)}x{x.size(3)} image: its "
                f"latent is {y.size(2)}x{y.size(3)} but a decoder would rebuild "
                f"{-(-y.size(2) // f) * f}x{-(-y.size(3) // f) * f} from the hyper-latent; pad "
                f"images to a multiple of {self.downsampling_factor} "
                "(tinify.ops.compute_padding)"
            )


class AbsInput(nn.Module):
    """``transform(|x|)``: ScaleHyperprior's ``h_a`` as its hyper codec sees it."""

    def __init__(self, transform: nn.Module) -> None:
        super().__init__()
        self.transform = transform

    def forward(self, x: Tensor) -> Tensor:
        return self.transform(torch.abs(x))


@register("model", "mbt2018-mean")
class MeanScaleHyperprior(ScaleHyperprior):
    r""":class:`ScaleHyperprior` whose Gaussians also have predicted means.

    From `"Joint Autoregressive and Hierarchical Priors for Learned Image Compression"
    <https://arxiv.org/abs/1809.02736>`_, D. Minnen, J. Ballé and G.D. Toderici, NeurIPS 2018
    (its hyperprior-only model). ``h_a`` sees ``y`` itself; ``h_s`` widens to ``2M`` channels,
    split into scales (the first ``M``) and means. Both use LeakyReLU.

    .. code-block:: none

                  ┌───┐    y     ┌───┐  z  ┌───┐ z_hat      z_hat ┌───┐
            x ──►─┤g_a├──►─┬──►──┤h_a├──►──┤ Q ├───►───·⋯⋯·───►───┤h_s├─┐
                  └───┘    │     └───┘     └───┘        EB        └───┘ │
                         ┌─┴─┐                                          │
                         │ Q │                                          │
                         └─┬─┘                                          │
                     y_hat ▼                                            │
                           ·                                            │
                        GC : ◄──────────────────◄───────────────────────┘
                           ·                scales_hat
                     y_hat ▼                means_hat
                  ┌───┐    │              EB = entropy bottleneck
        x_hat ──◄─┤g_s├────┘              GC = Gaussian conditional
                  └───┘

    Strings, shapes and padding are as in :class:`ScaleHyperprior`.

    Args:
        N: channels of the transforms' hidden layers and of ``z``, >= 1 (128 or 192 in the
            zoo).
        M: channels of the latent ``y``, >= 1 (192 or 320 in the zoo).
    """

    @staticmethod
    def _hyper_analysis(n: int, m: int) -> nn.Module:
        return nn.Sequential(
            conv(m, n, kernel_size=3, stride=1),
            nn.LeakyReLU(inplace=True),
            conv(n, n),
            nn.LeakyReLU(inplace=True),
            conv(n, n),
        )

    @staticmethod
    def _hyper_synthesis(n: int, m: int) -> nn.Module:
        return nn.Sequential(
            deconv(n, m),
            nn.LeakyReLU(inplace=True),
            deconv(m, m * 3 // 2),
            nn.LeakyReLU(inplace=True),
            conv(m * 3 // 2, m * 2, kernel_size=3, stride=1),
        )

    LATENT_CODEC_KEYS: ClassVar[Mapping[str, str]] = {
        "y.gaussian_conditional": "gaussian_conditional",
        "hyper.entropy_bottleneck": "entropy_bottleneck",
        "hyper.h_a": "h_a",
        "hyper.h_s": "h_s",
    }

    def _build_latent_codec(self) -> LatentCodec:
        """``HyperpriorLatentCodec(y: GaussianConditionalLatentCodec, hyper:
        HyperLatentCodec)``; ``h_s`` gives the scales, then the means."""
        return HyperpriorLatentCodec(
            {
                "y": GaussianConditionalLatentCodec(
                    gaussian_conditional=self.gaussian_conditional, chunks=("scales", "means")
                ),
                "hyper": with_prior(
                    HyperLatentCodec(self.entropy_bottleneck, self.h_a, self.h_s),
                    self.prior,
                ),
            }
        )

    def _hyper_input(self, y: Tensor) -> Tensor:
        return y

    def _gaussian_params(self, z_hat: Tensor) -> tuple[Tensor, Tensor | None]:
        scales_hat, means_hat = self.h_s(z_hat).chunk(2, 1)
        return scales_hat, means_hat


@register("model", "mbt2018")
class JointAutoregressiveHierarchicalPriors(MeanScaleHyperprior):
    r""":class:`MeanScaleHyperprior` whose Gaussians also depend on the already-decoded
    neighbourhood of each latent position (an autoregressive context model).

    From `"Joint Autoregressive and Hierarchical Priors for Learned Image Compression"
    <https://arxiv.org/abs/1809.02736>`_, D. Minnen, J. Ballé and G.D. Toderici, NeurIPS 2018.
    A 5x5 masked convolution (CP) over ``y_hat`` gives the context; a pointwise network (EP)
    maps ``cat(params, context)`` to the scales and means.

    .. code-block:: none

                  ┌───┐    y     ┌───┐  z  ┌───┐ z_hat      z_hat ┌───┐
            x ──►─┤g_a├──►─┬──►──┤h_a├──►──┤ Q ├───►───·⋯⋯·───►───┤h_s├─┐
                  └───┘    │     └───┘     └───┘        EB        └───┘ │
                           ▼                                            │
                         ┌─┴─┐                                          │
                         │ Q │                                   params ▼
                         └─┬─┘                                          │
                     y_hat ▼                  ┌─────┐                   │
                           ├──────────►───────┤  CP ├────────►──────────┤
                           │                  └─────┘                   │
                           ▼                                            ▼
                           │                                            │
                           ·                  ┌─────┐                   │
                        GC : ◄────────◄───────┤  EP ├────────◄──────────┘
                           ·     scales_hat   └─────┘
                           │      means_hat
                     y_hat ▼
                           │
                  ┌───┐    │
        x_hat ──◄─┤g_s├────┘
                  └───┘

        EB = Entropy bottleneck
        GC = Gaussian conditional
        EP = Entropy parameters network
        CP = Context prediction (masked convolution)

    Decoding is serial, one latent position after another. CompressAI runs that loop in
    Python (seconds per image); here :mod:`tinify.autoregressive` runs it in Rust, encoder and
    decoder alike, in wavefront order: tinify's ``y`` strings are not CompressAI's (its raster
    order cannot be decoded bit-exactly elsewhere anyway), while the weights, forward pass and
    rate are the same. ``compress`` returns ``{"strings": [y_strings, z_strings], "shape":
    (h, w)}``; images must be padded to a multiple of 64.

    Args:
        N: channels of the transforms' hidden layers and of ``z``, >= 1 (192 in the zoo).
        M: channels of the latent ``y``, >= 1 (192 or 320 in the zoo).
    """

    def __init__(self, N: int = 192, M: int = 192, **kwargs: Any) -> None:
        super().__init__(N, M, **kwargs)
        m = self.M
        self.entropy_parameters = nn.Sequential(
            nn.Conv2d(m * 12 // 3, m * 10 // 3, 1),
            nn.LeakyReLU(inplace=True),
            nn.Conv2d(m * 10 // 3, m * 8 // 3, 1),
            nn.LeakyReLU(inplace=True),
            nn.Conv2d(m * 8 // 3, m * 6 // 3, 1),
        )
        self.context_prediction = MaskedConv2d(m, 2 * m, kernel_size=5, padding=2, stride=1)

    LATENT_CODEC_KEYS: ClassVar[Mapping[str, str]] = {
        "y.gaussian_conditional": "gaussian_conditional",
        "y.entropy_parameters": "entropy_parameters",
        "y.context_prediction": "context_prediction",
        "hyper.entropy_bottleneck": "entropy_bottleneck",
        "hyper.h_a": "h_a",
        "hyper.h_s": "h_s",
    }

    def _build_latent_codec(self) -> LatentCodec:
        """``HyperpriorLatentCodec(y: RasterScanLatentCodec, hyper: HyperLatentCodec)``."""
        return HyperpriorLatentCodec(
            {
                "y": RasterScanLatentCodec(
                    self.gaussian_conditional, self.entropy_parameters, self.context_prediction
                ),
                "hyper": with_prior(
                    HyperLatentCodec(self.entropy_bottleneck, self.h_a, self.h_s),
                    self.prior,
                ),
            }
        )

    def forward(self, x: Tensor) -> ForwardOutput:
        """Reconstructs ``x`` and returns ``{"x_hat", "likelihoods": {"y", "z"}}``; the context
        comes from ``y`` quantized without means (noise in training)."""
        return super().forward(x)

    @torch.no_grad()
    def compress(
        self, x: Tensor, *, rate: int | None = None, threads: int | None = None
    ) -> CompressOutput:
        """Codes images ``(N, 3, H, W)``, H and W multiples of 64, into ``{"strings": [y_strings,
        z_strings], "shape"}``. Images are coded in parallel on ``threads`` threads (default:
        one per core); the output never depends on it. Needs :meth:`update` first."""
        return super().compress(x, rate=rate, threads=threads)

    @torch.no_grad()
    def decompress(
        self,
        strings: Strings,
        shape: Sequence[int],
        *,
        rate: int | None = None,
        threads: int | None = None,
    ) -> DecompressOutput:
        """Decodes the output of :meth:`compress` into ``{"x_hat"}``, clamped to [0, 1]."""
        return super().decompress(strings, shape, rate=rate, threads=threads)

    def _y_codec(self) -> RasterScanLatentCodec:
        """The raster-scan codec of ``y`` (``self["y"]``)."""
        return self.latent_codec["y"]  # type: ignore[return-value]
