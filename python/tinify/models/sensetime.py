"""Checkerboard and ELIC models (SenseTime's context models), built from latent codecs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from tinify import registry
from tinify.entropy_models import EntropyBottleneck
from tinify.latent_codecs import (
    ChannelGroupsLatentCodec,
    CheckerboardLatentCodec,
    GaussianConditionalLatentCodec,
    HyperLatentCodec,
    HyperpriorLatentCodec,
)
from tinify.layers import (
    AttentionBlock,
    CheckerboardMaskedConv2d,
    ResidualBottleneckBlock,
    conv1x1,
    sequential_channel_ramp,
)
from tinify.models import waseda
from tinify.models.base import SimpleVAECompressionModel
from tinify.models.utils import conv, deconv

__all__ = [
    "Cheng2020AnchorCheckerboard",
    "Elic2022Chandelier",
    "Elic2022Official",
    "FirstAndLatestChannelGroupsLatentCodec",
]


@registry.register("model", "cheng2020-anchor-checkerboard")
class Cheng2020AnchorCheckerboard(SimpleVAECompressionModel):
    """Cheng2020 anchor model with checkerboard context model.

    Base transform model from [Cheng2020]. Context model from [He2021].

    [Cheng2020]: `"Learned Image Compression with Discretized Gaussian Mixture Likelihoods and
    Attention Modules" <https://arxiv.org/abs/2001.01568>`_, by Zhengxue Cheng, Heming Sun,
    Masaru Takeuchi, and Jiro Katto, CVPR 2020.

    [He2021]: `"Checkerboard Context Model for Efficient Learned Image Compression"
    <https://arxiv.org/abs/2103.15306>`_, by Dailan He, Yaoyan Zheng, Baocheng Sun, Yan Wang,
    and Hongwei Qin, CVPR 2021.

    Uses residual blocks with small convolutions (3x3 and 1x1), and sub-pixel convolutions for
    up-sampling. The latent ``y`` (``N`` channels, 1/16 of the image size) is coded by a
    hyperprior whose ``y`` codec is a :class:`~tinify.latent_codecs.CheckerboardLatentCodec`:

    .. code-block:: none

        HyperpriorLatentCodec
        ├── y: CheckerboardLatentCodec
        │      ├── context_prediction: CheckerboardMaskedConv2d(N, 2N, 5x5)
        │      ├── entropy_parameters: 1x1 convs 4N → 10N/3 → 8N/3 → 2N
        │      └── y: GaussianConditionalLatentCodec(quantizer="ste")
        └── hyper: HyperLatentCodec(EntropyBottleneck(N), h_a, h_s, quantizer="ste")

    ``compress`` returns the strings ``[anchors, non_anchors, z]`` and the shape
    ``{"y": (N, H, W), "hyper": (h, w)}``; the image sides should be multiples of 64.

    Args:
        N: number of channels of the transforms and of the latent.
        **kwargs: arguments of :class:`~tinify.models.CompressionModel`.
    """

    def __init__(self, N: int = 192, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.g_a = waseda.analysis_transform(N)
        self.g_s = waseda.synthesis_transform(N)
        h_a = waseda.hyper_analysis(N)
        h_s = waseda.hyper_synthesis(N)
        self.latent_codec = HyperpriorLatentCodec(
            latent_codec={
                "y": CheckerboardLatentCodec(
                    latent_codec={"y": GaussianConditionalLatentCodec(quantizer="ste")},
                    # Input: spatial context (2N) and hyper params (2N).
                    entropy_parameters=nn.Sequential(
                        nn.Conv2d(N * 12 // 3, N * 10 // 3, 1),
                        nn.LeakyReLU(inplace=True),
                        nn.Conv2d(N * 10 // 3, N * 8 // 3, 1),
                        nn.LeakyReLU(inplace=True),
                        nn.Conv2d(N * 8 // 3, N * 6 // 3, 1),
                    ),
                    context_prediction=CheckerboardMaskedConv2d(
                        N, 2 * N, kernel_size=5, stride=1, padding=2
                    ),
                ),
                "hyper": HyperLatentCodec(
                    entropy_bottleneck=EntropyBottleneck(N),
                    h_a=h_a,
                    h_s=h_s,
                    quantizer="ste",
                ),
            },
        )

    @property
    def downsampling_factor(self) -> int:
        """64: four stride-2 stages to ``y``, two more to ``z``."""
        return 2 ** (4 + 2)

    @classmethod
    def from_state_dict(cls, state_dict: Mapping[str, Tensor]) -> Cheng2020AnchorCheckerboard:
        """A model of the state_dict's size, with its weights."""
        net = cls(N=state_dict["g_a.0.conv1.weight"].size(0))
        net.load_state_dict(state_dict)
        return net


