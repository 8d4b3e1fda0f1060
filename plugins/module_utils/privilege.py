# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running without root: what could not be read, said the same way by every
area, and the refusal to change anything.

On Compute Engine people log in as themselves (OS Login, metadata SSH keys)
and use sudo: a playbook run without become (``-b``) runs the modules as that
user.  Most of what the checks read is world-readable; what is not (a
sysctl.d or sshd_config.d file of mode 0600, a Fedora initramfs, NetworkManager
profiles, RHEL's grub.cfg, a PCI function's configuration space beyond its
first 64 bytes, ``sshd -T``, which loads the host keys) is named in the result
as ``unknown`` with a ``needs root:`` message, never judged from what was
left.  Changing anything needs root: an apply without it stops before it
writes.
"""

import errno
import os
import pwd

from ansible_collections.guestready.gce.plugins.module_utils.results import record, waive

BECOME = "run with become (-b, or ansible_become: true in the inventory)"
NEEDS_ROOT = "needs root"
DENIED = (errno.EACCES, errno.EPERM)


def is_root():
    return os.geteuid() == 0


def user():
    """The effective user's name (its uid when it has none)."""
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return "uid %d" % uid


def denied(exc):
    """Was ``exc`` (an OSError) a permission refusal?"""
    return getattr(exc, "errno", None) in DENIED


def unreadable(what, why=None):
    """The message for ``what`` (a path, or words naming it) that could not
    be read; ``why``: what the result misses because of it.  As root it is a
    plain permission error (an ACL, a security module, a root-squashed
    mount); otherwise it says what is needed."""
    why = " (%s)" % why if why else ""
    if is_root():
        return "%s: cannot read: permission denied%s" % (what, why)
    return "%s: %s is not readable as user %s%s; run with become (-b)" % (NEEDS_ROOT, what, user(), why)


def needs_root(text):
    """Is ``text`` (a message) one of ``unreadable``'s?"""
    return (text or "").startswith(NEEDS_ROOT + ":")


def remediation(text, otherwise=""):
    """The remediation for a result whose message is ``text``."""
    return BECOME if needs_root(text) else otherwise


def refusal(what, root="/"):
    """Why this run may not change ``root`` (None when it may): only root
    changes the running system or another user's tree; an image tree the
    user owns is theirs to change."""
    if is_root():
        return None
    real = os.path.realpath(root or "/")
    try:
        owner = os.stat(real).st_uid
    except OSError:
        owner = None
    if real != "/" and owner == os.geteuid():
        return None
    where = "the running system" if real == "/" else "%s (owned by uid %s)" % (root, owner)
    return ("%s: changing %s needs root, and this runs as user %s: nothing was changed; %s "
            "(a check without root is guestready.gce.verify)" % (what, where, user(), BECOME))


def unknown_results(entries, waivers, message):
    """Every entry ``unknown`` with ``message`` (an input the area could not
    read): what an area returns when it cannot judge anything from the rest."""
    found = [record(entry, "unknown", message=message, remediation=remediation(message))
             for entry in entries]
    return [waive(result, waivers[result["id"]]) if result["id"] in waivers else result
            for result in found]
