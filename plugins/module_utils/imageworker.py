# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image worker: one process, PID 1 of private PID and mount namespaces,
that attaches a disk image, finds and mounts its root filesystem and what its
fstab needs, runs every registered requirement area on that tree (checks,
and for harden the applies) and judges the IMG-* requirements.  Whatever
happens, what it mounted and started goes away with it (imagefile's module
doc says how).

``spawn(request, timeout)`` runs it from a module and returns its answer;
``main()`` is the worker itself (a JSON request on stdin, a JSON answer on
stdout).  The request::

    {"disk": describe_disk(...), "mode": "audit"|"harden", "check_mode": bool,
     "areas": [names] or None (every area whose options have ``root``),
     "apply": [names] or None (every area that applies), "area_options": {name: {...}},
     "waivers": {...}, "overrides": {...}, "archive": archive facts or None,
     "label": how to show the image in messages, "workdir": path or None, "timeout": s}
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import traceback

from ansible_collections.guestready.gce.plugins.module_utils import areas as registry
from ansible_collections.guestready.gce.plugins.module_utils import bootconfig, bootdisk, imagecheck, imagefile, modalias
from ansible_collections.guestready.gce.plugins.module_utils import partitions
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import CATALOGUE, GUEST_OS_FEATURES, requirements
from ansible_collections.guestready.gce.plugins.module_utils.devices import release_arch
from ansible_collections.guestready.gce.plugins.module_utils.imagefile import ImageError
from ansible_collections.guestready.gce.plugins.module_utils.policy import PolicyError, resolve
from ansible_collections.guestready.gce.plugins.module_utils.target import Target, TargetError

BOOT = ("import json, sys; sys.path[:0] = json.loads(sys.argv[1]); "
        "from ansible_collections.guestready.gce.plugins.module_utils import bytecode; bytecode.install(); "
        "from ansible_collections.guestready.gce.plugins.module_utils import imageworker; imageworker.main()")
CLEANUP_MARGIN = 30


class WorkerTimeout(BaseException):
    """The worker's own deadline: unwinds through every cleanup."""


# --------------------------------------------------------------------------
# the module's side
# --------------------------------------------------------------------------

def spawn(request, timeout):
    """Run the worker in its private namespaces; its answer as a dict.
    ImageError when it could not run or did not answer in time (it is then
    killed, and the kernel releases what it held)."""
    unshare = imagefile.tool("unshare")
    paths = [path for path in sys.path if path]
    cmd = [unshare, "--mount", "--propagation", "private", "--pid", "--fork", "--kill-child", "--",
           sys.executable, "-c", BOOT, json.dumps(paths)]
    request = dict(request, timeout=timeout, owner=os.getpid())
    imagefile.remove_stale(request.get("workdir"))
    try:
        # in the module's process group: a controller that kills the module's group kills it too
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise ImageError("cannot start the image worker: %s" % exc.strerror)
    try:
        out, err = proc.communicate(json.dumps(request).encode("utf-8"), timeout=timeout + CLEANUP_MARGIN)
    except subprocess.TimeoutExpired:
        _stop(proc)
        raise ImageError("%s: the audit did not finish within %d s; it was stopped and everything it "
                         "mounted or attached was released" % (request["label"], timeout))
    except BaseException:
        _stop(proc)
        raise
    text = err.decode("utf-8", "replace")
    if b"unshare failed" in err or (proc.returncode and not out and "Operation not permitted" in text):
        raise ImageError("cannot create private mount and PID namespaces (%s): auditing a disk image needs "
                         "root" % imagefile._last_line(text))
    try:
        answer = json.loads(out.decode("utf-8"))
    except ValueError:
        raise ImageError("the image worker ended without an answer (exit status %s): %s" % (
            proc.returncode, imagefile._last_line(text) or "no message"))
    answer["stderr"] = text[-4000:]
    return answer


