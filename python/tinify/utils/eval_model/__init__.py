"""``python -m tinify.utils.eval_model``: see :mod:`tinify.utils.eval_model.__main__`."""
