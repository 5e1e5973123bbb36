"""Latent codecs: composable modules that code a latent given side parameters.

Each codec has CompressAI's constructor, ``forward``/``compress``/``decompress`` dictionaries
and state_dict keys, and works for any batch size and latent height and width.
"""

from tinify.latent_codecs.base import LatentCodec
from tinify.latent_codecs.channel_groups import ChannelGroupsLatentCodec
from tinify.latent_codecs.checkerboard import CheckerboardLatentCodec, embed, unembed
from tinify.latent_codecs.entropy_bottleneck import EntropyBottleneckLatentCodec
from tinify.latent_codecs.gain import GainHyperLatentCodec, GainHyperpriorLatentCodec
from tinify.latent_codecs.gaussian_conditional import GaussianConditionalLatentCodec
from tinify.latent_codecs.hyper import HyperLatentCodec
from tinify.latent_codecs.hyperprior import HyperpriorLatentCodec
from tinify.latent_codecs.rasterscan import RasterScanLatentCodec

__all__ = [
    "ChannelGroupsLatentCodec",
    "CheckerboardLatentCodec",
    "EntropyBottleneckLatentCodec",
    "GainHyperLatentCodec",
    "GainHyperpriorLatentCodec",
    "GaussianConditionalLatentCodec",
    "HyperLatentCodec",
    "HyperpriorLatentCodec",
    "LatentCodec",
    "RasterScanLatentCodec",
    "embed",
    "unembed",
]
