"""Training losses, as ``compressai.losses``: :class:`RateDistortionLoss`."""

from tinify.losses.rate_distortion import RateDistortionLoss

__all__ = ["RateDistortionLoss"]