def _elic_groups(groups: Sequence[int] | None, M: int) -> list[int]:
    groups = [16, 16, 32, 64, M - 128] if groups is None else [int(g) for g in groups]
    if any(g < 1 for g in groups) or sum(groups) != M:
        raise ValueError(f"`groups` must be positive and sum to M={M}, got {groups}")
    return groups


def _elic_g_a(N: int, M: int) -> nn.Sequential:
    return nn.Sequential(
        conv(3, N, kernel_size=5, stride=2),
        *(ResidualBottleneckBlock(N, N) for _ in range(3)),
        conv(N, N, kernel_size=5, stride=2),
        *(ResidualBottleneckBlock(N, N) for _ in range(3)),
        AttentionBlock(N),
        conv(N, N, kernel_size=5, stride=2),
        *(ResidualBottleneckBlock(N, N) for _ in range(3)),
        conv(N, M, kernel_size=5, stride=2),
        AttentionBlock(M),
    )


def _elic_g_s(N: int, M: int) -> nn.Sequential:
    return nn.Sequential(
        AttentionBlock(M),
        deconv(M, N, kernel_size=5, stride=2),
        *(ResidualBottleneckBlock(N, N) for _ in range(3)),
        deconv(N, N, kernel_size=5, stride=2),
        AttentionBlock(N),
        *(ResidualBottleneckBlock(N, N) for _ in range(3)),
        deconv(N, N, kernel_size=5, stride=2),
        *(ResidualBottleneckBlock(N, N) for _ in range(3)),
        deconv(N, 3, kernel_size=5, stride=2),
    )


def _elic_h_a(N: int, M: int) -> nn.Sequential:
    return nn.Sequential(
        conv(M, N, kernel_size=3, stride=1),
        nn.ReLU(inplace=True),
        conv(N, N, kernel_size=5, stride=2),
        nn.ReLU(inplace=True),
        conv(N, N, kernel_size=5, stride=2),
    )


def _channel_context(in_ch: int, out_ch: int) -> nn.Sequential:
    """ELIC's g_ch: three 5x5 convolutions from the decoded groups to a group's context."""
    return nn.Sequential(
        conv(in_ch, 224, kernel_size=5, stride=1),
        nn.ReLU(inplace=True),
        conv(224, 128, kernel_size=5, stride=1),
        nn.ReLU(inplace=True),
        conv(128, out_ch, kernel_size=5, stride=1),
    )


def _space_channel_codec(
    group: int, param_aggregation: nn.Module, chunks: tuple[str, ...]
) -> CheckerboardLatentCodec:
    """ELIC's space-channel context model (SCCTX) for one group: a checkerboard spatial
    context (g_sp) whose parameters are aggregated with the channel context and hyper params
    computed outside it."""
    return CheckerboardLatentCodec(
        latent_codec={"y": GaussianConditionalLatentCodec(quantizer="ste", chunks=chunks)},
        context_prediction=CheckerboardMaskedConv2d(
            group, group * 2, kernel_size=5, stride=1, padding=2
        ),
        entropy_parameters=param_aggregation,
    )


def _elic_groups_from_state_dict(state_dict: Mapping[str, Tensor]) -> list[int]:
    prefix = "latent_codec.y.latent_codec.y{}.context_prediction.weight"
    groups: list[int] = []
    while prefix.format(len(groups)) in state_dict:
        groups.append(int(state_dict[prefix.format(len(groups))].size(1)))
    return groups


def _elic_latent_codec(
    groups_codec: type[ChannelGroupsLatentCodec],
    groups: list[int],
    channel_context: dict[str, nn.Module],
    param_aggregation: list[nn.Module],
    chunks: tuple[str, str],
    N: int,
    h_a: nn.Module,
    h_s: nn.Module,
) -> HyperpriorLatentCodec:
    """ELIC's latent codec: a hyperprior whose y is coded in channel groups, each group by a
    checkerboard codec."""
    return HyperpriorLatentCodec(
        latent_codec={
            "y": groups_codec(
                groups=groups,
                channel_context=channel_context,
                latent_codec={
                    f"y{k}": _space_channel_codec(g, param_aggregation[k], chunks)
                    for k, g in enumerate(groups)
                },
            ),
            "hyper": HyperLatentCodec(
                entropy_bottleneck=EntropyBottleneck(N), h_a=h_a, h_s=h_s, quantizer="ste"
            ),
        },
    )


