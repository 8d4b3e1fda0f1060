# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The disk_image module's work: from an image file to an importable archive.

audit   attach read-only, run every area's checks on the mounted tree, judge IMG-*;
harden  the same, read-write, applying the areas that apply (sysctl...);
pack    then write ``<pack>.tar.gz`` (disk.raw, oldgnu, sparse, gzip) when no
        required requirement fails, with its sha256 and the gcloud command.

An import archive given as ``path`` (recognised by content) is audited as
such: its headers, then the disk inside it, restored sparse to a scratch
directory.  One lock per image file (shared for audits, exclusive for
harden) keeps two runs from changing one image at once.
"""

import contextlib
import errno
import fcntl
import os
import shutil
import stat
import tempfile
import time

from ansible_collections.guestready.gce.plugins.module_utils import areas as registry
from ansible_collections.guestready.gce.plugins.module_utils import imagecheck, imagefile, importarchive, imageworker
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import requirements
from ansible_collections.guestready.gce.plugins.module_utils.imagefile import ImageError
from ansible_collections.guestready.gce.plugins.module_utils.policy import PolicyError, resolve
from ansible_collections.guestready.gce.plugins.module_utils.results import STATUSES, summarize
from ansible_collections.guestready.gce.plugins.module_utils.target import lock_holder

ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    mode=dict(type="str", default="audit", choices=["audit", "harden"]),
    pack=dict(type="path"),
    image_name=dict(type="str"),
    bucket=dict(type="str", default="BUCKET"),
    pack_anyway=dict(type="bool", default=False),
    audit_archive_contents=dict(type="bool", default=True),
    areas=dict(type="list", elements="str"),
    apply=dict(type="list", elements="str"),
    area_options=dict(type="dict", default={}),
    timeout=dict(type="int", default=1800),
    lock_timeout=dict(type="int", default=300),
    workdir=dict(type="path"),
)


class Failed(Exception):
    """The run ends as a failed task: ``message``, and whatever was found."""

    def __init__(self, message, **fields):
        super(Failed, self).__init__(message)
        self.fields = fields


@contextlib.contextmanager
def image_lock(path, exclusive, timeout, on_wait=None):
    """An advisory flock on the image file itself."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ImageError("%s: %s" % (path, exc.strerror))
    try:
        started, told = time.time(), False
        while True:
            try:
                fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
                break
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise ImageError("%s: cannot lock: %s" % (path, exc.strerror))
            holder = lock_holder(fd)
            if time.time() - started > timeout:
                raise imagefile.Refused("%s: another guestready.gce run%s is using it; waited %d s" % (
                    path, " (pid %s)" % holder if holder else "", timeout))
            if on_wait and not told:
                on_wait("waiting for another guestready.gce run%s using %s" % (
                    " (pid %s)" % holder if holder else "", path))
                told = True
            time.sleep(0.5)
        yield
    finally:
        os.close(fd)


def _check_areas(params):
    from ansible_collections.guestready.gce.plugins.module_utils import areas as registry
    for option in ("areas", "apply"):
        unknown = [name for name in params.get(option) or [] if name not in registry.BY_NAME]
        if unknown:
            raise ImageError("%s: unknown area(s) %s (known: %s)" % (option, ", ".join(unknown), ", ".join(registry.NAMES)))
    unknown = [name for name in params.get("area_options") or {} if name not in registry.BY_NAME]
    if unknown:
        raise ImageError("area_options: unknown area(s) %s (known: %s)" % (", ".join(unknown), ", ".join(registry.NAMES)))
    # before the disk is attached (the worker checks them again on the mounted tree): an area's
    # options that are not a mapping ended the worker with an internal error, a misspelt one late
    for name, options in sorted((params.get("area_options") or {}).items()):
        if not options:
            continue
        if not isinstance(options, dict):
            raise ImageError("area_options.%s: the options of an area are a mapping of option to value, got %s %r"
                             % (name, type(options).__name__, options))
        area = registry.BY_NAME[name]
        dummy, errors = area.validate(dict(area.image_params, **dict(options, root="/")), apply_options=True)
        if errors:
            raise ImageError("area_options.%s: %s" % (name, "; ".join(errors)))


def _blocking(results):
    """Required requirements that fail: the reasons not to pack."""
    return ["%s %s" % (r["id"], r["status"]) for r in results
            if STATUSES[r["status"]] == "fail" and r["severity"] == "required"]


def _summary_of(facts):
    """The image facts a user reads (the full facts stay in ``facts``)."""
    table = facts.get("table") or {}
    root = facts.get("root") or {}
    boot = facts.get("boot") or {}
    return {
        "path": facts["input"]["path"], "format": facts["input"]["format"],
        "virtual_size": facts["input"]["virtual_size"], "partition_table": table.get("kind"),
        "partitions": [{"number": p["number"], "start": p["start"], "size": p["size"], "type": p["type_name"],
                        "bootable": p["bootable"], "filesystem": (p.get("filesystem") or {}).get("type"),
                        "uuid": (p.get("filesystem") or {}).get("uuid"),
                        "label": (p.get("filesystem") or {}).get("label")} for p in table.get("partitions") or []],
        "root": {"partition": root.get("partition"), "os": (root.get("os_release") or {}).get("PRETTY_NAME")}
        if root else None,
        "mounted": facts.get("mounted") or [],
        "kernel": boot.get("release") or boot.get("kernel_checked"),
        "boot_entry": ((boot.get("menu") or {}).get("default") or {}).get("title"),
        "arch": facts.get("arch"),
        "notes": facts.get("notes") or [],
    }


