"""Benchmark: a 2 GiB disk image from file to import archive, without booting it.

Usage: python tests/bench/image_bench.py [--repeat N] [--variant boot-bios] [--keep]

Measured on a copy of the lab's bootable disk (2 GiB raw, GRUB, Debian 12):
  audit-raw     disk_image audit of the raw file (attach, every area, IMG-*)
  audit-qcow2   the same image as qcow2 (through qemu-storage-daemon's FUSE export)
  tar           the baseline: `tar --format=oldgnu -Sczf` of the same raw file
  pack          disk_image's pack step on the same file (the archive, its sha256
                and the check of what was written)
Targets: audit <= 60 s on this machine; pack <= 1.1 x tar.  Each contender runs
--repeat times, alternating with the baseline; the minimum of each is what
the ratio compares (the least disturbed run: the machine is shared).  Prints
the numbers; asserts nothing.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, ".ansible", "collections"))
sys.path.insert(0, os.path.join(ROOT, "lab"))
from ansible_collections.guestready.gce.plugins.module_utils import diskimage, imagefile, importarchive  # noqa: E402


def log(message):
    print("[image-bench] %s" % message, flush=True)


def lab_disk(variant):
    from guestready_lab import image
    return image.ensure_image(variant)["disk"]


def timed(function):
    started = time.monotonic()
    function()
    return time.monotonic() - started


def audit(path, work):
    params = dict((key, spec.get("default")) for key, spec in diskimage.ARGUMENT_SPEC.items())
    params.update(path=path, workdir=work, waivers={}, overrides={})
    result = diskimage.run(params)
    return result["summary"]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--variant", default="boot-bios")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    source = lab_disk(args.variant)
    work = tempfile.mkdtemp(prefix="image-bench-", dir=os.path.join(ROOT, "build") if os.path.isdir(
        os.path.join(ROOT, "build")) else None)
    try:
        raw = os.path.join(work, "disk.raw")
        subprocess.run(["cp", "--sparse=always", source, raw], check=True)
        qcow2 = os.path.join(work, "disk.qcow2")
        subprocess.run(["qemu-img", "convert", "-O", "qcow2", raw, qcow2], check=True)
        disk = imagefile.describe_disk(raw, False)
        size = os.path.getsize(raw)
        used = os.stat(raw).st_blocks * 512
        log("image: %s, %d bytes (%d allocated), load average %.1f" % (source, size, used, os.getloadavg()[0]))
        times = {"audit-raw": [], "audit-qcow2": [], "tar": [], "pack": []}
        for round_number in range(args.repeat):
            times["audit-raw"].append(timed(lambda: audit(raw, work)))
            times["audit-qcow2"].append(timed(lambda: audit(qcow2, work)))
            baseline = os.path.join(work, "baseline.tar.gz")
            times["tar"].append(timed(lambda: subprocess.run(
                ["tar", "--format=oldgnu", "-Sczf", baseline, "disk.raw"], cwd=work, check=True)))
            times["pack"].append(timed(lambda: importarchive.pack(disk, os.path.join(work, "packed"))))
            log("round %d: %s (load %.1f)" % (round_number + 1, ", ".join(
                "%s %.1f s" % (name, values[-1]) for name, values in times.items()), os.getloadavg()[0]))
        best = dict((name, min(values)) for name, values in times.items())
        print()
        print("%-12s %8s %8s   %s" % ("contender", "best s", "median s", "target"))
        targets = {"audit-raw": "<= 60 s", "audit-qcow2": "<= 60 s", "tar": "baseline",
                   "pack": "<= 1.1 x tar"}
        for name, values in times.items():
            ordered = sorted(values)
            print("%-12s %8.1f %8.1f   %s" % (name, best[name], ordered[len(ordered) // 2], targets[name]))
        print()
        print("pack / tar = %.2f (best runs; target <= 1.10)" % (best["pack"] / best["tar"]))
        print("audit of a %.0f GiB image: %.1f s raw, %.1f s qcow2 (target <= 60 s)" % (
            size / float(1 << 30), best["audit-raw"], best["audit-qcow2"]))
        packed_size = os.path.getsize(os.path.join(work, "packed.tar.gz"))
        print("archive: %d bytes (tar: %d bytes)" % (packed_size, os.path.getsize(os.path.join(work, "baseline.tar.gz"))))
    finally:
        if args.keep:
            log("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
