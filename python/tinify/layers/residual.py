"""Residual blocks of the Cheng et al. (2020) and ELIC (2022) transforms."""

from torch import Tensor, nn

from tinify.layers.conv import conv1x1, conv3x3, subpel_conv3x3
from tinify.layers.gdn import GDN

__all__ = [
    "ResidualBlock",
    "ResidualBlockUpsample",
    "ResidualBlockWithStride",
    "ResidualBottleneckBlock",
]


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with leaky ReLUs and a skip connection.

    From `"Learned Image Compression with Discretized Gaussian Mixture Likelihoods and
    Attention Modules" <https://arxiv.org/abs/2001.01568>`_, Cheng, Sun, Takeuchi and
    Katto, CVPR 2020.

    .. code-block:: none

        x ──> conv3x3 ─> LeakyReLU ─> conv3x3 ─> LeakyReLU ──(+)──> y
        └───────────── skip (conv1x1 if in_ch != out_ch) ─────┘

    Args:
        in_ch: Number of input channels, ``>= 1``.
        out_ch: Number of output channels, ``>= 1``.
    """

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv1 = conv3x3(in_ch, out_ch)
        self.leaky_relu = nn.LeakyReLU(inplace=True)
        self.conv2 = conv3x3(out_ch, out_ch)
        self.skip: nn.Module | None = conv1x1(in_ch, out_ch) if in_ch != out_ch else None

    def forward(self, x: Tensor) -> Tensor:
        out = self.leaky_relu(self.conv1(x))
        out = self.leaky_relu(self.conv2(out))
        identity = x if self.skip is None else self.skip(x)
        return out + identity


class ResidualBlockWithStride(nn.Module):
    """Residual block that downsamples with a strided first convolution and ends in GDN.

    From Cheng et al., `"Learned Image Compression with Discretized Gaussian Mixture
    Likelihoods and Attention Modules" <https://arxiv.org/abs/2001.01568>`_, CVPR 2020.

    .. code-block:: none

        x ──> conv3x3 (stride) ─> LeakyReLU ─> conv3x3 ─> GDN ──(+)──> y
        └──────── skip (conv1x1 with stride, if needed) ─────────┘

    Args:
        in_ch: Number of input channels, ``>= 1``.
        out_ch: Number of output channels, ``>= 1``.
        stride: Downsampling factor, ``>= 1`` (default 2).
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int = 2) -> None:
        super().__init__()
        self.conv1 = conv3x3(in_ch, out_ch, stride=stride)
        self.leaky_relu = nn.LeakyReLU(inplace=True)
        self.conv2 = conv3x3(out_ch, out_ch)
        self.gdn = GDN(out_ch)
        needs_skip = stride != 1 or in_ch != out_ch
        self.skip: nn.Module | None = conv1x1(in_ch, out_ch, stride=stride) if needs_skip else None

    def forward(self, x: Tensor) -> Tensor:
        out = self.leaky_relu(self.conv1(x))
        out = self.gdn(self.conv2(out))
        identity = x if self.skip is None else self.skip(x)
        return out + identity


class ResidualBlockUpsample(nn.Module):
    """Residual block that upsamples by sub-pixel convolution and ends in inverse GDN.

    From Cheng et al., `"Learned Image Compression with Discretized Gaussian Mixture
    Likelihoods and Attention Modules" <https://arxiv.org/abs/2001.01568>`_, CVPR 2020.

    .. code-block:: none

        x ──> subpel_conv3x3 (r) ─> LeakyReLU ─> conv3x3 ─> IGDN ──(+)──> y
        └────────────────── subpel_conv3x3 (r) ─────────────────────┘

    Args:
        in_ch: Number of input channels, ``>= 1``.
        out_ch: Number of output channels, ``>= 1``.
        upsample: Upsampling factor ``r >= 1`` (default 2).
    """

    def __init__(self, in_ch: int, out_ch: int, upsample: int = 2) -> None:
        super().__init__()
        self.subpel_conv = subpel_conv3x3(in_ch, out_ch, upsample)
        self.leaky_relu = nn.LeakyReLU(inplace=True)
        self.conv = conv3x3(out_ch, out_ch)
        self.igdn = GDN(out_ch, inverse=True)
        self.upsample = subpel_conv3x3(in_ch, out_ch, upsample)

    def forward(self, x: Tensor) -> Tensor:
        out = self.leaky_relu(self.subpel_conv(x))
        out = self.igdn(self.conv(out))
        return out + self.upsample(x)


class ResidualBottleneckBlock(nn.Module):
    """Bottleneck residual block: 1x1 down to half the channels, 3x3, 1x1 back up.

    The bottleneck design of `"Deep Residual Learning for Image Recognition"
    <https://arxiv.org/abs/1512.03385>`_, He, Zhang, Ren and Sun, CVPR 2016, as stacked in
    the transforms of `"ELIC: Efficient Learned Image Compression with Unevenly Grouped
    Space-Channel Contextual Adaptive Coding" <https://arxiv.org/abs/2203.10886>`_, He, Yang,
    Peng, Ma, Qin and Wang, CVPR 2022. CompressAI defines it in ``compressai.models.sensetime``.

    .. code-block:: none

        x ──> conv1x1 ─> ReLU ─> conv3x3 ─> ReLU ─> conv1x1 ──(+)──> y
        └──────────── skip (conv1x1 if in_ch != out_ch) ──────┘

    Args:
        in_ch: Number of input channels, ``>= 1``.
        out_ch: Number of output channels, ``>= 1``. The hidden width is
            ``min(in_ch, out_ch) // 2``, so the smaller of the two should be ``>= 2``.
    """

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        mid_ch = min(in_ch, out_ch) // 2
        self.conv1 = conv1x1(in_ch, mid_ch)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(mid_ch, mid_ch)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv3 = conv1x1(mid_ch, out_ch)
        self.skip: nn.Module = conv1x1(in_ch, out_ch) if in_ch != out_ch else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu1(self.conv1(x))
        out = self.relu2(self.conv2(out))
        return self.conv3(out) + self.skip(x)