def _request(params, disk, label, check_mode, archive=None):
    return {"disk": disk, "mode": params["mode"], "check_mode": check_mode, "areas": params.get("areas"),
            "apply": params.get("apply"), "area_options": params.get("area_options") or {},
            "waivers": params.get("waivers") or {}, "overrides": params.get("overrides") or {},
            "archive": archive, "label": label, "workdir": params.get("workdir")}


def _worker(params, disk, label, check_mode, archive=None):
    answer = imageworker.spawn(_request(params, disk, label, check_mode, archive), params["timeout"])
    if answer.get("error"):
        message = answer["error"]
        if label not in message and disk.get("path") not in message:
            message = "%s: %s" % (label, message)  # the worker's errors name partitions, not the image
        raise Failed(message, kind=answer.get("kind"), worker_stderr=answer.get("stderr"),
                     traceback=answer.get("traceback"))
    if answer.get("root_error"):
        facts = answer["facts"]
        raise Failed("%s: %s: %s" % (label, answer["root_error"]["status"], answer["root_error"]["message"]),
                     kind=answer["root_error"]["status"], results=answer["results"],
                     summary=summarize(answer["results"]), image=_summary_of(facts), facts=facts)
    return answer


def _audit_archive(params, path, label, check_mode):
    archive = importarchive.read_archive(path)
    first = importarchive.disk_member(archive)
    members = [first] if first else []
    if not params["audit_archive_contents"] or not members or archive["member_content"] not in (None, "raw") \
            or archive["problems"]:
        why = ("audit_archive_contents is false" if not params["audit_archive_contents"] else
               "no regular file in it" if not members else
               # tar -x fails on it (or restores a disk cut short): the archive's verdicts say why
               "the archive is damaged (%s)" % "; ".join(archive["problems"]) if archive["problems"] else
               "its member %s is a %s file" % (archive["content_member"], archive["member_content"]))
        try:
            entries, waivers = resolve(requirements("image"), params.get("overrides") or {}, params.get("waivers") or {})
        except PolicyError as exc:
            raise ImageError(str(exc))
        facts = {"input": {"path": label, "format": "raw",
                           "virtual_size": members[0]["real_size"] if members else None, "block_device": False},
                 "archive": archive, "inspected": False, "not_inspected": why}
        results = imagecheck.evaluate(facts, entries, waivers)
        return {"facts": facts, "results": results, "areas": {}, "errors": [], "diff": [], "changed": False,
                "features": [], "warnings": []}
    imagefile.remove_stale(params.get("workdir"))
    scratch = tempfile.mkdtemp(prefix="guestready-archive-%d-" % os.getpid(), dir=params.get("workdir"))
    try:
        os.chmod(scratch, 0o700)
        # the regular member, also when a link or a directory of its name comes first
        occurrence = [m["name"] for m in archive["members"][:archive["members"].index(first) + 1]].count(first["name"])
        # tar -x writes every byte stored (a dense member's zeros too, a sparse one's data): a member
        # that does not fit would fill the scratch filesystem (this machine's /tmp) before tar fails
        free = _free_bytes(scratch)
        if first["size"] > free:
            raise ImageError("%s: its member %s stores %d bytes, more than the %d bytes free in %s: not restored "
                             "to audit it; give a workdir with room, or set audit_archive_contents false" % (
                                 label, first["name"], first["size"], free, os.path.dirname(scratch)))
        disk_path = importarchive.extract(path, first["name"], scratch, occurrence)
        try:
            disk = imagefile.describe_disk(disk_path, False, member=True)
        except ImageError as exc:  # named by the user's archive, not the scratch copy (gone when this returns)
            raise ImageError(str(exc).replace(disk_path, "%s (member %s)" % (label, first["name"])))
        answer = _worker(dict(params, mode="audit"), disk, label, check_mode, archive)
        answer["facts"]["input"]["path"] = label
        return answer
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _free_bytes(path):
    info = os.statvfs(path)
    return info.f_bavail * info.f_frsize


