# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel command line: the one reader of ``/proc/cmdline`` and of the
command lines a boot loader passes.

Parsing follows the kernel's own ``next_arg()`` (lib/cmdline.c): arguments
are separated by spaces, double quotes group spaces into one argument (and
are dropped), ``key=value`` splits at the first ``=``."""

import os


def split(text):
    """The arguments of a command line, quotes removed."""
    args, current, quoted, started = [], [], False, False
    for char in text or "":
        if char == '"':
            quoted, started = not quoted, True
        elif char.isspace() and not quoted:
            if started:
                args.append("".join(current))
            current, started = [], False
        else:
            current.append(char)
            started = True
    if started:
        args.append("".join(current))
    return args


def parse(text):
    """``[(key, value)]`` in order; ``value`` is None for a bare flag."""
    pairs = []
    for arg in split(text):
        key, sep, value = arg.partition("=")
        pairs.append((key, value if sep else None))
    return pairs


def values(text, key):
    """Every value given to ``key`` (a parameter may repeat: ``console=``)."""
    return [value for name, value in parse(text) if name == key and value is not None]


def last_value(text, key, default=None):
    """The value the kernel acts on for a parameter given once per boot (the
    last one wins for module parameters such as ``8250.nr_uarts=``)."""
    found = values(text, key)
    return found[-1] if found else default


def consoles(text):
    """The console devices in order (``console=ttyS0,38400n8`` -> ``ttyS0``);
    the last one becomes /dev/console."""
    return [value.split(",", 1)[0] for value in values(text, "console")]


def has_console(text, device="ttyS0"):
    return device in consoles(text)


def append(text, arg):
    """``text`` with ``arg`` appended (one space between)."""
    text = (text or "").strip()
    return (text + " " + arg).strip()


def read_live(proc_root="/proc"):
    """The running kernel's command line, or None when /proc is not there."""
    try:
        with open(os.path.join(proc_root, "cmdline")) as handle:
            return handle.read().replace("\0", " ").strip()
    except (IOError, OSError):
        return None
