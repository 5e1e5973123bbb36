"""Downloading checkpoints: CompressAI's published weights and any checkpoint URL, through
torch.hub's cache, each file's sha256 prefix checked."""

from __future__ import annotations

import os
import pickle
import urllib.error
from pathlib import Path
from typing import Any

__all__ = ["fetch_state_dict"]


def is_url(path_or_url: Any) -> bool:
    """Whether a checkpoint is named by an ``http(s)://`` URL rather than a path."""
    return isinstance(path_or_url, str) and path_or_url.startswith(("http://", "https://"))


def _offline_hint(url: str) -> str:
    import torch.hub

    cache = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)
    return (
        f"download {url} elsewhere and pass the file: tinify.zoo.load_checkpoint(PATH) or "
        f"--checkpoint PATH (or place it at {cache}, torch.hub's cache)"
    )


def fetch_state_dict(url: str, *, progress: bool = True, map_location: Any = "cpu") -> Any:
    """The contents of the checkpoint at ``url``, through torch.hub's cache, its sha256
    prefix (the ``-<8 hex>`` of its name) checked on download.

    Raises:
        OSError: if the file cannot be downloaded (the message names the URL and how to pass
            a local file instead).
        ValueError: if the download does not match its hash or is not a checkpoint.
    """
    import torch.hub

    try:
        # weights_only: unpickling runs no code (torch >= 2.1, which tinify requires, has it).
        return torch.hub.load_state_dict_from_url(
            url, progress=progress, check_hash=True, map_location=map_location, weights_only=True
        )
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", None) or err
        raise OSError(f"cannot download {url} ({reason}); {_offline_hint(url)}") from None
    except RuntimeError as err:
        if "hash" in str(err):
            raise ValueError(
                f"the download of {url} does not match its sha256 prefix ({err}); "
                "a proxy or a truncated transfer may have altered it"
            ) from None
        raise ValueError(f"{url} is not a loadable checkpoint: {err}") from None
    except pickle.UnpicklingError as err:
        raise ValueError(f"{url} is not a weights-only checkpoint: {err}") from None
