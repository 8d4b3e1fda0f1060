# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel command line: the one reader of ``/proc/cmdline`` and of the
command lines a boot loader passes.

Parsing follows the kernel's own ``next_arg()`` (lib/cmdline.c, ``args``):
arguments are separated by the kernel's blanks, double quotes group blanks
into one argument, ``key=value`` splits at the first ``=``; only a quote that
opens the argument or its value, and the quote ending that argument, are
dropped.  A ``--`` argument ends the kernel's parameters: what follows goes
to init (kernel/params.c parse_args(): ``if (!val && strcmp(param, "--") ==
0) return args``), so a ``console=`` there is no console."""

import os
import re

from ansible_collections.guestready.gce.plugins.module_utils.catalogue import BY_ID
from ansible_collections.guestready.gce.plugins.module_utils.digits import C_UNSIGNED, c_unsigned
from ansible_collections.guestready.gce.plugins.module_utils.target import text_of


# isspace() of the kernel's lib/ctype.c (_S): \t \n \v \f \r, the space and byte 0xa0; not
# the other characters Python calls blanks (\x1c-\x1f, \x85, Unicode spaces)
KERNEL_BLANKS = " \t\n\v\f\r\xa0"


def args(text):
    """``[(start, param, value)]``: each argument as next_arg() takes it,
    ``start`` its index in ``text``, ``value`` None without an ``=``.  A
    quote opening the argument is dropped with the quote that ends it
    (``"a=b c"``), so is one opening the value (``a="b c"``); quotes
    elsewhere stay (``a=b"c d"`` is ``b"c d"``).  The first ``=`` splits, but
    not one that starts the argument (next_arg() keeps ``equals`` 0 there)."""
    found, index, length = [], 0, len(text or "")
    while index < length and text[index] in KERNEL_BLANKS:
        index += 1
    while index < length:
        start = index
        quoted = in_quote = text[index] == '"'
        index += quoted
        begin, equals = index, None
        while index < length and (in_quote or text[index] not in KERNEL_BLANKS):
            if equals is None and text[index] == "=" and index > begin:
                equals = index
            if text[index] == '"':
                in_quote = not in_quote
            index += 1
        end = index
        # next_arg(): the argument's last character, when a quote, goes with a quote opening
        # the value or the argument (once: it is then a NUL)
        closing = end > begin and text[end - 1] == '"'
        value_start = None if equals is None else equals + 1
        if value_start is not None and text[value_start:value_start + 1] == '"':
            value_start += 1
            quoted = True
        end -= quoted and closing
        value = None if value_start is None else text[value_start:end] if value_start <= end else ""
        found.append((start, text[begin:end if equals is None else equals], value))
        while index < length and text[index] in KERNEL_BLANKS:
            index += 1
    return found


def split(text):
    """The arguments of a command line as the kernel takes them (``args``):
    ``param`` or ``param=value``."""
    return [param if value is None else "%s=%s" % (param, value) for dummy, param, value in args(text)]


def parse(text):
    """``[(key, value)]`` in order; ``value`` is None for a bare flag."""
    return [(param, value) for dummy, param, value in args(text)]


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
    """The index in ``text`` of a ``--`` argument (``args``), after which
    the arguments go to init, not the kernel; None without one."""
    for start, param, value in args(text):
        if param == "--" and value is None:
            return start
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
        with open(os.path.join(proc_root, "cmdline"), "rb") as handle:
            # bytes a boot loader passed, not necessarily UTF-8 (nor the locale's encoding)
            return text_of(handle.read()).replace("\0", " ").strip(KERNEL_BLANKS)
    except (IOError, OSError):
        return None
