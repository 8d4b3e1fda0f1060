# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):
    # Options shared by sysctl_baseline and sysctl_baseline_info.
    DOCUMENTATION = r"""
options:
  file:
    description:
      - The drop-in the collection manages, relative to O(root).
      - It must be a C(.conf) file (its name not starting with a dot) directly in C(/etc/sysctl.d),
        C(/usr/local/lib/sysctl.d), C(/usr/lib/sysctl.d) or C(/lib/sysctl.d), since the boot-time loader
        reads no other; any other name fails the task. Only for checking, C(/etc/sysctl.conf) may be
        given too (judged as the file that owns the settings); M(guestready.gce.sysctl_baseline) never
        writes it, since the drop-in would replace the administrator's file whole.
      - The default name sorts after every numbered drop-in (Google's
        C(60-gce-network-security.conf), Debian's C(99-sysctl.conf) link to C(/etc/sysctl.conf))
        so that its values win at boot; only C(sysctl --system) reads C(/etc/sysctl.conf)
        after it, which is why a non-compliant value there is reported as a conflict.
    type: path
    default: /etc/sysctl.d/zz-guestready-gce.conf
  root:
    description:
      - The root of the filesystem tree whose sysctl configuration is read (and written).
      - Anything other than C(/), for example an image mounted on the controller, means there
        is no live kernel to read or set; only files are considered.
    type: path
    default: /
"""