class _Elic(SimpleVAECompressionModel):
    """What the two ELIC models share: their sizes, read back from a state_dict."""

    @property
    def downsampling_factor(self) -> int:
        """64: four stride-2 stages to ``y``, two more to ``z``."""
        return 2 ** (4 + 2)

    groups: list[int]

    @classmethod
    def from_state_dict(cls, state_dict: Mapping[str, Tensor]) -> Any:
        """A model of the state_dict's sizes (``N``, ``M`` and groups), with its weights."""
        groups = _elic_groups_from_state_dict(state_dict)
        net = cls(N=state_dict["g_a.0.weight"].size(0), M=sum(groups), groups=groups)
        net.load_state_dict(state_dict)
        return net


@registry.register("model", "elic2022-official")
class Elic2022Official(_Elic):
    """ELIC 2022; uneven channel groups with checkerboard spatial context.

    Context model from [He2022]. Based on modified attention model architecture from
    [Cheng2020].

    [He2022]: `"ELIC: Efficient Learned Image Compression with Unevenly Grouped Space-Channel
    Contextual Adaptive Coding" <https://arxiv.org/abs/2203.10886>`_, by Dailan He, Ziming
    Yang, Weikun Peng, Rui Ma, Hongwei Qin, and Yan Wang, CVPR 2022.

    [Cheng2020]: `"Learned Image Compression with Discretized Gaussian Mixture Likelihoods and
    Attention Modules" <https://arxiv.org/abs/2001.01568>`_, by Zhengxue Cheng, Heming Sun,
    Masaru Takeuchi, and Jiro Katto, CVPR 2020.

    The latent is split into uneven channel groups, each coded with a checkerboard spatial
    context, the channel context of all groups decoded before it, and the hyper params:

    .. code-block:: none

        HyperpriorLatentCodec
        ├── y: ChannelGroupsLatentCodec(groups)
        │      ├── channel_context["y{k}"]: 5x5 convs Σ groups[:k] → 224 → 128 → 2 groups[k]
        │      └── latent_codec["y{k}"]: CheckerboardLatentCodec
        │             ├── context_prediction: CheckerboardMaskedConv2d(g, 2g, 5x5)
        │             ├── entropy_parameters: 1x1 ramp (2g [+ 2g] + 2N) → 2g, ReLU
        │             └── y: GaussianConditionalLatentCodec(quantizer="ste")
        └── hyper: HyperLatentCodec(EntropyBottleneck(N), h_a, h_s, quantizer="ste")

    ``compress`` returns two strings per group (anchors, non-anchors) and then ``z``; the
    shape is ``{"y": [(g_k, H, W) per group], "hyper": (h, w)}``. Image sides should be
    multiples of 64.

    Args:
        N: channels of the transforms and of ``z``.
        M: channels of the latent ``y``.
        groups: channel counts of the groups, summing to ``M`` (default
            ``[16, 16, 32, 64, M - 128]``, the paper's).
        **kwargs: arguments of :class:`~tinify.models.CompressionModel`.
    """

    def __init__(
        self, N: int = 192, M: int = 320, groups: Sequence[int] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.groups = _elic_groups(groups, M)
        self.g_a = _elic_g_a(N, M)
        self.g_s = _elic_g_s(N, M)
        h_a = _elic_h_a(N, M)
        h_s = nn.Sequential(
            deconv(N, N, kernel_size=5, stride=2),
            nn.ReLU(inplace=True),
            deconv(N, N * 3 // 2, kernel_size=5, stride=2),
            nn.ReLU(inplace=True),
            deconv(N * 3 // 2, N * 2, kernel_size=3, stride=1),
        )
        # [He2022]'s g_ch^(k): all groups decoded so far → group k's channel context.
        channel_context = {
            f"y{k}": _channel_context(sum(self.groups[:k]), self.groups[k] * 2)
            for k in range(1, len(self.groups))
        }
        # [He2022]'s "Param Aggregation" of spatial context, channel context and hyper params.
        param_aggregation = [
            sequential_channel_ramp(
                g * 2 + (k > 0) * g * 2 + N * 2,
                g * 2,
                min_ch=N * 2,
                num_layers=3,
                interp="linear",
                make_layer=nn.Conv2d,
                make_act=lambda: nn.ReLU(inplace=True),
                kernel_size=1,
                stride=1,
                padding=0,
            )
            for k, g in enumerate(self.groups)
        ]
        self.latent_codec = _elic_latent_codec(
            ChannelGroupsLatentCodec,
            self.groups,
            channel_context,
            param_aggregation,
            chunks=("scales", "means"),
            N=N,
            h_a=h_a,
            h_s=h_s,
        )


class FirstAndLatestChannelGroupsLatentCodec(ChannelGroupsLatentCodec):
    """:class:`~tinify.latent_codecs.ChannelGroupsLatentCodec` whose channel context sees only
    the first group and the most recently decoded one (Chandelier's ELIC).

    The state_dict keys are those of the base class.
    """

    def merge_y(self, *args: Tensor) -> Tensor:
        if not args:
            raise ValueError("merge_y needs at least one decoded group")
        if len(args) == 1:
            return args[0]
        return torch.cat([args[0], args[-1]], dim=1)


@registry.register("model", "elic2022-chandelier")
class Elic2022Chandelier(_Elic):
    """ELIC 2022; simplified context model using only first and most recent groups.

    Context model from [He2022], with simplifications and parameters from the
    [Chandelier2023] implementation. Based on modified attention model architecture from
    [Cheng2020].

    .. note::

        This implementation contains some differences compared to the original [He2022]
        paper. For instance, the implemented context model only uses the first and the most
        recently decoded channel groups to predict the current channel group. In contrast,
        the original paper uses all previously decoded channel groups. Also, the last layer
        of h_s is now a conv rather than a deconv.

    [Chandelier2023]: `"ELiC-ReImplemetation"
    <https://github.com/VincentChandelier/ELiC-ReImplemetation>`_, by Vincent Chandelier,
    2023.

    [He2022]: `"ELIC: Efficient Learned Image Compression with Unevenly Grouped Space-Channel
    Contextual Adaptive Coding" <https://arxiv.org/abs/2203.10886>`_, by Dailan He, Ziming
    Yang, Weikun Peng, Rui Ma, Hongwei Qin, and Yan Wang, CVPR 2022.

    [Cheng2020]: `"Learned Image Compression with Discretized Gaussian Mixture Likelihoods and
    Attention Modules" <https://arxiv.org/abs/2001.01568>`_, by Zhengxue Cheng, Heming Sun,
    Masaru Takeuchi, and Jiro Katto, CVPR 2020.

    .. code-block:: none

        HyperpriorLatentCodec
        ├── y: FirstAndLatestChannelGroupsLatentCodec(groups)
        │      ├── channel_context["y{k}"]: 5x5 convs (g_0 [+ g_{k-1}]) → 224 → 128 → 2 g_k
        │      └── latent_codec["y{k}"]: CheckerboardLatentCodec
        │             ├── context_prediction: CheckerboardMaskedConv2d(g, 2g, 5x5)
        │             ├── entropy_parameters: 1x1 convs (2g [+ 2g] + 2M) → 2M → 512 → 2g
        │             └── y: GaussianConditionalLatentCodec("ste", ("means", "scales"))
        └── hyper: HyperLatentCodec(EntropyBottleneck(N), h_a, h_s, quantizer="ste")

    The channel context's restriction is the ``merge_y`` of
    :class:`FirstAndLatestChannelGroupsLatentCodec`; the state_dict keys are those of
    CompressAI's model.

    Args:
        N: channels of the transforms and of ``z``.
        M: channels of the latent ``y``.
        groups: channel counts of the groups, summing to ``M`` (default
            ``[16, 16, 32, 64, M - 128]``).
        **kwargs: arguments of :class:`~tinify.models.CompressionModel`.
    """

    def __init__(
        self, N: int = 192, M: int = 320, groups: Sequence[int] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.groups = _elic_groups(groups, M)
        self.g_a = _elic_g_a(N, M)
        self.g_s = _elic_g_s(N, M)
        h_a = _elic_h_a(N, M)
        h_s = nn.Sequential(
            deconv(N, N, kernel_size=5, stride=2),
            nn.ReLU(inplace=True),
            deconv(N, N * 3 // 2, kernel_size=5, stride=2),
            nn.ReLU(inplace=True),
            conv(N * 3 // 2, M * 2, kernel_size=3, stride=1),
        )
        # Input: the first group, and for k > 1 the most recently decoded one.
        channel_context = {
            f"y{k}": _channel_context(
                self.groups[0] + (k > 1) * self.groups[k - 1], self.groups[k] * 2
            )
            for k in range(1, len(self.groups))
        }
        param_aggregation = [
            nn.Sequential(
                conv1x1(g * 2 + (k > 0) * g * 2 + M * 2, M * 2),
                nn.ReLU(inplace=True),
                conv1x1(M * 2, 512),
                nn.ReLU(inplace=True),
                conv1x1(512, g * 2),
            )
            for k, g in enumerate(self.groups)
        ]
        self.latent_codec = _elic_latent_codec(
            FirstAndLatestChannelGroupsLatentCodec,
            self.groups,
            channel_context,
            param_aggregation,
            chunks=("means", "scales"),
            N=N,
            h_a=h_a,
            h_s=h_s,
        )
