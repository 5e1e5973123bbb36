"""Listing the images of a dataset: a folder (searched recursively), files and globs."""

from __future__ import annotations

import glob
from collections.abc import Iterable
from pathlib import Path

__all__ = ["IMAGE_EXTENSIONS", "list_images"]

#: Suffixes treated as images (CompressAI's list, plus the formats Pillow reads today).
IMAGE_EXTENSIONS = (
    ".png",
    ".jpg",
    ".jpeg",
    ".ppm",
    ".pgm",
    ".bmp",
    ".tif",
    ".tiff",
    ".webp",
)


def list_images(sources: str | Path | Iterable[str | Path]) -> list[Path]:
    """The image files named by ``sources``, sorted, without duplicates.

    Args:
        sources: a folder (searched recursively for :data:`IMAGE_EXTENSIONS`, any case), an
            image file, a glob pattern, or an iterable of those.

    Returns:
        The files, sorted by path.

    Raises:
        FileNotFoundError: if a source does not exist or a folder or glob holds no image.
    """
    if isinstance(sources, (str, Path)):
        sources = [sources]
    found: set[Path] = set()
    for source in sources:
        path = Path(source)
        if path.is_dir():
            images = [
                p for p in path.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
            ]
            if not images:
                raise FileNotFoundError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in {path}")
            found.update(images)
        elif path.is_file():
            found.add(path)
        elif glob.has_magic(str(source)):
            matches = [Path(p) for p in glob.glob(str(source), recursive=True)]
            images = [p for p in matches if p.is_file()]
            if not images:
                raise FileNotFoundError(f"no file matches {source}")
            found.update(images)
        else:
            raise FileNotFoundError(f"no such file or folder: {source}")
    return sorted(found)