def _children(pid, proc_root="/proc"):
    """The PIDs whose parent is ``pid``."""
    found = []
    for name in os.listdir(proc_root):
        try:
            with open(os.path.join(proc_root, name, "stat"), "rb") as handle:
                # "pid (comm) state ppid ...": comm may hold spaces, parentheses, any bytes
                if int(handle.read().rsplit(b")", 1)[1].split()[1]) == pid:
                    found.append(int(name))
        except (IOError, OSError, ValueError, IndexError):
            continue
    return found


def _stop(proc):
    """SIGKILL unshare and the worker, and wait for unshare.  unshare's
    --kill-child alone misses a worker forked just as unshare is killed (its
    parent-death signal not yet armed): that worker lived on, holding the
    answer's pipes, and the wait for them never ended.  unshare is stopped
    first, so that it forks nothing more, then its children are killed (the
    worker's namespaces and mounts die with it), then unshare."""
    try:
        os.kill(proc.pid, signal.SIGSTOP)
    except OSError:
        pass
    for child in _children(proc.pid):
        try:
            os.kill(child, signal.SIGKILL)
        except OSError:
            pass
    proc.kill()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        try:
            stream.close()
        except (OSError, ValueError):
            pass
    proc.wait()


# --------------------------------------------------------------------------
# the worker's side
# --------------------------------------------------------------------------

class _Module(object):
    """What the areas use of an AnsibleModule, inside the worker."""

    def __init__(self, check_mode):
        self.check_mode = check_mode
        self.warnings = []
        self.params = {}
        self.image_disk = None   # the image's partitions (bootdisk.ImageDisk): which fstab entries are on it

    def warn(self, message):
        self.warnings.append(message)

    def get_bin_path(self, name, required=False, opt_dirs=None):
        found = shutil.which(name)
        if required and not found:
            raise ImageError("%s is needed and not installed" % name)
        return found

    def run_command(self, args, check_rc=False, **kwargs):
        proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        # decoded as AnsibleModule.run_command() decodes (errors='surrogate_or_strict'): an
        # image's rpm database may print any bytes, whatever this process's locale
        return (proc.returncode, proc.stdout.decode("utf-8", "surrogateescape"),
                proc.stderr.decode("utf-8", "surrogateescape"))

    def fail_json(self, msg, **kwargs):
        raise ImageError(msg)


def _relabel(value, prefix, label):
    """Show paths in the image's mounted tree as ``image:/path`` (the private
    mount directory means nothing to the user, and is gone afterwards)."""
    if isinstance(value, dict):
        return dict((key, _relabel(item, prefix, label)) for key, item in value.items())
    if isinstance(value, list):
        return [_relabel(item, prefix, label) for item in value]
    if isinstance(value, str) and prefix in value:
        root = os.path.join(prefix, "root")
        return value.replace(root + "/", label + ":/").replace(root, label + ":/").replace(prefix, label + ":")
    return value


def _btrfs_subvolume(target):
    """A btrfs top level without /etc: the subvolume directory holding the root
    (a directory, never a symbolic link: the caller opens the subvolume by its
    name on this machine, where a link such as ``@ -> /proc/1/root`` would
    lead out of the image)."""
    try:
        names = target.listdir("/")
    except TargetError:
        return None
    for name in names:
        if target.islink("/" + name) or not target.isdir("/" + name):
            continue
        if target.isfile("/%s/etc/fstab" % name) or target.isfile("/%s/etc/os-release" % name):
            return name
    return None


