"""Every public name of CompressAI's modules (point clouds, video and VBR aside) exists in the
tinify module of the same name."""

import compressai  # noqa: F401  (marks the file an oracle test)

from tests.compat.missing_names import missing


def test_no_compressai_name_is_missing():
    assert missing() == {}
