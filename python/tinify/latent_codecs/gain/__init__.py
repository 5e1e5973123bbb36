"""Gain-controlled (variable-rate) hyperprior codecs of Cui et al. (2021)."""

from tinify.latent_codecs.gain.hyper import GainHyperLatentCodec
from tinify.latent_codecs.gain.hyperprior import GainHyperpriorLatentCodec

__all__ = ["GainHyperLatentCodec", "GainHyperpriorLatentCodec"]
