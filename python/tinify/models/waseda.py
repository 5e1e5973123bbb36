"""Cheng et al.'s anchor and attention models: residual transforms with an autoregressive prior."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

from tinify.layers import (
    AttentionBlock,
    ResidualBlock,
    ResidualBlockUpsample,
    ResidualBlockWithStride,
    conv3x3,
    subpel_conv3x3,
)
from tinify.models.google import (
    JointAutoregressiveHierarchicalPriors,
    _load_exactly,
    _out_channels,
)
from tinify.registry import register

__all__ = [
    "Cheng2020Anchor",
    "Cheng2020Attention",
    "analysis_transform",
    "hyper_analysis",
    "hyper_synthesis",
    "synthesis_transform",
]


def analysis_transform(n: int) -> nn.Sequential:
    """Cheng et al.'s ``g_a``: residual blocks, three stride-2 ones and a stride-2 3x3 conv."""
    return nn.Sequential(
        ResidualBlockWithStride(3, n, stride=2),
        ResidualBlock(n, n),
        ResidualBlockWithStride(n, n, stride=2),
        ResidualBlock(n, n),
        ResidualBlockWithStride(n, n, stride=2),
        ResidualBlock(n, n),
        conv3x3(n, n, stride=2),
    )


def synthesis_transform(n: int) -> nn.Sequential:
    """Cheng et al.'s ``g_s``: residual blocks and sub-pixel up-sampling back to RGB."""
    return nn.Sequential(
        ResidualBlock(n, n),
        ResidualBlockUpsample(n, n, 2),
        ResidualBlock(n, n),
        ResidualBlockUpsample(n, n, 2),
        ResidualBlock(n, n),
        ResidualBlockUpsample(n, n, 2),
        ResidualBlock(n, n),
        subpel_conv3x3(n, 3, 2),
    )


def hyper_analysis(n: int) -> nn.Sequential:
    """Cheng et al.'s ``h_a``: five 3x3 convolutions, two of stride 2."""
    return nn.Sequential(
        conv3x3(n, n),
        nn.LeakyReLU(inplace=True),
        conv3x3(n, n),
        nn.LeakyReLU(inplace=True),
        conv3x3(n, n, stride=2),
        nn.LeakyReLU(inplace=True),
        conv3x3(n, n),
        nn.LeakyReLU(inplace=True),
        conv3x3(n, n, stride=2),
    )


def hyper_synthesis(n: int) -> nn.Sequential:
    """Cheng et al.'s ``h_s``: 3x3 and sub-pixel convolutions up to ``2N`` channels."""
    return nn.Sequential(
        conv3x3(n, n),
        nn.LeakyReLU(inplace=True),
        subpel_conv3x3(n, n, 2),
        nn.LeakyReLU(inplace=True),
        conv3x3(n, n * 3 // 2),
        nn.LeakyReLU(inplace=True),
        subpel_conv3x3(n * 3 // 2, n * 3 // 2, 2),
        nn.LeakyReLU(inplace=True),
        conv3x3(n * 3 // 2, n * 2),
    )


@register("model", "cheng2020-anchor")
class Cheng2020Anchor(JointAutoregressiveHierarchicalPriors):
    """The anchor model of `"Learned Image Compression with Discretized Gaussian Mixture
    Likelihoods and Attention Modules" <https://arxiv.org/abs/2001.01568>`_, Z. Cheng, H. Sun,
    M. Takeuchi and J. Katto, CVPR 2020.

    :class:`~tinify.models.JointAutoregressiveHierarchicalPriors` (with ``M = N``) whose
    transforms are residual blocks of 3x3 and 1x1 convolutions, with sub-pixel convolutions
    for up-sampling. Like CompressAI's, it models ``y`` with a single Gaussian, not the
    paper's mixture. Coding runs the Rust autoregressive loop (see the parent class).

    Args:
        N: channels of every transform and of ``y`` and ``z``, >= 2 (128 or 192 in the zoo).
    """

    def __init__(self, N: int = 192, **kwargs: Any) -> None:
        super().__init__(N=N, M=N, **kwargs)
        self.g_a = analysis_transform(self.N)
        self.h_a = hyper_analysis(self.N)
        self.h_s = hyper_synthesis(self.N)
        self.g_s = synthesis_transform(self.N)

    @classmethod
    def from_state_dict(cls, state_dict: Mapping[str, Tensor]) -> Cheng2020Anchor:  # type: ignore[override]
        """Builds the model at the checkpoint's size (N from ``g_a.0.conv1.weight``) and loads
        it; ValueError names the keys of a checkpoint of another architecture."""
        net = cls(_out_channels(cls, state_dict, "g_a.0.conv1.weight"))
        _load_exactly(net, state_dict)
        return net


@register("model", "cheng2020-attn")
class Cheng2020Attention(Cheng2020Anchor):
    """The attention model of `"Learned Image Compression with Discretized Gaussian Mixture
    Likelihoods and Attention Modules" <https://arxiv.org/abs/2001.01568>`_, Z. Cheng, H. Sun,
    M. Takeuchi and J. Katto, CVPR 2020: :class:`Cheng2020Anchor` with simplified attention
    blocks in the analysis and synthesis transforms.

    Args:
        N: channels of every transform and of ``y`` and ``z``, >= 2 (128 or 192 in the zoo).
    """

    def __init__(self, N: int = 192, **kwargs: Any) -> None:
        super().__init__(N=N, **kwargs)
        n = self.N
        self.g_a = nn.Sequential(
            ResidualBlockWithStride(3, n, stride=2),
            ResidualBlock(n, n),
            ResidualBlockWithStride(n, n, stride=2),
            AttentionBlock(n),
            ResidualBlock(n, n),
            ResidualBlockWithStride(n, n, stride=2),
            ResidualBlock(n, n),
            conv3x3(n, n, stride=2),
            AttentionBlock(n),
        )
        self.g_s = nn.Sequential(
            AttentionBlock(n),
            ResidualBlock(n, n),
            ResidualBlockUpsample(n, n, 2),
            ResidualBlock(n, n),
            ResidualBlockUpsample(n, n, 2),
            AttentionBlock(n),
            ResidualBlock(n, n),
            ResidualBlockUpsample(n, n, 2),
            ResidualBlock(n, n),
            subpel_conv3x3(n, 3, 2),
        )