def find_root(attachment, parts):
    """``(partition, facts, subvolume)`` of the root filesystem, or
    ``(None, status, reason)``."""
    candidates, notes = [], []
    for part in parts:
        fs = part["filesystem"]
        if fs["type"] not in imagefile.MOUNTABLE_ROOTS:
            continue
        where = os.path.join(attachment.dir, "probe-%d" % part["number"])
        os.mkdir(where, 0o700)
        try:
            try:
                attachment.mount(part, fs["type"], where, writable=False)
            except ImageError as exc:
                notes.append(str(exc))
                continue
            target = Target(where)
            subvolume = None
            found = imagefile._root_candidate(target)
            if found is None and fs["type"] == "btrfs":
                subvolume = _btrfs_subvolume(target)
                if subvolume:  # opened where the image's own resolution puts it, never outside
                    found = imagefile._root_candidate(Target(target.host_path("/" + subvolume)))
            if found:
                candidates.append((part, found, subvolume))
        finally:
            attachment.unmount(where)
            os.rmdir(where)  # empty once unmounted; close() removes what a failure left
    if not candidates:
        status, reason = imagefile._not_a_root_reason(parts)
        if notes and status == "fail":
            # a filesystem this machine could not mount may well hold the root: not judged
            return None, "unknown", (
                "no root filesystem found in what this machine could mount, and %s could not be mounted here "
                "(%s): the root may be there; audit the image on a machine whose kernel mounts it" % (
                    "a filesystem" if len(notes) == 1 else "%d filesystems" % len(notes), "; ".join(notes)))
        if notes:
            reason += " (%s)" % "; ".join(notes)
        return None, status, reason
    for part, found, subvolume in candidates:
        for entry in imagefile.resolve_fstab(found["fstab_text"], parts):
            if entry["file"] == "/" and entry["partition"] == part["number"]:
                return part, found, subvolume
    with_release = [c for c in candidates if c[1]["os_release"]]
    return (with_release or candidates)[0]


def _mount_fstab(attachment, target, rootdir, entries, parts):
    """Mount fstab's filesystems that live on this disk (by depth), where the
    tree's own resolution puts their mount points, never outside the root."""
    mounted, notes = [], []
    by_number = dict((p["number"], p) for p in parts)
    for entry in sorted(entries, key=lambda e: (e["file"].rstrip("/").count("/"), e["file"])):
        # a mount point that is no absolute path is none systemd mounts
        if not entry["file"].startswith("/") or entry["file"] == "/" or entry["vfstype"] == "swap" or \
                entry["partition"] is None:
            continue
        part = by_number.get(entry["partition"])
        fstype = part["filesystem"]["type"] if part else None
        if not part or not part["filesystem"]["mountable"]:
            notes.append("%s: partition %s has no filesystem this can mount (%s)" % (
                entry["file"], entry["partition"], fstype))
            continue
        if fstype == "vfat" and not attachment.vfat:
            notes.append("%s (partition %d, FAT): not mounted, this kernel has no FAT driver; the ESP is "
                         "read by the built-in FAT reader" % (entry["file"], part["number"]))
            continue
        try:
            where = target.host_path(entry["file"])
        except TargetError as exc:
            notes.append("%s: %s" % (entry["file"], exc))
            continue
        if where == rootdir or not os.path.isdir(where) or os.path.ismount(where):
            notes.append("%s: no directory to mount partition %d on (%s)" % (
                entry["file"], part["number"], "it is the root" if where == rootdir else "missing or taken"))
            continue
        options = [o for o in entry["options"] if o.startswith("subvol=")] if fstype == "btrfs" else []
        try:
            attachment.mount(part, fstype, where, options=options)
        except ImageError as exc:
            notes.append("%s: %s" % (entry["file"], exc))
            continue
        mounted.append({"path": entry["file"], "partition": part["number"], "type": fstype})
    return mounted, notes


