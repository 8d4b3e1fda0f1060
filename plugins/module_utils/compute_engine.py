# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is this machine a Compute Engine VM?  Told from SMBIOS (DMI), without
the network, as Google's own client libraries tell it first.

Compute Engine VMs report the SMBIOS system product name ``Google Compute
Engine`` (older ones ``Google``), manufacturer ``Google`` and BIOS vendor
``Google`` (Compute Engine documentation, "Detect if a VM is running in
Compute Engine": ``dmidecode -s system-product-name``).  The Go client
library decides the same way from ``/sys/class/dmi/id/product_name``
(googleapis/google-cloud-go, compute/metadata/metadata.go,
``systemInfoSuggestsGCE``: ``name == "Google" || name == "Google Compute
Engine"``).  The manufacturer and BIOS vendor are kept as evidence: a
Chromebook's manufacturer is ``Google`` too, so they do not decide.

An image build VM (Packer's QEMU builder, a CI runner) is not Compute
Engine: its devices are the builder's, so the hardware checks judge the
image's kernel only there unless told otherwise."""

from ansible_collections.guestready.gce.plugins.module_utils import sysfs as reader

PRODUCT_NAMES = ("Google Compute Engine", "Google")


def detect(sysfs):
    """``{"on_gce": bool, "reason", "evidence", "sys_vendor", "product_name",
    "bios_vendor"}`` from the DMI strings under ``sysfs`` (a Sysfs)."""
    found = reader.dmi(sysfs)
    product = found["product_name"]
    on_gce = product in PRODUCT_NAMES
    shown = ", ".join("%s %r" % (name, found[name]) for name in ("sys_vendor", "product_name", "bios_vendor")
                      if found[name] is not None)
    if on_gce:
        reason = "SMBIOS product name %r: a Compute Engine VM" % product
    elif not shown:
        reason = "no DMI (SMBIOS) strings in %s: not a Compute Engine VM" % sysfs.shown("/class/dmi/id")
    else:
        reason = "not a Compute Engine VM (DMI %s)" % shown
    found.update(on_gce=on_gce, reason=reason)
    return found
