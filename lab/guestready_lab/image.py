"""Guest disk images: cache key, build, compressed archive, restore.

Cache layout (${GUESTREADY_LAB_CACHE:-~/.cache/guestready-lab}):
  apt-archives/                 .deb files reused between builds (sync-in / sync-out)
  images/<variant>-<key>/       disk.raw (read-only base), vmlinuz, initrd.img, id_ed25519,
                                image.json, kernels.txt, packages.txt (bootable variants,
                                built by build-disk.sh: no vmlinuz/initrd.img)
  archive/<variant>-<key>.tar.zst   the same, compressed (what CI should cache)
  snapshots/<profile>-<net>-<key>/  saved VM snapshots (see guests.py)
"""

import glob
import hashlib
import json
import os
import shutil
import time

from . import profiles
from .util import LabError, cache_dir, file_lock, log, require_tools, run, write_json, read_json, LAB_DIR

BUILD_SCRIPT = os.path.join(LAB_DIR, "build-image.sh")
DISK_SCRIPT = os.path.join(LAB_DIR, "build-disk.sh")  # bootable variants (IMAGES[v]["firmware"])
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
FILES = ["disk.raw", "vmlinuz", "initrd.img", "id_ed25519", "id_ed25519.pub", "image.json"]


APT_SOURCE = "deb [trusted=yes] http://169.254.169.253/debian ./"  # aptrepo.py, qemu.REPO_IP


def packages(variant):
    v = profiles.IMAGES[variant]
    return profiles.BASE_PACKAGES + v["kernels"] + v.get("extra_packages", [])


def build_env(variant):
    """What build-image.sh reads from its environment (part of the image key)."""
    return {"LAB_SUDO_USER": profiles.SUDO_USER, "LAB_APT_SOURCE": APT_SOURCE,
            "LAB_GUEST_ENVIRONMENT": "yes" if profiles.IMAGES[variant].get("guest_environment") else "no"}


def firmware(variant):
    """"bios" or "uefi" for a bootable variant, None for a direct-kernel-boot one."""
    return profiles.IMAGES[variant].get("firmware")


def files(variant):
    if firmware(variant):
        return [f for f in FILES if f not in ("vmlinuz", "initrd.img")]
    return FILES


def _sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def image_key(variant):
    if variant not in profiles.IMAGES:
        raise LabError("unknown image variant %r (known: %s)"
                       % (variant, ", ".join(sorted(profiles.IMAGES))))
    configs = {os.path.basename(path): _sha256(path)
               for path in sorted(glob.glob(os.path.join(LAB_DIR, "guest-configs", "*")))}
    inputs = {
        "script": _sha256(BUILD_SCRIPT),
        "guest_configs": configs,
        "variant": variant,
        "packages": packages(variant),
        "boot_flavour": profiles.IMAGES[variant]["boot_flavour"],
        "suite": SUITE,
        "mirror": MIRROR,
        "env": build_env(variant),
    }
    if firmware(variant):  # build-disk.sh runs build-image.sh's customize hook: both count
        inputs.update(firmware=firmware(variant), disk_script=_sha256(DISK_SCRIPT))
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def _paths(variant):
    key = image_key(variant)
    name = "%s-%s" % (variant, key)
    cache = cache_dir()
    return key, os.path.join(cache, "images", name), os.path.join(cache, "archive", name + ".tar.zst")


def image_info(imgdir):
    info = read_json(os.path.join(imgdir, "image.json"))
    info.update({
        "dir": imgdir,
        "disk": os.path.join(imgdir, "disk.raw"),
        "ssh_key": os.path.join(imgdir, "id_ed25519"),
    })
    if not info.get("firmware"):  # booted with -kernel/-initrd
        info.update(kernel=os.path.join(imgdir, "vmlinuz"), initrd=os.path.join(imgdir, "initrd.img"))
    return info


def _complete(imgdir, variant):
    return all(os.path.exists(os.path.join(imgdir, f)) for f in files(variant))


def ensure_image(variant, rebuild=False):
    """Return image info for `variant`, restoring or building it when needed."""
    key, imgdir, archive = _paths(variant)
    if not rebuild and _complete(imgdir, variant):
        return image_info(imgdir)
    with file_lock(os.path.join(cache_dir(), "locks", "image-%s.lock" % variant), "image " + variant):
        if not rebuild and _complete(imgdir, variant):
            return image_info(imgdir)
        if not rebuild and os.path.exists(archive):
            restore(archive, imgdir, variant)
            return image_info(imgdir)
        build(variant, key, imgdir, archive)
    return image_info(imgdir)


