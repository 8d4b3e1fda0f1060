"""Read the lab's disk images without booting or mounting them (debugfs)."""

import os
import shutil
import struct
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def image_dir(variant, needed=("disk.raw", "image.json")):
    """The lab's cache directory of ``variant``'s current image, or skip."""
    if not shutil.which("debugfs"):
        pytest.skip("debugfs (e2fsprogs) is needed to read the image without mounting it")
    sys.path.insert(0, os.path.join(ROOT, "lab"))
    try:
        from guestready_lab import image, util
        directory = os.path.join(util.cache_dir(), "images",
                                 "%s-%s" % (variant, image.image_key(variant)))
    except Exception as exc:  # the lab is another part of the project: say what broke
        pytest.skip("cannot locate the lab image (%s: %s)" % (type(exc).__name__, exc))
    finally:
        sys.path.pop(0)
    for name in needed:
        if not os.path.exists(os.path.join(directory, name)):
            pytest.skip("lab image %r is not built (%s missing); build it with "
                        "`lab/lab image --variant %s`" % (variant, os.path.join(directory, name), variant))
    return directory


def device(disk):
    """``disk?offset=N`` for the first MBR partition (the lab's root filesystem)."""
    with open(disk, "rb") as handle:
        mbr = handle.read(512)
    assert mbr[510:512] == b"\x55\xaa", "%s: no MBR" % disk
    return "%s?offset=%d" % (disk, struct.unpack("<I", mbr[446 + 8:446 + 12])[0] * 512)


def debugfs(disk, *requests):
    """Run debugfs requests against the image's root filesystem; their output."""
    script = "".join(request + "\n" for request in requests)
    proc = subprocess.run(["debugfs", "-f", "-", device(disk)], input=script, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout
