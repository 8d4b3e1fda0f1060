# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):
    # Attributes of the collection's read-only check modules.
    INFO_MODULE = r"""
attributes:
  check_mode:
    support: full
    details: The module only reads, so it runs the same way in check mode.
  diff_mode:
    support: N/A
    details: The module only reads.
  platform:
    platforms: posix
"""
