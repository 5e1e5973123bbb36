"""``python -m tinify.utils.find_close``: see :mod:`tinify.utils.find_close.__main__`."""
