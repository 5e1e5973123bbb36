"""CompressAI's ``compressai.utils`` commands, run as ``python -m tinify.utils.NAME``.

Each is a ``main(argv)`` with CompressAI's arguments and output over the library functions the
``tinify`` command uses (:mod:`tinify.evaluation`, :mod:`tinify.zoo`):

- ``eval_model``: rate–distortion evaluation of a zoo model or checkpoints (JSON);
- ``update_model``: rebuild a checkpoint's CDF tables, save it as ``NAME-<sha256[:8]>``;
- ``bench``: rate–distortion evaluation of a classical codec (JSON);
- ``plot``: rate–distortion curves from results files;
- ``find_close``: the codec quality closest to a target bpp, PSNR or MS-SSIM.
"""
