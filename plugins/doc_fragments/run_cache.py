# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):
    # What every module that runs on a host keeps between executions (module_utils/runcache);
    # no options: ansible-core wants the key in every fragment.
    DOCUMENTATION = r"""
options: {}
notes:
  - The collection keeps two things between module executions in C(/run/guestready-gce) (a
    tmpfs, gone at reboot), only when that directory is owned by the user running the module
    and no one else can write it, and only from files that user owns; otherwise nothing is
    kept, which only costs time. The compiled code of the collection's own sources, keyed by
    the source's SHA-256 and the interpreter's bytecode magic number (AnsiballZ imports a
    module's code from a zip, where Python keeps no bytecode), so a changed source or another
    Python is compiled again. And the kernel module names found in an initramfs, keyed by
    the image's path, device, inode, size, modification and change times, so the modules of
    one run list an image once and a rewritten image is listed again.
"""
