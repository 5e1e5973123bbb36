"""The default model shipped inside the package: one variable-rate network, several rates.

``load_default(quality)`` returns a :class:`~tinify.models.gain.GainedMeanScaleHyperprior` set
to code at that quality, with the CDF tables read from the shipped file (they are never rebuilt
at load, so every installation decodes every file the same way). How the weights were trained
is in ``recipes/default/README.md``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tinify.models.gain import GainedMeanScaleHyperprior

__all__ = [
    "ARCHITECTURE",
    "DEFAULT_NAME",
    "DEFAULT_QUALITY",
    "QUALITIES",
    "WEIGHTS",
    "load_default",
]

#: Name of the shipped model, recorded in ``.tfy`` headers and shown by ``tinify info``.
DEFAULT_NAME = "tinify-default-4"
#: The registered architecture of the shipped model.
ARCHITECTURE = "gained-mean-scale-hyperprior"
#: Its qualities, from the lowest rate (1) to the highest: quality ``q`` is the model's rate
#: ``q - 1``.
QUALITIES: tuple[int, ...] = (1, 2, 3, 4, 5)
#: The quality used when none is given.
DEFAULT_QUALITY = 3
#: The shipped state_dict (float32, CDF tables included).
WEIGHTS = Path(__file__).with_name("weights") / f"{DEFAULT_NAME}.pth"


@functools.lru_cache(maxsize=1)
def _state_dict() -> dict[str, Any]:
    import torch

    if not WEIGHTS.is_file():
        raise FileNotFoundError(
            f"the default model's weights are missing ({WEIGHTS}): this installation of tinify "
            "was built without them; reinstall tinify or pass a model or checkpoint explicitly"
        )
    state = torch.load(WEIGHTS, map_location="cpu", weights_only=True)
    return state


def check_quality(quality: int | None) -> int:
    """``quality`` (default :data:`DEFAULT_QUALITY`), checked to be one of :data:`QUALITIES`.

    Raises:
        ValueError: if ``quality`` is not one of :data:`QUALITIES`.
        TypeError: if ``quality`` is not an int.
    """
    if quality is None:
        quality = DEFAULT_QUALITY
    if isinstance(quality, bool) or not isinstance(quality, int):
        raise TypeError(f"quality must be an int, got {type(quality).__name__}")
    if quality not in QUALITIES:
        raise ValueError(
            f"{DEFAULT_NAME} has qualities {QUALITIES[0]} to {QUALITIES[-1]}, got {quality}"
        )
    return quality


def load_default(quality: int | None = None) -> GainedMeanScaleHyperprior:
    """The default model, in eval mode, set to code at ``quality``.

    Args:
        quality: one of :data:`QUALITIES` (default :data:`DEFAULT_QUALITY`).

    Raises:
        ValueError: if ``quality`` is not one of :data:`QUALITIES`.
        TypeError: if ``quality`` is not an int.
        FileNotFoundError: if the weights file is missing from the installation.
    """
    quality = check_quality(quality)
    from tinify.models.gain import GainedMeanScaleHyperprior

    net = GainedMeanScaleHyperprior.from_state_dict(_state_dict())
    if net.num_rates != len(QUALITIES):
        raise ValueError(
            f"{WEIGHTS} holds {net.num_rates} rates, but {DEFAULT_NAME} has {len(QUALITIES)}"
        )
    net.rate = quality - 1
    return net.eval()
