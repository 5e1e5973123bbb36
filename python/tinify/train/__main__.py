"""``python -m tinify.train`` and ``torchrun ... -m tinify.train``: see ``tinify train -h``."""

import sys

from tinify.train.loop import main

if __name__ == "__main__":
    sys.exit(main())
