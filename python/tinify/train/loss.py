"""The rate–distortion loss of the training loop: :class:`tinify.losses.RateDistortionLoss`
(defined there; re-exported for ``tinify.train`` users)."""

from tinify.losses.rate_distortion import RateDistortionLoss

__all__ = ["RateDistortionLoss"]
