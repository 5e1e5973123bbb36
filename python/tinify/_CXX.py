"""CompressAI's ``compressai._CXX`` extension module: ``pmf_to_quantized_cdf``, from
:mod:`tinify.ans` (tinify's Rust core builds the same tables)."""

from tinify.ans import pmf_to_quantized_cdf

__all__ = ["pmf_to_quantized_cdf"]
