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


@pytest.mark.parametrize("error", ["cannot mount partition 2 (ext4): wrong fs type, bad option",
                                   "interrupted; everything mounted was released",
                                   "internal error in the image worker: KeyError: 'x'"])
def test_worker_errors_name_the_image(monkeypatch, error):
    monkeypatch.setattr(diskimage.imageworker, "spawn", lambda request, timeout: {"error": error, "kind": "error"})
    params = dict(_params(None), mode="audit", timeout=10, areas=None, apply=None, area_options={}, overrides={},
                  workdir=None)
    with pytest.raises(diskimage.Failed) as caught:
        diskimage._worker(params, {"path": "/images/vm.qcow2"}, "images/vm.qcow2", False)
    assert str(caught.value) == "images/vm.qcow2: " + error


def test_worker_errors_that_name_the_image_are_kept(monkeypatch):
    error = "/abs/images/vm.qcow2: qemu-storage-daemon cannot expose it as a raw disk: no"
    monkeypatch.setattr(diskimage.imageworker, "spawn", lambda request, timeout: {"error": error, "kind": "error"})
    params = dict(_params(None), mode="audit", timeout=10, areas=None, apply=None, area_options={}, overrides={},
                  workdir=None)
    with pytest.raises(diskimage.Failed, match="^/abs/images/vm.qcow2: qemu"):
        diskimage._worker(params, {"path": "/abs/images/vm.qcow2"}, "images/vm.qcow2", False)


@pytest.mark.parametrize("path", ["", "  "])
def test_an_empty_path_is_named_not_taken_for_the_working_directory(path):
    params = dict(_params(None), path=path, mode="audit", areas=None, apply=None)
    with pytest.raises(ImageError, match=r"^path: '\s*' is empty: give the disk image file"):
        diskimage.run(params)


@pytest.mark.parametrize("where", ["missing", "file"])
def test_a_workdir_that_is_no_directory_is_refused_before_the_audit(tmp_path, monkeypatch, where):
    # every scratch directory is made in it: the worker ended with an internal error, an archive's
    # audit and the pack step (after the whole audit) with a traceback
    workdir = tmp_path / "scratch"
    if where == "file":
        workdir.write_text("x\n")
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\x00" * 4096)
    monkeypatch.setattr(diskimage.imagefile, "describe_disk", lambda *args: pytest.fail("the disk was opened"))
    params = dict(_params(None), path=str(disk), mode="audit", areas=None, apply=None, workdir=str(workdir),
                  timeout=10, lock_timeout=1)
    with pytest.raises(ImageError, match="^workdir: %s is not a directory" % workdir):
        diskimage.run(params)


