"""``python -m tinify.utils.bench``: see :mod:`tinify.utils.bench.__main__`."""
