# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whole numbers written in text the collection does not trust (image trees,
driver tables, boot menus, file names)."""


def ascii_int(text, most=18):
    """``int(text)`` when ``text`` is 1 to ``most`` ASCII digits, else None:
    ``str.isdigit()`` accepts ``'²'``, which ``int()`` refuses, and a number
    thousands of digits long raises or costs (Python's int limit)."""
    if text and len(text) <= most and all("0" <= char <= "9" for char in text):
        return int(text)
    return None
