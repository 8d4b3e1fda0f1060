"""The disk_image module's own steps that need no root: the pack step's
refusals, in check mode as in a real run."""

import os

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import diskimage
from ansible_collections.guestready.gce.plugins.module_utils.imagefile import ImageError


def _params(pack):
    return {"path": "disk", "pack": pack, "pack_anyway": False, "image_name": None, "bucket": "b", "waivers": {}}


@pytest.mark.parametrize("check_mode", [True, False])
def test_pack_onto_the_input_is_refused_in_check_mode_too(tmp_path, check_mode):
    source = tmp_path / "image.tar.gz"  # a raw disk, whatever its name says
    source.write_bytes(b"\x00" * 4096)
    answer = {"results": [], "features": [], "facts": {}}
    with pytest.raises(ImageError, match="is the disk being packed"):
        diskimage._pack(_params(str(source)), {"path": str(source), "format": "raw", "block_device": False},
                        answer, check_mode)
    assert source.read_bytes() == b"\x00" * 4096 and os.listdir(str(tmp_path)) == ["image.tar.gz"]
