"""Loading checkpoints: any CompressAI-compatible file, its architecture inferred from its keys.

Nothing here runs code from a file: every file is read with ``torch.load(...,
weights_only=True)``. Downloads are ``tinify.zoo.download``'s; writing checkpoints (export,
``tinify update``) is ``tinify.zoo.export``'s.
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinify.zoo._tables import ARCHITECTURES
from tinify.zoo.download import fetch_state_dict, is_url

if TYPE_CHECKING:
    from torch import Tensor

    from tinify.models import CompressionModel

__all__ = [
    "architecture_of",
    "architecture_of_class",
    "canonical_architecture",
    "infer_architecture",
    "load_checkpoint",
    "load_state_dict",
    "model_from_state_dict",
    "normalize_state_dict",
]

# Keys under which training scripts store the model's state_dict: CompressAI's examples
# ("state_dict"), its eval_model ("network", "model_state_dict"), tinify.train ("model").
_WRAPPERS = ("state_dict", "network", "model_state_dict", "model")


def canonical_architecture(arch: str) -> str:
    """The zoo name of ``arch`` written any way: ``"bmshj2018_factorized"``,
    ``"Bmshj2018-Factorized"``, or the class name ``"FactorizedPrior"``.

    Raises:
        TypeError: if ``arch`` is not a string.
        ValueError: if it names no zoo architecture (the message lists them).
    """
    if not isinstance(arch, str):
        raise TypeError(f"architecture must be a string, got {type(arch).__name__}")
    spelling = arch.strip().lower().replace("_", "-")
    if spelling in ARCHITECTURES:
        return spelling
    from tinify import registry  # a class name: the registry knows each model's class

    for name in registry.names("model"):
        if name in ARCHITECTURES and spelling == registry.resolve("model", name).__name__.lower():
            return name
    raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHITECTURES)}")


def _model_class(arch: str) -> type[CompressionModel]:
    from tinify import registry

    return registry.resolve("model", arch)


def _resolve(arch: str) -> type[CompressionModel]:
    """The class of a zoo architecture, or of any other registered model (any spelling)."""
    try:
        return _model_class(canonical_architecture(arch))
    except ValueError:
        from tinify import registry

        try:
            return registry.resolve("model", arch)
        except ValueError:
            pass
        raise


def architecture_of_class(cls: type) -> str:
    """The registered name of a model class (or of its nearest registered base).

    Raises:
        TypeError: if neither ``cls`` nor a base class is registered.
    """
    from tinify import registry

    classes = {registry.resolve("model", name): name for name in registry.names("model")}
    for base in cls.__mro__:
        if base in classes:
            return classes[base]
    raise TypeError(f"{cls.__name__} is not a registered tinify model")


def architecture_of(model: Any) -> str:
    """The registered name of ``model``'s architecture (e.g. ``"mbt2018"``).

    Raises:
        TypeError: if ``model`` is not an instance of a registered model class.
    """
    return architecture_of_class(type(model))


def normalize_state_dict(state_dict: Mapping[str, Any]) -> dict[str, Tensor]:
    """The model's state_dict inside a checkpoint, with current key names.

    Unwraps ``{"state_dict": ...}``, ``{"network": ...}``, ``{"model_state_dict": ...}`` and
    ``{"model": ...}`` (training checkpoints), strips ``module.`` (DataParallel/DDP) and
    ``_orig_mod.`` (torch.compile) prefixes, and renames older CompressAI keys
    (``entropy_bottleneck._matrix0`` or ``._matrices.0`` → ``.matrices.0``,
    ``.downsample.`` → ``.skip.``).

    Raises:
        ValueError: if no mapping of names to tensors is found.
    """
    import torch

    if not isinstance(state_dict, Mapping):
        raise ValueError(
            f"a checkpoint holds a dict of tensors, this one a {type(state_dict).__name__}"
        )
    inner: Any = state_dict
    for _ in range(3):  # a wrapper inside a wrapper at most
        if inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
            break
        inner = next((inner[k] for k in _WRAPPERS if isinstance(inner.get(k), Mapping)), None)
        if inner is None:
            break
    if not inner or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in inner.items()
    ):
        keys = ", ".join(repr(k) for k in list(state_dict)[:8])
        raise ValueError(
            "the checkpoint holds no model state_dict (a dict of tensors, raw or under one of "
            f"{', '.join(_WRAPPERS)}); its top-level keys: {keys or 'none'}"
        )

    from tinify.models.utils import rename_key

    out = {rename_key(k): v for k, v in inner.items()}
    if len(out) != len(inner):
        raise ValueError("the checkpoint's keys collide once their prefixes are stripped")
    return out


def infer_architecture(state_dict: Mapping[str, Tensor]) -> str | None:
    """The zoo architecture whose keys a (normalized) state_dict holds, or None.

    Rules, on the keys and shapes:

    * ``latent_codec.y.channel_context.*``: ELIC; ``elic2022-official`` when the last hyper
      synthesis layer is a transposed convolution to 2N channels, ``elic2022-chandelier``
      when it is a convolution (to 2M).
    * ``latent_codec.y.context_prediction.*``: ``cheng2020-anchor-checkerboard``.
    * ``context_prediction.*``: ``mbt2018`` with a plain-convolution ``g_a.0``, else
      ``cheng2020-attn`` when ``g_a`` holds attention blocks, else ``cheng2020-anchor``.
    * ``h_s.*``: ``mbt2018-mean`` when ``h_s`` ends in 2M channels (means and scales),
      ``bmshj2018-hyperprior`` when it ends in M (scales).
    * ``y_gain`` and ``z_gain``: ``gained-mean-scale-hyperprior``, tinify's default model
      (a registered model, not a zoo architecture).
    * ``Gain`` and ``QuantABCD.*``: the variable-rate models, ``mbt2018-vbr`` with a
      ``context_prediction``, else ``mbt2018-mean-vbr`` or ``bmshj2018-hyperprior-vbr`` by
      ``h_s``'s output as above.
    * only ``g_a``, ``g_s`` and ``entropy_bottleneck``: ``bmshj2018-factorized`` when ``g_a``
      has GDN parameters, ``bmshj2018-factorized-relu`` when it has none (ReLU has no
      parameters, so the two are told apart by the keys).
    """

    def shape(key: str) -> tuple[int, ...] | None:
        value = state_dict.get(key)
        return tuple(value.shape) if value is not None else None

    keys = state_dict.keys()
    if "Gain" in keys and any(k.startswith("QuantABCD.") for k in keys):
        return _vbr_architecture(state_dict)
    if any(k.startswith("latent_codec.y.channel_context.") for k in keys):
        mid = shape("latent_codec.hyper.h_s.2.weight")
        last = shape("latent_codec.hyper.h_s.4.weight")
        if mid is None or last is None or len(mid) != 4 or len(last) != 4:
            return None
        if last[1] == mid[1]:
            return "elic2022-chandelier"
        if last[0] == mid[1]:
            return "elic2022-official"
        return None
    if "latent_codec.y.context_prediction.weight" in keys:
        return "cheng2020-anchor-checkerboard"
    if "context_prediction.weight" in keys:
        if "g_a.0.weight" in keys:
            return "mbt2018"
        if "g_a.0.conv1.weight" in keys:
            if any(k.startswith("g_a.") and ".conv_a." in k for k in keys):
                return "cheng2020-attn"
            return "cheng2020-anchor"
        return None
    if "y_gain" in keys and "z_gain" in keys:
        return "gained-mean-scale-hyperprior"  # tinify's default model (not in the zoo)
    g_a_last = shape("g_a.6.weight")
    if g_a_last is None or "entropy_bottleneck.quantiles" not in keys:
        return None
    m = g_a_last[0]
    if "h_s.4.weight" in keys:
        h_s_out = shape("h_s.4.weight")[0]  # type: ignore[index]
        if h_s_out == 2 * m:
            return "mbt2018-mean"
        if h_s_out == m:
            return "bmshj2018-hyperprior"
        return None
    if any(k.startswith("h_") for k in keys):
        return None
    if "g_a.1.beta" in keys:
        return "bmshj2018-factorized"
    return "bmshj2018-factorized-relu"


def _vbr_architecture(state_dict: Mapping[str, Tensor]) -> str | None:
    """The variable-rate architecture (CompressAI's ``compressai.zoo.image_vbr``) of a
    state_dict holding ``Gain`` and ``QuantABCD``."""
    if "context_prediction.weight" in state_dict:
        return "mbt2018-vbr"
    g_a_last, h_s_last = state_dict.get("g_a.6.weight"), state_dict.get("h_s.4.weight")
    if g_a_last is None or h_s_last is None:
        return None
    if h_s_last.size(0) == 2 * g_a_last.size(0):
        return "mbt2018-mean-vbr"
    if h_s_last.size(0) == g_a_last.size(0):
        return "bmshj2018-hyperprior-vbr"
    return None


def _has_cdf_tables(model: CompressionModel) -> bool:
    from tinify.entropy_models import EntropyBottleneck, GaussianConditional

    return all(
        module._quantized_cdf.numel() > 0
        for module in model.modules()
        if isinstance(module, EntropyBottleneck | GaussianConditional)
    )


def load_state_dict(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """``state_dict`` with the key names of older CompressAI releases renamed, as
    ``compressai.zoo.load_state_dict``: ``module.`` prefixes dropped, ``.downsample.`` →
    ``.skip.``, entropy-bottleneck ``_biases.0`` → ``_bias0`` (likewise matrices, factors; the
    form ``CompressionModel.load_state_dict`` maps to the current ``biases.0``).

    It returns a dict, not a model: :func:`model_from_state_dict` and :func:`load_checkpoint`
    build models. (tinify also drops torch.compile's ``_orig_mod.`` prefix, and renames the
    bottlenecks of latent codecs and indices above 9, which CompressAI's misses.)
    """
    from tinify.models.utils import rename_key

    return {rename_key(key, flat=True): value for key, value in state_dict.items()}


def model_from_state_dict(
    state_dict: Mapping[str, Any],
    arch: str | None = None,
    *,
    source: str = "the checkpoint",
    build_tables: bool = True,
) -> CompressionModel:
    """A model built from a state_dict (any layout :func:`normalize_state_dict` accepts), at
    the sizes it was trained at, in eval mode, with CDF tables (built only if it has none).

    Args:
        state_dict: the checkpoint's contents.
        arch: the architecture (any spelling); inferred from the keys when None.
        source: what to call the checkpoint in error messages.
        build_tables: run ``update()`` when the checkpoint has no CDF tables; False leaves
            the tables as the file has them.

    Raises:
        ValueError: if the architecture cannot be inferred (pass ``arch``), or the weights do
            not fit ``arch``.
    """
    sd = normalize_state_dict(state_dict)
    inferred = infer_architecture(sd)
    if arch is None:
        if inferred is None:
            raise ValueError(
                f"cannot tell the architecture of {source} from its keys; pass it "
                f"(arch=... or -a/--architecture), one of {', '.join(ARCHITECTURES)}"
            )
        arch = inferred
    cls = _resolve(arch)
    arch = architecture_of_class(cls)
    try:
        # Every registered model class defines from_state_dict; CompressionModel declares none.
        model = cls.from_state_dict(sd)  # type: ignore[attr-defined]
    except (ValueError, RuntimeError, KeyError) as err:
        hint = f" (its keys look like {inferred!r})" if inferred and inferred != arch else ""
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"{source} is not a {arch!r} checkpoint{hint}: {detail}") from None
    if build_tables and not _has_cdf_tables(model):
        model.update()
    return model.eval()


def read_file(path: Path, map_location: Any) -> Any:
    """The contents of the checkpoint file ``path``, read weights-only (ValueError if it is not
    one, or holds more than tensors and plain containers)."""
    import torch

    if not path.is_file():
        raise FileNotFoundError(f"no such checkpoint file: {path}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        refused = re.search(r"Unsupported global[^.\n]*", str(err))
        if refused is None:
            raise ValueError(f"{path} is not a PyTorch checkpoint (unreadable pickle)") from None
        raise ValueError(
            f"{path} holds objects other than tensors and plain containers, and tinify never "
            f"runs code from a checkpoint ({refused.group(0)})"
        ) from None
    except (RuntimeError, EOFError, ValueError, AttributeError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"{path} is not a PyTorch checkpoint ({first})") from None


def load_checkpoint(
    path_or_url: str | os.PathLike[str], arch: str | None = None, *, map_location: Any = "cpu"
) -> CompressionModel:
    """Loads any CompressAI-compatible checkpoint as a tinify model, ready to code.

    Accepts a raw state_dict or one wrapped in a training checkpoint (``state_dict``,
    ``network``, ``model_state_dict`` or ``model``), with or without ``module.`` prefixes,
    with current or older CompressAI key names. The architecture is inferred from the keys
    (:func:`infer_architecture`) and the sizes from the tensors (each class's
    ``from_state_dict``). The file is read with ``torch.load(..., weights_only=True)``, so it
    cannot run code.

    Args:
        path_or_url: a file, or an ``http(s)://`` URL fetched through torch.hub's cache.
        arch: the architecture, any spelling; needed only when the keys do not tell.
        map_location: where the tensors are loaded; a device also receives the model.

    Returns:
        The model in eval mode, with the file's CDF tables (built by ``update()`` only when
        the file has none).

    Raises:
        FileNotFoundError: if the file does not exist.
        OSError: if the URL cannot be fetched (the message says how to pass a file).
        ValueError: if the file is not a checkpoint, holds no state_dict, its architecture
            cannot be inferred (pass ``arch``), or its weights do not fit ``arch``.
    """
    import torch

    if is_url(path_or_url):
        contents = fetch_state_dict(str(path_or_url), map_location=map_location)
        source = str(path_or_url)
    else:
        path = Path(path_or_url)
        contents = read_file(path, map_location)
        source = str(path)
    model = model_from_state_dict(contents, arch, source=source)
    if isinstance(map_location, str | torch.device):
        model.to(map_location)
    return model