def restore(archive, imgdir, variant):
    require_tools("tar", "zstd")
    t0 = time.monotonic()
    tmp = imgdir + ".restore.%d" % os.getpid()
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        run(["tar", "-C", tmp, "--sparse", "-I", "zstd -d -T0", "-xf", archive])
        if not _complete(tmp, variant):
            raise LabError("archive %s is incomplete; delete it to rebuild" % archive)
        shutil.rmtree(imgdir, ignore_errors=True)
        os.replace(tmp, imgdir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log("image restored from %s in %.1f s" % (archive, time.monotonic() - t0))


def build(variant, key, imgdir, archive):
    require_tools("mmdebstrap", "mkfs.ext4", "sfdisk", "ssh-keygen", "tar", "zstd")
    fw = firmware(variant)
    if fw == "uefi":
        require_tools("mkfs.vfat", "mmd", "mcopy")
    cache = cache_dir()
    aptcache = os.path.join(cache, "apt-archives")
    os.makedirs(aptcache, exist_ok=True)
    os.makedirs(os.path.dirname(archive), exist_ok=True)
    tmp = imgdir + ".build.%d" % os.getpid()
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    debs_before = len(glob.glob(os.path.join(aptcache, "*.deb")))
    log("building image %s-%s (apt cache: %d .deb files; log: %s/build.log)"
        % (variant, key, debs_before, tmp))
    t0 = time.monotonic()
    try:
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "guestready-lab-%s" % key,
             "-f", os.path.join(tmp, "id_ed25519")])
        with open(os.path.join(tmp, "build.log"), "w") as logf:
            rc = _run_logged([DISK_SCRIPT if fw else BUILD_SCRIPT, os.path.join(tmp, "out"),
                              aptcache, os.path.join(tmp, "id_ed25519.pub"),
                              profiles.IMAGES[variant]["boot_flavour"],
                              ",".join(packages(variant)), MIRROR] + ([fw] if fw else []), logf,
                             dict(os.environ, **build_env(variant)))
        if rc != 0:
            with open(os.path.join(tmp, "build.log")) as f:
                tail = [l for l in f.read().splitlines() if l.strip()][-1:] or ["?"]
            keep = imgdir + ".failed"
            shutil.rmtree(keep, ignore_errors=True)
            os.replace(tmp, keep)
            raise LabError("image build failed (exit %d): %s (log: %s/build.log)"
                           % (rc, tail[0], keep))
        out = os.path.join(tmp, "out")
        for f in os.listdir(out):
            os.replace(os.path.join(out, f), os.path.join(tmp, f))
        os.rmdir(out)
        os.chmod(os.path.join(tmp, "disk.raw"), 0o444)  # base image: read-only backing file
        build_s = time.monotonic() - t0
        with open(os.path.join(tmp, "kernel-release")) as f:
            kver = f.read().strip()
        with open(os.path.join(tmp, "kernels.txt")) as f:
            kernels = f.read().split()
        meta = {
            "variant": variant, "key": key, "suite": SUITE,
            "packages": packages(variant), "boot_kernel": kver, "kernels": kernels,
            "users": list(profiles.LOGIN_USERS),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "build_seconds": round(build_s, 1), "apt_cache_debs_before": debs_before,
        }
        if fw:  # firmware, partition table, root UUID, GRUB's kernel command line
            meta.update(read_json(os.path.join(tmp, "build-info.json")))
            os.remove(os.path.join(tmp, "build-info.json"))
        else:
            meta["append"] = profiles.KERNEL_APPEND
        write_json(os.path.join(tmp, "image.json"), meta)
        t1 = time.monotonic()
        tmp_archive = archive + ".tmp.%d" % os.getpid()
        run(["tar", "-C", tmp, "--sparse", "-I", "zstd -3 -T0", "-cf", tmp_archive]
            + files(variant) + ["kernel-release", "kernels.txt", "packages.txt"])
        os.replace(tmp_archive, archive)
        shutil.rmtree(imgdir, ignore_errors=True)
        os.replace(tmp, imgdir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log("image %s-%s built in %.0f s (+%.0f s to compress %s)"
        % (variant, key, build_s, time.monotonic() - t1, archive))


def _run_logged(cmd, logf, env=None):
    import subprocess
    try:
        return subprocess.run(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              env=env).returncode
    except KeyboardInterrupt:
        raise LabError("image build interrupted") from None


def prune():
    """Remove cached images, archives and snapshots whose key is no longer current."""
    cache = cache_dir()
    current = {"%s-%s" % (v, image_key(v)) for v in profiles.IMAGES}
    removed = []
    for d in glob.glob(os.path.join(cache, "images", "*")):
        if os.path.basename(d) not in current:
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    for a in glob.glob(os.path.join(cache, "archive", "*.tar.zst")):
        if os.path.basename(a)[:-len(".tar.zst")] not in current:
            os.remove(a)
            removed.append(a)
    keys = {name.split("-", 1)[1] for name in current}
    for s in glob.glob(os.path.join(cache, "snapshots", "*")):
        meta = os.path.join(s, "snapshot.json")
        if not os.path.exists(meta) or read_json(meta).get("image_key") not in keys:
            shutil.rmtree(s, ignore_errors=True)
            removed.append(s)
    return removed