def _area_work(request, rootdir, release, target):
    """``[(area, params, applying)]`` for the registered areas that can run on
    a tree (their options include ``root``), and the ones skipped."""
    wanted = request.get("areas")
    applying_names = request.get("apply")
    if applying_names is None:
        applying_names = registry.APPLICABLE
    harden = request["mode"] == "harden"
    work, skipped = [], {}
    for area in registry.AREAS:
        if wanted is not None and area.name not in wanted:
            continue
        if "root" not in area.spec:
            skipped[area.name] = "its options have no root: it cannot run on an image tree"
            continue
        params = dict(area.image_params)
        if release and "kernel_release" in area.spec and \
                target.isdir(modalias.modules_dir(release, target)):
            params["kernel_release"] = release
        params.update((request.get("area_options") or {}).get(area.name) or {})
        params["root"] = rootdir
        applying = bool(harden and area.apply and area.name in applying_names)
        validated, errors = area.validate(params, applying, apply_options=True)
        if errors:
            raise ImageError("area_options.%s: %s" % (area.name, "; ".join(errors)))
        work.append((area, validated, applying))
    return work, skipped


def _linked(details, release):
    kernels = (details.get("kernel_config") or {}).get("kernels") or []
    chosen = next((k for k in kernels if k.get("release") == release), None)
    if chosen is None and release is None and kernels:
        top = details["kernel_config"].get("kernel")
        chosen = next((k for k in kernels if k.get("release") == top), kernels[-1])
    if chosen is None:
        return {}, None
    return dict((r["id"], r) for r in chosen.get("results") or [] if r["id"] in imagecheck.LINKED), \
        chosen.get("release")


def _gvnic(target, release):
    if not release:
        return None
    path = modalias.modules_dir(release, target)
    if not target.isdir(path):
        return None
    try:
        tree = modalias.KernelModules(path, target)
    except modalias.ModulesError:
        return None
    feature = GUEST_OS_FEATURES["GVNIC"]
    matches = tree.lookup(modalias.pci_modalias(feature["pci"]["vendor"], feature["pci"]["device"]))
    if not matches:
        driver = feature["driver"]
        if tree.is_builtin(driver) and not tree.builtin_aliases_listed(driver):
            # before Linux 6.18 a built-in driver's device table is not in the alias tables
            return "kernel %s has the gVNIC driver %s (built in, by its name in modules.builtin)" % (
                release, driver)
        return None
    match = matches[0]
    return "kernel %s has the gVNIC driver %s (%s)" % (release, match["module"],
                                                       "built in" if match["builtin"] else "module")


