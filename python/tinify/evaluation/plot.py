"""Rate–distortion plots of results files (matplotlib, drawn off-screen)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tinify.evaluation.bdrate import distortion
from tinify.evaluation.results import load_results

__all__ = ["plot_rd"]

_LABELS = {"psnr": "PSNR (RGB) [dB]", "ms-ssim": "MS-SSIM (RGB) [dB]"}


def plot_rd(
    results: Sequence[str | Path | Mapping[str, Any]],
    out: str | Path | None = None,
    metric: str = "psnr",
    *,
    title: str | None = None,
    figsize: tuple[float, float] = (9, 6),
) -> Any:
    """Draws one rate–distortion curve per results document, labelled by its ``name``.

    MS-SSIM is drawn in dB, −10·log10(1 − v), as CompressAI's plots do.

    Args:
        results: results files or already-loaded documents.
        out: where to write the figure (format from the suffix: .png, .pdf, .svg); None to
            only return it.
        metric: ``"psnr"`` or ``"ms-ssim"``.
        title: the figure's title.
        figsize: inches.

    Returns:
        The matplotlib Figure (one Line2D per document on its single Axes).

    Raises:
        ValueError: for no documents, an unknown metric, or a document lacking the metric.
        ModuleNotFoundError: if matplotlib is missing (``pip install "tinify[plot]"``).
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    if not results:
        raise ValueError("nothing to plot: give at least one results file")
    docs = [r if isinstance(r, Mapping) else load_results(r) for r in results]
    figure = Figure(figsize=figsize)
    axes = figure.subplots()
    for doc in docs:
        y = distortion(doc, metric)
        x = doc["results"].get("bpp")
        if x is None:
            raise ValueError(f"results {doc.get('name', '?')!r} have no 'bpp'")
        order = sorted(range(len(x)), key=lambda i: x[i])
        axes.plot([x[i] for i in order], [y[i] for i in order], ".-", label=str(doc["name"]))
    axes.set_xlabel("Bit-rate [bpp]")
    axes.set_ylabel(_LABELS[metric])
    axes.grid(True, alpha=0.4)
    axes.legend(loc="lower right")
    if title:
        axes.set_title(title)
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(out, dpi=150, bbox_inches="tight")
    return figure
