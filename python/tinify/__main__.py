"""``python -m tinify``: the same as the ``tinify`` command."""

import sys

from tinify.cli import main

sys.exit(main())
