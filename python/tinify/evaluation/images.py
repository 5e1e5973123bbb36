"""Listing the images of a dataset: :func:`tinify.files.list_images` under the name the
evaluation API has always had it (``IMAGE_EXTENSIONS`` is :data:`tinify.files.IMAGE_SUFFIXES`)."""

from __future__ import annotations

from tinify.files import IMAGE_SUFFIXES as IMAGE_EXTENSIONS
from tinify.files import list_images

__all__ = ["IMAGE_EXTENSIONS", "list_images"]
