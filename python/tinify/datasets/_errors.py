"""The errors datasets raise: ValueErrors that are also the exception CompressAI's dataset
raises in the same case, so that code written for either catches them."""

__all__ = ["DatasetNotFoundError", "InvalidChoiceError", "MissingFileError"]


class DatasetNotFoundError(ValueError, RuntimeError):
    """A dataset's folder is missing (CompressAI: RuntimeError)."""


class MissingFileError(DatasetNotFoundError, FileNotFoundError):
    """A file a dataset needs is missing (CompressAI: FileNotFoundError from ``open``)."""


class InvalidChoiceError(ValueError, KeyError):
    """An argument outside its choices (CompressAI: KeyError from a table lookup)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
