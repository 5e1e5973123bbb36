"""Neural-network layers of learned image codecs, state_dict-compatible with CompressAI's."""

from tinify.layers.attention import AttentionBlock
from tinify.layers.basic import Interleave, Lambda, NamedLayer, Reshape, Transpose
from tinify.layers.conv import conv1x1, conv3x3, subpel_conv3x3
from tinify.layers.gain import Gain
from tinify.layers.gdn import GDN, GDN1
from tinify.layers.masked_conv import CheckerboardMaskedConv2d, MaskedConv2d
from tinify.layers.qrelu import QReLU
from tinify.layers.ramp import sequential_channel_ramp
from tinify.layers.residual import (
    ResidualBlock,
    ResidualBlockUpsample,
    ResidualBlockWithStride,
    ResidualBottleneckBlock,
)
from tinify.layers.spectral import SpectralConv2d, SpectralConvTranspose2d

__all__ = [
    "GDN",
    "GDN1",
    "AttentionBlock",
    "CheckerboardMaskedConv2d",
    "Gain",
    "Interleave",
    "Lambda",
    "MaskedConv2d",
    "NamedLayer",
    "QReLU",
    "Reshape",
    "ResidualBlock",
    "ResidualBlockUpsample",
    "ResidualBlockWithStride",
    "ResidualBottleneckBlock",
    "SpectralConv2d",
    "SpectralConvTranspose2d",
    "Transpose",
    "conv1x1",
    "conv3x3",
    "sequential_channel_ramp",
    "subpel_conv3x3",
]