def test_the_disk_audited_in_an_archive_is_its_disk_raw(tmp_path, monkeypatch):
    import io
    import tarfile
    path = str(tmp_path / "vendor.tar.gz")
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as archive:
        for name, data in (("README", b"read me\n"), ("disk.raw", b"\x00" * 510 + b"\x55\xaa")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    extracted = []

    def extract(archive, member, directory, occurrence=1):
        extracted.append((member, occurrence))
        raise ImageError("stop here")
    monkeypatch.setattr(diskimage.importarchive, "extract", extract)
    params = dict(_params(None), audit_archive_contents=True, workdir=str(tmp_path))
    with pytest.raises(ImageError, match="stop here"):
        diskimage._audit_archive(params, path, "vendor.tar.gz", False)
    assert extracted == [("disk.raw", 1)]


def test_a_member_larger_than_the_free_scratch_space_is_not_restored(tmp_path, monkeypatch):
    # a dense disk.raw of zeros compresses a thousandfold: tar -x wrote it in full into the workdir
    # (the controller's /tmp by default) until the filesystem was full
    import io
    import tarfile
    path = str(tmp_path / "vendor.tar.gz")
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as archive:
        data = b"\x00" * 510 + b"\x55\xaa" + b"\x00" * (4 * 1024 * 1024 - 512)
        info = tarfile.TarInfo("disk.raw")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    monkeypatch.setattr(diskimage, "_free_bytes", lambda where: 1024 * 1024, raising=False)
    monkeypatch.setattr(diskimage.importarchive, "extract", lambda *args: pytest.fail("restored"))
    params = dict(_params(None), audit_archive_contents=True, workdir=str(tmp_path))
    with pytest.raises(ImageError, match=r"^vendor.tar.gz: its member disk.raw stores 4194304 bytes, more than the "
                                         r"1048576 bytes free in %s: not restored" % tmp_path):
        diskimage._audit_archive(params, path, "vendor.tar.gz", False)
    assert sorted(os.listdir(str(tmp_path))) == ["vendor.tar.gz"], "the scratch directory is removed"
    monkeypatch.setattr(diskimage, "_free_bytes", lambda where: 8 * 1024 * 1024)

    def extract(*args):
        raise ImageError("fits")
    monkeypatch.setattr(diskimage.importarchive, "extract", extract)
    with pytest.raises(ImageError, match="fits"):
        diskimage._audit_archive(params, path, "vendor.tar.gz", False)


def test_a_truncated_archive_fails_its_checks_and_is_not_restored(tmp_path, monkeypatch):
    """A cut archive passed every IMG-ARCHIVE_* check: its problems were read
    and judged by none.  Its disk is not restored either (tar -x fails on it)."""
    import io
    import tarfile
    whole = tmp_path / "whole.tar.gz"
    with tarfile.open(str(whole), "w:gz", format=tarfile.GNU_FORMAT) as archive:
        data = os.urandom(256 * 1024)
        info = tarfile.TarInfo("disk.raw")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    path = tmp_path / "vendor.tar.gz"
    path.write_bytes(whole.read_bytes()[:-4])   # the gzip trailer's length field is gone
    monkeypatch.setattr(diskimage.importarchive, "extract", lambda *args: pytest.fail("extracted a damaged archive"))
    params = dict(_params(None), audit_archive_contents=True, workdir=str(tmp_path))
    answer = diskimage._audit_archive(params, str(path), "vendor.tar.gz", False)
    results = dict((r["id"], r) for r in answer["results"])
    assert results["IMG-ARCHIVE_GZIP"]["status"] == "fail"
    assert "the gzip stream ends early: the archive is truncated" in results["IMG-ARCHIVE_GZIP"]["message"]
    assert results["IMG-ROOT_FILESYSTEM"]["status"] == "unknown"
    assert "the archive is damaged" in results["IMG-ROOT_FILESYSTEM"]["message"]
    assert "IMG-ARCHIVE_GZIP fail" in diskimage._blocking(answer["results"])


def test_an_area_that_could_not_be_handled_blocks_the_pack(tmp_path):
    """Its IDs are missing from the results, so no failure of theirs blocked
    the pack: an image was packed that nothing had judged."""
    source = tmp_path / "disk.raw"
    source.write_bytes(b"\x00" * 4096)
    facts = {"input": {"path": str(source), "format": "raw", "virtual_size": 4096}}
    answer = {"results": [], "features": [], "facts": facts,
              "errors": ["kernel_config: no configuration for kernel 6.1.0-50-cloud-amd64"]}
    params = dict(_params(str(tmp_path / "out")), pack_anyway=False, bucket="my-images")
    with pytest.raises(diskimage.Failed, match=r"not packed: the image fails kernel_config: no configuration .* \(not judged\)"):
        diskimage._pack(params, {"path": str(source), "format": "raw", "block_device": False}, answer, True)
    params["pack_anyway"] = True
    assert diskimage._pack(params, {"path": str(source), "format": "raw", "block_device": False}, answer, True)[
        "blocking"] == ["kernel_config: no configuration for kernel 6.1.0-50-cloud-amd64 (not judged)"]


class _Unmountable(object):
    """An attachment whose mounts fail as the kernel's do for a filesystem
    feature it lacks."""

    def __init__(self, directory):
        self.dir = directory

    def mount(self, part, fstype, where, writable=None, options=()):
        raise ImageError("cannot mount partition %d (%s): mount: %s: wrong fs type, bad option, bad superblock"
                         % (part["number"], fstype, where))

    def unmount(self, where):
        return None


def test_a_root_this_machine_cannot_mount_is_not_judged_missing(tmp_path):
    """An XFS or ext4 root with features this machine's kernel lacks: it may
    well be the root, so IMG-ROOT_FILESYSTEM is unknown, not a failure."""
    from ansible_collections.guestready.gce.plugins.module_utils import filesystems, imageworker
    parts = [{"number": 1, "start": 1 << 20, "size": 1 << 30,
              "filesystem": filesystems._result("xfs", "2f1e5c2a-0000-4000-8000-000000000001")}]
    found = imageworker.find_root(_Unmountable(str(tmp_path)), parts)
    assert found[0] is None and found[1] == "unknown", found
    assert "could not be mounted here (cannot mount partition 1 (xfs)" in found[2] and "may be there" in found[2]
    assert os.listdir(str(tmp_path)) == []
    # nothing mountable at all is still a failure
    parts[0]["filesystem"] = filesystems._result(None)
    assert imageworker.find_root(_Unmountable(str(tmp_path)), parts)[1] == "fail"


class _Populating(_Unmountable):
    """An attachment whose mount puts a prepared tree at the mount point."""

    def __init__(self, directory, build):
        self.dir, self.build = directory, build

    def mount(self, part, fstype, where, writable=None, options=()):
        self.build(where)

    def unmount(self, where):
        for name in os.listdir(where):
            path = os.path.join(where, name)
            if os.path.islink(path) or not os.path.isdir(path):
                os.unlink(path)
            else:
                import shutil
                shutil.rmtree(path)


def test_a_btrfs_subvolume_link_out_of_the_image_is_not_the_root(tmp_path):
    """A btrfs top level whose entry ``@`` is an absolute link (``/proc/1/root``
    leads to this machine's root), with the same path made inside the image for
    the confined check to find: the subvolume's tree was opened by the link on
    this machine, whose own os-release and fstab were read as the image's."""
    from ansible_collections.guestready.gce.plugins.module_utils import filesystems, imageworker
    outside = tmp_path / "this-machine"
    (outside / "etc").mkdir(parents=True)
    (outside / "etc" / "os-release").write_text("ID=outside\nPRETTY_NAME=\"not the image\"\n")
    (outside / "etc" / "fstab").write_text("/dev/sda1 / ext4 defaults 0 1\n")
    mounts = tmp_path / "mounts"
    mounts.mkdir()

    def build(where):
        inside = os.path.join(where, str(outside).lstrip("/"), "etc")
        os.makedirs(inside)
        with open(os.path.join(inside, "fstab"), "w") as handle:
            handle.write("UUID=2f1e5c2a-0000-4000-8000-000000000001 / btrfs subvol=@ 0 0\n")
        os.symlink(str(outside), os.path.join(where, "@"))
    parts = [{"number": 2, "start": 1 << 20, "size": 1 << 30,
              "filesystem": filesystems._result("btrfs", "2f1e5c2a-0000-4000-8000-000000000001")}]
    found = imageworker.find_root(_Populating(str(mounts), build), parts)
    assert found[0] is None and found[1] == "fail", found
    assert "not the image" not in repr(found)
    assert os.listdir(str(mounts)) == []


def test_waivers_of_areas_the_image_run_left_out_are_reported_waived_not_checked(tmp_path, monkeypatch):
    """requirements.md section 4: every waiver is shown as waived.  An archive whose contents are
    not inspected (or areas that leave one out) ran no area: its waivers were shown nowhere."""
    import io
    import tarfile
    path = str(tmp_path / "vendor.tar.gz")
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as archive:
        data = b"\x00" * 510 + b"\x55\xaa"
        info = tarfile.TarInfo("disk.raw")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    waivers = {"SYSCTL-IP_FORWARD": "NAT gateway image", "IMG-ARCHIVE_GZIP": "vendor archive"}
    params = dict(_params(None), path=path, mode="audit", areas=None, apply=None, audit_archive_contents=False,
                  overrides={}, waivers=waivers, workdir=str(tmp_path), lock_timeout=5)
    out = diskimage.run(params)
    results = dict((r["id"], r) for r in out["results"])
    assert results["SYSCTL-IP_FORWARD"]["status"] == "waived"
    assert results["SYSCTL-IP_FORWARD"]["message"] == "waived: NAT gateway image (not checked: the sysctl area was not run)"
    assert results["IMG-ARCHIVE_GZIP"]["status"] == "waived" and "not checked" not in results["IMG-ARCHIVE_GZIP"]["message"]
    assert out["summary"]["waived"] == 2
    # an area the image's run handled keeps its own record; only the others are added
    answer = {"results": [dict(results["IMG-ARCHIVE_GZIP"])], "areas": {"sysctl": {}}}
    added = diskimage._with_not_run_waivers(dict(params, waivers=dict(waivers, **{"HW-SERIAL": "no serial"})),
                                            answer["results"], answer["areas"])
    assert [(r["id"], r["message"]) for r in added] == [
        ("HW-SERIAL", "waived: no serial (not checked: the hardware area was not run)"),
        ("IMG-ARCHIVE_GZIP", results["IMG-ARCHIVE_GZIP"]["message"])]


class _TreeAttachment(object):
    """imagefile.Attachment over a real image file whose mounts this machine cannot make without
    root: the root partition's mount puts ``tree`` there, the others mount nothing."""

    def __init__(self, tree, root_number):
        self.tree, self.root_number = tree, root_number

    def __call__(self, disk, writable, workdir=None, owner=None):
        self.raw, self.workdir = disk["path"], workdir
        return self

    def __enter__(self):
        import tempfile
        self.dir, self.vfat = tempfile.mkdtemp(dir=self.workdir), False
        return self

    def __exit__(self, *exc):
        import shutil
        shutil.rmtree(self.dir)

    def mount(self, part, fstype, where, writable=None, options=()):
        if part["number"] == self.root_number:
            for path, text in self.tree.items():
                full = os.path.join(where, path.lstrip("/"))
                if not os.path.isdir(os.path.dirname(full)):
                    os.makedirs(os.path.dirname(full))
                if text is None:
                    os.makedirs(full)
                else:
                    with open(full, "w") as handle:
                        handle.write(text)

    def unmount(self, where):
        import shutil
        for name in os.listdir(where):
            shutil.rmtree(os.path.join(where, name))


def test_an_images_fstab_entries_on_its_own_partitions_need_no_nofail(tmp_path, monkeypatch):
    """GCE-FSTAB-NOFAIL in a real GPT image: its fstab's /var/log/audit (UUID= of its third partition)
    is on the boot disk the image becomes, and needs no nofail; a UUID none of its partitions has is
    another disk's, and still needs it (the worker gives the areas the image's partitions)."""
    from disktools import blkid, cis_disk
    from ansible_collections.guestready.gce.plugins.module_utils import imagefile, imageworker, partitions
    path = cis_disk(tmp_path)
    with partitions.Disk(path) as raw:
        parts = partitions.read_table(raw)["partitions"]
    root, audit = blkid(path, parts[1]["start"])["UUID"], blkid(path, parts[2]["start"])["UUID"]
    fstab = "UUID=%s / ext4 defaults 0 1\nUUID=%s /var/log/audit ext4 defaults 0 2\n" % (root, audit)
    tree = {"/etc/os-release": 'ID=debian\nPRETTY_NAME="Debian GNU/Linux 12"\n', "/var/log/audit": None,
            "/data": None}
    request = {"disk": {"path": path, "format": "raw", "virtual_size": 64 << 20, "block_device": False},
               "mode": "audit", "check_mode": True, "areas": ["gce_settings"], "apply": None, "area_options": {},
               "waivers": {}, "overrides": {}, "archive": None, "label": "disk.raw", "workdir": str(tmp_path)}

    def nofail(text):
        monkeypatch.setattr(imagefile, "Attachment", _TreeAttachment(dict(tree, **{"/etc/fstab": text}), 2))
        answer = imageworker.audit(request)
        assert answer["facts"]["root"]["partition"] == 2 and not answer["errors"], answer["errors"]
        return next(r for r in answer["results"] if r["id"] == "GCE-FSTAB-NOFAIL")

    result = nofail(fstab)
    assert result["status"] == "pass" and result["evidence"]["boot_disk"] == ["/var/log/audit (line 2)"], result
    result = nofail(fstab + "UUID=0b4e7c1d-3c0f-4d43-9b0a-2d6c2e1f9a11 /data ext4 defaults 0 2\n")
    assert result["status"] == "fail" and result["actual"] == ["/data"], result
    assert result["evidence"]["boot_disk"] == ["/var/log/audit (line 2)"] and "could not tell" not in result["message"]
