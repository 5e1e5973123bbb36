"""``python -m tinify.utils.plot``: see :mod:`tinify.utils.plot.__main__`."""
