# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel command line: the one reader of ``/proc/cmdline`` and of the
command lines a boot loader passes.

Parsing follows the kernel's own ``next_arg()`` (lib/cmdline.c): arguments
are separated by spaces, double quotes group spaces into one argument (and
are dropped), ``key=value`` splits at the first ``=``.  A ``--`` argument
ends the kernel's parameters: what follows goes to init (kernel/params.c
parse_args(): ``if (!val && strcmp(param, "--") == 0) return args``), so a
``console=`` there is no console."""

import os
import re

from ansible_collections.guestready.gce.plugins.module_utils.catalogue import BY_ID
from ansible_collections.guestready.gce.plugins.module_utils.digits import C_UNSIGNED, c_unsigned


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
    the last one becomes /dev/console.  Only the kernel's part counts (before
    ``--``)."""
    end = init_start(text or "")
    return [console_device(value) for value in values(text[:end] if end is not None else text, "console")]


# The 8250 ports at the I/O addresses x86 probes (asm/serial.h SERIAL_PORT_DFNS),
# which are HW-SERIAL's ports: ``console=uart8250,io,0x3f8`` is ttyS0.
_IO_PORTS = dict((int(port["port"], 16), name) for name, port in BY_ID["HW-SERIAL"]["expected"]["serial"]["ports"].items())
# simple_strtoull(p, NULL, 0): the longest number at the start
_C_NUMBER = re.compile(C_UNSIGNED)
_NAME_INDEX = re.compile(r"([^0-9]*)([0-9]+)")


def console_device(value):
    """The device a ``console=`` value names, as the kernel decodes it:
    console_setup() (kernel/printk/printk.c) reads a leading digit as ttyS
    (``0`` is ttyS0) and splits the name at its first digit or comma, the
    index being the digits there (``ttyS00`` is ttyS0); 8250's
    univ8250_console_match() takes a name starting with ``uart`` followed by
    ``io,<address>`` (uart_parse_earlycon()) as the port at that address.
    Anything else is the name as written, up to its first comma."""
    name = value.split(",", 1)[0]
    if name[:1].isdigit():
        name = "ttyS" + name
    if name.startswith("uart") and value[len(name):].startswith(",io,"):
        match = _C_NUMBER.match(value[len(name) + 4:])
        return _IO_PORTS.get(c_unsigned(match), name) if match else name
    match = _NAME_INDEX.match(name)
    if not match:
        return name
    index = match.group(2).lstrip("0") or "0"
    return name if len(index) > 9 else match.group(1) + index


def has_console(text, device="ttyS0"):
    return device in consoles(text)


def init_start(text):
    """The index in ``text`` of a ``--`` argument (split as ``split`` does),
    after which the arguments go to init, not the kernel; None without one."""
    quoted, start = False, None
    for index, char in enumerate(text + " "):
        if char.isspace() and not quoted:
            if start is not None and text[start:index].replace('"', "") == "--":
                return start
            start = None
        else:
            start = index if start is None else start
            quoted = not quoted if char == '"' else quoted
    return None


def append(text, arg):
    """``text`` with ``arg`` appended (one space between), before a ``--``
    (``init_start``) so that the kernel gets it."""
    text = (text or "").strip()
    end = init_start(text)
    if end is not None:
        return "%s %s %s" % (text[:end].rstrip(), arg, text[end:]) if end else "%s %s" % (arg, text)
    return (text + " " + arg).strip()


def read_live(proc_root="/proc"):
    """The running kernel's command line, or None when /proc is not there."""
    try:
        with open(os.path.join(proc_root, "cmdline")) as handle:
            return handle.read().replace("\0", " ").strip()
    except (IOError, OSError):
        return None
