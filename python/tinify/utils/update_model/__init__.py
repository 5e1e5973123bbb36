"""``python -m tinify.utils.update_model``: see :mod:`tinify.utils.update_model.__main__`."""
