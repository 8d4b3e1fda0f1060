# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a system's kernel command line is written, and what it says.

``find(target)`` returns every command line found inside the root, each with
where it was found and what kind of place that is:

``running``          ``/proc/cmdline``: the line this boot used (only asked
                     for when the running kernel is the one judged);
``grub.cfg``         each ``linux``/``linux16``/``linuxefi`` line of
                     ``/boot/grub/grub.cfg`` (``grub2``): what GRUB boots,
                     with the kernel image it names;
``grub-default``     ``GRUB_CMDLINE_LINUX`` and ``GRUB_CMDLINE_LINUX_DEFAULT``
                     of ``/etc/default/grub`` and ``/etc/default/grub.d/*.cfg``
                     (sourced in that order, the drop-ins where the tree's
                     grub-mkconfig sources them): what ``update-grub`` /
                     ``grub-mkconfig`` writes into grub.cfg next time;
``bls``              ``options`` of ``/boot/loader/entries/*.conf`` (the Boot
                     Loader Specification: systemd-boot, Fedora/RHEL GRUB), and
                     without GRUB those of the ESP's ``loader/entries`` too;
``kernel-install``   ``/etc/kernel/cmdline``.

``parameters(line)`` splits a line the way the kernel does (``cmdline.args``,
lib/cmdline.c ``next_arg``; ``--`` ends the kernel's part) and names compare
with ``-`` and ``_`` as one (``parameq``)."""


from ansible_collections.guestready.gce.plugins.module_utils import bootconfig, bootloader, cmdline
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import ConfigError, lines, present
from ansible_collections.guestready.gce.plugins.module_utils.target import Missing, Target, TargetError

MAX_FILE = 4 * 1024 * 1024
GRUB_VARIABLES = ("GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT")
KERNEL_INSTALL_CMDLINE = "/etc/kernel/cmdline"


def parameters(line):
    """``[(name, value or None)]`` of a kernel command line (``cmdline.parse``),
    names with ``-`` written ``_``; what follows ``--`` belongs to init and is
    left out."""
    found = []
    for name, value in cmdline.parse(line or ""):
        if name == "--" and value is None:
            break
        found.append((name.replace("-", "_"), value))
    return found


# kmod's blanks (libkmod-config.c, kmod_config_parse_kcmdline): the end of the line too
_KMOD_BLANKS = " \n\t\v\f\r\0"


def kmod_options(line):
    """``[(module, parameter)]`` of a raw command line (/proc/cmdline) as kmod
    reads it (libkmod-config.c, kmod_config_parse_kcmdline): a word
    ``module.name=value``, the whole line (``--`` ends nothing), quotes kept
    in the value -- ``modprobe.blacklist="a,b"`` is ``blacklist="a,b"`` --
    and a quote that opens the word put back before the value, as kmod
    "re-quotes" it; words with a quote or a blank elsewhere are ignored."""
    found, state, quoted, quote_start, start, dot, equals = [], "module", False, None, 0, None, None
    line = (line or "") + "\0"
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
            if quoted and state == "module" and index == start:
                quote_start, start = index, index + 1
            elif state != "value":
                state = "ignore"
        elif char in _KMOD_BLANKS:
            if quoted and state == "value":
                pass
            elif quoted:
                state = "ignore"
            elif state in ("value", "param"):
                parameter = line[dot + 1:index]
                if quote_start is not None and state == "value":
                    parameter = parameter[:equals - dot] + '"' + parameter[equals - dot:]
                found.append((line[start:dot], parameter))
                state = "module"
                start, quote_start = index + 1, None
            else:
                state, start, quote_start = "module", index + 1, None
        elif char == "." and state in ("module", "param"):
            state, dot = ("param", index) if state == "module" else ("ignore", dot)
        elif char == "=" and state in ("module", "param"):
            state, equals = ("value", index) if state == "param" else ("ignore", equals)
    return found


def value(line, name):
    """The last value ``name`` is given on ``line`` (later ones win), or None."""
    name = name.replace("-", "_")
    values = [v for n, v in parameters(line) if n == name]
    return values[-1] if values else None


def _read(target, path, limit=MAX_FILE):
    """The text, or None when the file is not there.  A file that is there
    but cannot be read (FIFO, directory, larger than ``limit``, link loop)
    raises TargetError naming it: callers must not judge without it."""
    try:
        return target.read_text(path, limit=limit)
    except Missing:
        return None


def _entry(source, number, kind, line, kernel=None):
    return {"source": source, "line": number, "kind": kind,
            "cmdline": line.strip(), "kernel": kernel}


def find(target=None, running=False):
    """Every kernel command line inside ``target`` (a Target or a root path;
    the live system by default), in the order listed above."""
    target = target if isinstance(target, Target) else Target(target or "/")
    found = []
    if running:
        text = _read(target, "/proc/cmdline")
        if text is not None:
            found.append(_entry(target.display("/proc/cmdline"), 1, "running", text))
    for path in bootconfig.GRUB_CONFIGS:
        found.extend(_grub_cfg(target, path))
    found.extend(_grub_defaults(target))
    found.extend(_bls(target))
    text = _read(target, KERNEL_INSTALL_CMDLINE)
    if text is not None and text.strip():
        found.append(_entry(target.display(KERNEL_INSTALL_CMDLINE), 1, "kernel-install",
                            " ".join(line for line in lines(text) if not line.startswith("#"))))
    return found


def for_release(found, release):
    """The command lines that apply to kernel ``release``: boot entries whose
    image names it (``vmlinuz-<release>``, or kernel-install's
    ``/<entry token>/<release>/linux``) and every line not tied to an image."""
    def names(kernel):
        kernel = kernel.rstrip()
        return kernel.endswith("-" + release) or "/%s/" % release in kernel
    return [entry for entry in found if entry["kernel"] is None or names(entry["kernel"])]


def _grub_cfg(target, path):
    text = _read(target, path, bootconfig.GRUB_FILE_MAX)
    found = []
    for number, line in enumerate(bootconfig.grub_lines(text), 1):
        linux = bootconfig.grub_linux(line)
        if linux:
            found.append(_entry(target.display(path), number, "grub.cfg", linux[1], kernel=linux[0]))
    return found


def _grub_defaults(target):
    """GRUB_CMDLINE_LINUX(_DEFAULT) as grub-mkconfig sources the GRUB defaults
    (``bootloader.GrubConfig``: /etc/default/grub, then grub.d/*.cfg where
    the tree's grub-mkconfig sources them): one line, from the last file
    that set either variable.  A file the reader refuses is a TargetError
    naming its line, as any file that cannot be read."""
    try:
        grub = bootloader.GrubConfig(target)
    except ConfigError as exc:
        raise TargetError(str(exc))
    # the last assignment of either, in the order the files are sourced
    order = [target.display(path) for path in grub.files]
    made = [(order.index(source), line, source) for name in GRUB_VARIABLES
            for source, line, value in grub.assignments.get(name, [])]
    if not made:
        return []
    dummy, line, source = max(made)
    # grub-mkconfig writes them on the linux lines of grub.cfg, which GRUB reads; a value only sh
    # knows (bootloader.Unknown) is listed as read: a command line that may apply
    text = bootconfig.grub_args(" ".join(grub.variables.get(name, "") for name in GRUB_VARIABLES))
    return [_entry(source, line, "grub-default", text)]


def _listing(target, directory):
    try:
        return target.listdir(directory)
    except Missing:
        return []   # a directory there but unreadable raises, as _read does: never judged without it


def _bls(target):
    # with GRUB (grub.cfg or its defaults there) blscfg's entries, else systemd-boot's, as GrubConfig decides
    grub = any(present(target, path) for path in bootconfig.GRUB_CONFIGS + (bootloader.DEFAULTS,))
    found, env = [], None
    for path in bootloader.bls_entry_paths(target, grub, lambda directory: _listing(target, directory)):
        text = _read(target, path, bootconfig.BLS_ENTRY_MAX)
        if grub:
            # read as blscfg reads it; it puts the options, grubenv's variables ($kernelopts)
            # expanded, on a linux line GRUB then reads
            read = list(bootconfig.grub_bls_lines(text))
            if env is None and any("$" in value for dummy, key, value in read if key == "options"):
                env = _grub_env(target)
        else:
            # as systemd-boot reads it (a line ends at \n or \r; the key at a space or a tab), passed as it is
            read = [(number, key, value) for number, line in enumerate(lines(text), 1)
                    for key, value in bootconfig.loader_lines(line)]
        kernel = next((value.strip() for dummy, key, value in reversed(read) if key == "linux"), None)
        for number, key, value in read:
            if key == "options":
                line = bootconfig.grub_args(bootconfig.expand_grub_vars(value, env or {})) if grub else value
                found.append(_entry(target.display(path), number, "bls", line, kernel=kernel))
    return found


def _grub_env(target):
    """The variables GRUB has when blscfg reads the entries: the first grub.cfg's
    and the grubenv beside it (``bootconfig.grub_env``)."""
    for path in bootconfig.GRUB_CONFIGS:
        text = _read(target, path, bootconfig.GRUB_FILE_MAX)
        if text is not None:
            grubenv = _read(target, bootconfig.grubenv_beside(path), bootconfig.GRUB_FILE_MAX)
            return bootconfig.grub_env(text, bootconfig.parse_grubenv(grubenv or ""))
    return {}
