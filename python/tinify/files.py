"""Files on disk: which files are images, finding them in folders and globs, and writing a
file so that readers never see it half-written. Pure Python (no torch), so the command line
and the file format can use it without loading torch."""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = ["IMAGE_SUFFIXES", "atomic_write", "find_files", "list_images", "refuse_existing"]

#: Suffixes treated as images (CompressAI's list, plus the formats Pillow reads today).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".ppm", ".pgm", ".bmp", ".tif", ".tiff", ".webp")


def find_files(
    sources: str | Path | Iterable[str | Path], suffixes: Sequence[str] = IMAGE_SUFFIXES
) -> list[tuple[Path, Path | None]]:
    """The files named by ``sources``, each with the folder it was found in.

    Args:
        sources: a folder (searched recursively for ``suffixes``, any case), a file, a glob
            pattern, or an iterable of those.
        suffixes: the suffixes a file found in a folder must have.

    Returns:
        ``(file, folder)`` pairs in the order of ``sources`` (sorted within each); ``folder``
        is None for a file named directly or matched by a glob.

    Raises:
        FileNotFoundError: if a source does not exist or a folder or glob holds no file.
    """
    if isinstance(sources, (str, Path)):
        sources = [sources]
    found: list[tuple[Path, Path | None]] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes
            )
            if not files:
                raise FileNotFoundError(f"no files ({', '.join(suffixes)}) in {path}")
            found += [(p, path) for p in files]
        elif path.is_file():
            found.append((path, None))
        elif glob.has_magic(str(source)):
            files = [p for p in sorted(map(Path, glob.glob(str(source), recursive=True)))]
            files = [p for p in files if p.is_file()]
            if not files:
                raise FileNotFoundError(f"no file matches {source}")
            found += [(p, None) for p in files]
        else:
            raise FileNotFoundError(f"no such file or folder: {source}")
    return found


def list_images(sources: str | Path | Iterable[str | Path]) -> list[Path]:
    """The image files named by ``sources`` (see :func:`find_files`), sorted, without
    duplicates.

    Raises:
        FileNotFoundError: if a source does not exist or a folder or glob holds no image.
    """
    return sorted({path for path, _ in find_files(sources)})


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def refuse_existing(path: str | Path, overwrite: bool) -> None:
    """Raises FileExistsError if ``path`` exists and ``overwrite`` is False: the check to make
    before expensive work whose result :func:`atomic_write` will write."""
    path = Path(path)
    if not overwrite and (path.exists() or path.is_symlink()):
        raise FileExistsError(f"{path} exists (pass overwrite=True, or -f, to replace it)")


def atomic_write(
    path: str | Path, write: Callable[[IO[bytes]], Any], *, overwrite: bool = True
) -> Path:
    """Writes ``path`` through ``write(file)`` on a temporary file in the same folder, renamed
    into place at the end: a reader sees the old file or the whole new one, and nothing is
    left behind on failure. The file gets the usual permissions (``0o666`` less the umask).

    Raises:
        FileExistsError: if ``path`` exists (checked again just before the rename) and
            ``overwrite`` is False.
    """
    path = Path(path)
    refuse_existing(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o666 & ~_umask())
        refuse_existing(path, overwrite)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path