def audit(request):
    disk = request["disk"]
    writable = request["mode"] == "harden" and not request.get("check_mode")
    module = _Module(bool(request.get("check_mode")))
    wanted_areas = [a for a in registry.AREAS if request.get("areas") is None or a.name in request["areas"]]
    catalogue_areas = tuple(c for a in wanted_areas for c in a.catalogue_areas) + ("image",)
    try:
        entries, waivers = resolve(requirements(catalogue_areas), request.get("overrides") or {},
                                   request.get("waivers") or {})
    except PolicyError as exc:
        raise ImageError(str(exc))
    image_entries = [e for e in entries if e["area"] == "image"]
    facts = {"input": {"path": request["label"], "format": disk["format"], "virtual_size": disk["virtual_size"],
                       "block_device": disk["block_device"]},
             "archive": request.get("archive"), "inspected": True, "root": None, "fstab": None,
             "boot": None, "mounted": [], "notes": []}
    answer = {"facts": facts, "results": [], "areas": {}, "errors": [], "diff": [], "changed": False,
              "features": [], "skipped_areas": {}, "warnings": module.warnings}
    with imagefile.Attachment(disk, writable, request.get("workdir"), request.get("owner")) as attachment:
        prefix = attachment.dir
        with partitions.Disk(attachment.raw) as raw:
            table = partitions.read_table(raw)
            parts = imagefile._partitions_with_filesystems(raw, table)
            facts["table"] = dict(table, partitions=parts)
            module.image_disk = bootdisk.ImageDisk(parts)
            found = find_root(attachment, parts)
            if found[0] is None:
                facts["root_status"], facts["root_problem"] = found[1], found[2]
                esp = imagefile.gather_esp(raw, parts, None)
                facts["boot"] = {"bios": imagefile.gather_bios(raw, table, parts), "esp": esp, "menu": None}
                facts["arch"] = bootconfig.esp_arch(esp) or "x86_64"  # no kernel to tell
                answer["results"] = imagecheck.evaluate(facts, image_entries, waivers)
                answer["root_error"] = {"status": found[1], "message": found[2]}
                return _relabel(answer, prefix, request["label"])
            part, root_facts, subvolume = found
            rootdir = os.path.join(attachment.dir, "root")
            os.mkdir(rootdir, 0o700)
            attachment.mount(part, part["filesystem"]["type"], rootdir,
                             options=["subvol=%s" % subvolume] if subvolume else [])
            target = Target(rootdir)
            facts["root"] = {"partition": part["number"], "filesystem": part["filesystem"],
                             "os_release": root_facts["os_release"], "subvolume": subvolume}
            entries_fstab = imagefile.resolve_fstab(root_facts["fstab_text"], parts) \
                if root_facts["fstab_text"] is not None else None
            facts["fstab"] = entries_fstab
            if entries_fstab:
                facts["mounted"], notes = _mount_fstab(attachment, target, rootdir, entries_fstab, parts)
                facts["notes"].extend(notes)
            boot = imagefile.gather_boot(raw, table, parts, target, entries_fstab, None, subvolume)
            release = boot["release"]
            facts["boot"] = boot
            work, answer["skipped_areas"] = _area_work(request, rootdir, release, target)
            results, details, errors, diffs, changed = registry.run_areas(work, entries, waivers, module)
            kconfig_arch = ((details.get("kernel_config") or {}).get("kernels") or [{}])[-1].get("arch")
            # Ubuntu's release names do not say the architecture: its kernel configuration, or the ESP's loader
            arch = release_arch(release) or kconfig_arch or bootconfig.esp_arch(boot["esp"]) or "x86_64"
            facts["arch"] = arch
            if boot["esp"]:
                boot["esp"]["loader"] = (boot["esp"].get("loaders") or {}).get(bootconfig.LOADER_NAMES.get(arch))
            linked, boot["kernel_checked"] = _linked(details, release)
            # a default UKI's initramfs the kernel_config area could not reach is no missing one
            linked = dict((rid, imagecheck.uki_initramfs_unread(boot, r)) for rid, r in linked.items())
            results = [imagecheck.uki_initramfs_unread(boot, r) for r in results]
            image_results = imagecheck.evaluate(facts, image_entries, waivers, linked)
            gvnic = _gvnic(target, release)
            answer["features"] = imagecheck.guest_os_features(facts, image_results, linked, gvnic)
            order = dict((entry["id"], index) for index, entry in enumerate(CATALOGUE))
            answer.update(results=sorted(results + image_results, key=lambda r: order[r["id"]]),
                          areas=details, errors=errors, diff=diffs, changed=changed)
            if writable:
                os.sync()
    return _relabel(answer, prefix, request["label"])


def main():
    result_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # nothing but the answer goes to the module

    def deadline(signum, frame):
        raise WorkerTimeout()

    def stop(signum, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGALRM, deadline)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    request = json.load(sys.stdin)
    signal.alarm(max(1, int(request.get("timeout") or 3600)))
    try:
        answer = audit(request)
    except ImageError as exc:
        answer = {"error": str(exc), "kind": exc.kind}
    except WorkerTimeout:
        answer = {"error": "%s: the audit did not finish within %s s; everything it mounted was released" % (
            request.get("label"), request.get("timeout")), "kind": "timeout"}
    except KeyboardInterrupt:
        answer = {"error": "interrupted; everything mounted was released", "kind": "interrupted"}
    except Exception as exc:  # a bug: say where, still after every cleanup ran
        answer = {"error": "internal error in the image worker: %s: %s" % (type(exc).__name__, exc),
                  "kind": "error", "traceback": traceback.format_exc()}
    signal.alarm(0)
    json.dump(answer, result_out)
    result_out.flush()