def _pack(params, disk, answer, check_mode):
    # an area that could not be handled left its IDs out: nothing says they pass
    blocking = _blocking(answer["results"]) + ["%s (not judged)" % e for e in answer.get("errors") or []]
    if blocking and not params["pack_anyway"]:
        raise Failed("%s: not packed: the image fails %s (fix them, or set pack_anyway)" % (
            params["path"], ", ".join(blocking)), not_packed=blocking, results=answer["results"],
            summary=summarize(answer["results"]), image=_summary_of(answer["facts"]),
            changed=bool(answer.get("changed")))
    archive = os.path.abspath(importarchive.archive_path(params["pack"]))
    importarchive.check_destination(disk["path"], archive)  # in check mode too: a real run would refuse
    features = [name for name, reason in answer["features"]]
    name = importarchive.image_name(params.get("image_name"), archive)
    command, source = importarchive.gcloud_command(name, params["bucket"], archive, features,
                                                   answer["facts"].get("arch"))
    outcome = {"archive": archive, "image_name": name, "source_uri": source, "gcloud_command": command,
               "guest_os_features": [{"feature": f, "reason": r} for f, r in answer["features"]],
               "blocking": blocking, "written": False}
    if check_mode:
        return outcome
    outcome.update(importarchive.pack(disk, archive, params.get("workdir")), written=True)
    written = importarchive.read_archive(archive, first_member_only=True)
    try:
        entries, waivers = resolve([e for e in requirements("image") if e["id"] in imagecheck.ARCHIVE_IDS],
                                   {}, params.get("waivers") or {})
    except PolicyError as exc:
        raise ImageError(str(exc))
    rejudged = dict((r["id"], r) for r in imagecheck.evaluate(dict(answer["facts"], archive=written), entries, waivers))
    for result in rejudged.values():
        result["evidence"]["archive"] = archive
    answer["results"] = [rejudged.get(r["id"], r) for r in answer["results"]]
    outcome["member"] = written["members"][0] if written["members"] else None
    return outcome


def _with_not_run_waivers(params, results, ran):
    """``results`` plus the waivers of the areas the run left out (``areas``,
    an archive whose contents were not inspected) as waived records that say
    not checked (areas.add_not_run_waivers)."""
    left_out = [area for area in registry.AREAS if area.name not in ran]
    entries, waivers = resolve(requirements(tuple(c for area in left_out for c in area.catalogue_areas)),
                               params.get("overrides") or {}, params.get("waivers") or {})
    return registry.add_not_run_waivers(results, entries, waivers, left_out)


def run(params, check_mode=False, warn=None):
    """The module's result fields; Failed or ImageError for a failed task."""
    _check_areas(params)
    label = params["path"]
    if not (label or "").strip():   # abspath("") is the working directory
        raise ImageError("path: %r is empty: give the disk image file, import archive or block device" % label)
    if params.get("timeout") is not None and params["timeout"] < 1:
        # 0 is not "no limit": the worker was stopped after its cleanup margin, "within 0 s"
        raise ImageError("timeout: %s is not a number of seconds the work on the disk may take; give 1 or "
                         "more (default 1800)" % params["timeout"])
    workdir = params.get("workdir")
    if workdir and not os.path.isdir(workdir):
        # before the audit: every scratch directory (the worker's, an archive's disk, the pack's) is made in it
        raise ImageError("workdir: %s is not a directory (%s): give an existing directory for scratch space" % (
            workdir, "it does not exist" if not os.path.lexists(workdir) else "it is not one"))
    if params.get("pack"):  # before the audit, which may take long
        importarchive.check_bucket(params["bucket"])
        if params.get("image_name"):
            importarchive.image_name(params["image_name"], params["pack"])
    path = os.path.abspath(params["path"])
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ImageError("%s: %s" % (label, exc.strerror))
    if stat.S_ISBLK(info.st_mode):
        imagefile.check_block_device(path, info)  # before anything opens it
    elif not stat.S_ISREG(info.st_mode):
        raise ImageError("%s: a %s, not a disk image file or a block device" % (
            label, "directory" if stat.S_ISDIR(info.st_mode) else "special file"))
    kind = "disk" if not stat.S_ISREG(info.st_mode) else imagefile.content_kind(path)
    if kind == "archive":
        if params["mode"] == "harden":
            raise ImageError("%s is an import archive (a tar file): harden changes a disk image; harden the disk, "
                             "then pack it" % label)
        if params.get("pack"):
            raise ImageError("%s is already an import archive: nothing to pack" % label)
    writable = params["mode"] == "harden" and not check_mode
    started = time.time()
    with image_lock(path, writable, params["lock_timeout"], warn):
        if kind == "archive":
            answer = _audit_archive(params, path, label, check_mode)
            disk = None
        else:
            disk = imagefile.describe_disk(path, writable)
            disk["path"] = path
            answer = _worker(params, disk, label, check_mode)
        pack = _pack(params, disk, answer, check_mode) if params.get("pack") else None
    results = _with_not_run_waivers(params, answer["results"], answer.get("areas") or {})
    return {
        "changed": bool(answer.get("changed")) or bool(pack and pack.get("written")),
        "results": results,
        "summary": summarize(results),
        "image": _summary_of(answer["facts"]),
        "facts": answer["facts"],
        "areas": answer.get("areas") or {},
        "area_errors": answer.get("errors") or [],
        "skipped_areas": answer.get("skipped_areas") or {},
        "features": [{"feature": f, "reason": r} for f, r in answer.get("features") or []],
        "pack": pack,
        "diff": answer.get("diff") or [],
        "warnings_from_areas": answer.get("warnings") or [],
        "seconds": round(time.time() - started, 1),
    }
