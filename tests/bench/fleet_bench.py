"""Fleet-scale benchmark on one controller, without a VM per host.

N inventory hosts with a local connection, each checking (verify.yml) or
hardening (harden.yml) its own copy of the lab image tree in image-root mode,
against `ping` over the same N hosts, in the same run: controller wall time,
seconds per host, CPU seconds per host (every process of the run: ansible and
the local hosts' modules) and peak controller RSS.  verify runs twice in a
row ("verify-again": the steady state of a fleet verified every night, each
host's initramfs listing already in its run cache).

Each host's tree holds what the checks read from the lab's cloud image: /etc
(sysctl files), /usr/lib/sysctl.d, /usr/lib/systemd/systemd-sysctl, /boot
(kernel configuration, initramfs) and /lib/modules/<release> without the .ko
files.  The files are hard links to one extracted copy (harden replaces files
by rename, so a link is never written through), the directories are each
host's own.  The hosts thus share one initramfs file, whose listing the
modules' run cache keeps by the file's identity: the first host lists it.
``--own-initramfs`` gives each host its own copy instead, so that every
host's first verify lists its own (what each guest of a real fleet does, on
its own CPU).

Usage: python tests/bench/fleet_bench.py [--sizes 1,100,500] [--forks 8] [--own-initramfs]
       [--write-docs]
"""

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "image"))
WORK = os.path.join(ROOT, "build", "bench", "fleet")
BIN = os.path.dirname(sys.executable)
CONTENDERS = ("ping", "verify", "harden")
# verify once more on the same trees right after the first: a fleet's nightly
# verify, where each host's initramfs listing is in its run cache (the first
# verify of a fresh tree decompresses it)
AGAIN = "verify-again"
# the largest process of the run, and the CPU all of its processes used
PEAK = ("import resource,subprocess,sys;"
        "r=subprocess.run(sys.argv[1:]).returncode;"
        "u=resource.getrusage(resource.RUSAGE_CHILDREN);"
        "print('PEAK_RSS_KIB', u.ru_maxrss, 'CPU_S', u.ru_utime + u.ru_stime, file=sys.stderr);"
        "sys.exit(r)")
# the modules' run cache (module_utils/runcache.py): each run leaves initramfs
# listings there (one per host with --own-initramfs); removed after
RUN_CACHE = "/run/guestready-gce"
TARGETS = [("verify.yml / ping", "verify", "ping", 1.5, "seconds"),
           ("verify.yml again / ping", AGAIN, "ping", 1.5, "seconds"),
           ("verify.yml / ping, controller CPU", "verify", "ping", None, "cpu_seconds"),
           ("verify.yml / ping, peak controller RSS", "verify", "ping", 2.0, "peak_rss_mib"),
           ("harden.yml / ping", "harden", "ping", None, "seconds")]


def log(message):
    print("[fleet] %s" % message, flush=True)


def extract_base():
    """The parts of the lab's cloud image the checks read, extracted once
    with debugfs (no mount)."""
    import labimage  # tests/image: reads the lab image without mounting it
    try:
        directory = labimage.image_dir("cloud")
    except BaseException as exc:  # pytest.skip outside pytest: say why and stop
        raise SystemExit("fleet bench: %s" % exc)
    base = os.path.join(WORK, "base")
    stamp = os.path.join(base, ".from")
    if os.path.exists(stamp) and open(stamp).read() == directory:
        return base
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    disk = os.path.join(directory, "disk.raw")
    release = open(os.path.join(directory, "kernel-release")).read().strip() \
        if os.path.exists(os.path.join(directory, "kernel-release")) else None
    wanted = ["etc", "boot", "usr/lib/sysctl.d", "usr/lib/systemd/systemd-sysctl"]
    requests = []
    for path in wanted:
        parent = os.path.join(base, os.path.dirname(path))
        os.makedirs(parent, exist_ok=True)
        requests.append("rdump /%s %s" % (path, parent))
    # merged /usr (Debian 12): /lib is a link to usr/lib
    modules = os.path.join(base, "usr", "lib", "modules")
    requests.append("rdump /usr/lib/modules %s" % os.path.join(base, "usr", "lib"))
    os.symlink("usr/lib", os.path.join(base, "lib"))
    labimage.debugfs(disk, *requests)
    # the checks read the module tables, not the modules: drop the .ko files
    for directory_, dummy, names in os.walk(modules):
        for name in names:
            if ".ko" in name:
                os.unlink(os.path.join(directory_, name))
    with open(stamp, "w") as handle:
        handle.write(directory)
    log("base tree from %s (kernel %s)" % (directory, release))
    return base


def host_trees(base, count, own_initramfs=False):
    """``count`` trees: own directories, files hard-linked to the base (the
    initramfs copied, with ``own_initramfs``)."""
    hosts = os.path.join(WORK, "hosts")
    shutil.rmtree(hosts, ignore_errors=True)
    os.makedirs(hosts)
    boot = os.path.join(base, "boot")
    images = [name for name in os.listdir(boot) if name.startswith(("initrd", "initramfs"))]
    for index in range(count):
        tree = os.path.join(hosts, "h%04d" % index)
        subprocess.run(["cp", "-al", base, tree], check=True)
        for name in images if own_initramfs else ():
            os.unlink(os.path.join(tree, "boot", name))
            shutil.copy2(os.path.join(boot, name), os.path.join(tree, "boot", name))
    return hosts


def inventory(hosts, count):
    path = os.path.join(WORK, "inventory-%d.ini" % count)
    with open(path, "w") as handle:
        handle.write("[fleet]\n")
        for index in range(count):
            handle.write("h%04d ansible_connection=local ansible_python_interpreter=%s "
                         "guestready_gce_image_root=%s\n" % (
                             index, sys.executable, os.path.join(hosts, "h%04d" % index)))
    return path


def command(contender, inv):
    contender = "verify" if contender == AGAIN else contender
    if contender == "ping":
        return [os.path.join(BIN, "ansible"), "fleet", "-i", inv, "-m", "ansible.builtin.ping"]
    return [os.path.join(BIN, "ansible-playbook"), "-i", inv,
            os.path.join(ROOT, "playbooks", contender + ".yml"),
            "-e", "guestready_gce_hosts=fleet", "-e", "guestready_gce_gate=false",
            "-e", "guestready_gce_report_dir=%s" % os.path.join(WORK, "reports", contender)]


def measure(contender, inv, forks):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".ansible", "collections"),
               ANSIBLE_FORKS=str(forks), ANSIBLE_DISPLAY_OK_HOSTS="false",
               ANSIBLE_DISPLAY_SKIPPED_HOSTS="false", ANSIBLE_STDOUT_CALLBACK="default")
    argv = command(contender, inv)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", PEAK] + argv, env=env, cwd=WORK, check=False,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    seconds = time.monotonic() - started
    usage = [line.split() for line in proc.stderr.splitlines() if line.startswith("PEAK_RSS_KIB")]
    peak, cpu = (int(usage[-1][1]), float(usage[-1][3])) if usage else (0, 0.0)
    if proc.returncode:
        log("%s failed (rc=%d):\n%s\n%s" % (contender, proc.returncode, proc.stdout[-3000:],
                                            proc.stderr[-2000:]))
    return {"seconds": seconds, "peak_rss_mib": peak / 1024.0, "cpu_seconds": cpu, "ok": proc.returncode == 0,
            "command": " ".join(map(shlex.quote, argv))}


def run(sizes, forks, repeat, own_initramfs):
    kept = set(os.listdir(RUN_CACHE)) if os.path.isdir(RUN_CACHE) else set()
    try:
        return run_sizes(sizes, forks, repeat, own_initramfs)
    finally:
        shutil.rmtree(os.path.join(WORK, "hosts"), ignore_errors=True)
        for name in os.listdir(RUN_CACHE) if os.path.isdir(RUN_CACHE) else ():
            if name.startswith("initramfs-") and name not in kept:
                os.unlink(os.path.join(RUN_CACHE, name))


def run_sizes(sizes, forks, repeat, own_initramfs):
    base = extract_base()
    rows = {}
    for size in sizes:
        hosts = host_trees(base, size, own_initramfs)
        inv = inventory(hosts, size)
        for repetition in range(repeat):
            order = list(CONTENDERS) if repetition % 2 == 0 else list(reversed(CONTENDERS))
            order.insert(order.index("verify") + 1, AGAIN)
            for contender in order:
                if contender == "harden":
                    hosts = host_trees(base, size, own_initramfs)  # every harden starts from the image as built
                row = measure(contender, inv, forks)
                rows.setdefault((size, contender), []).append(row)
                log("%d host(s) rep %d %-7s %7.1f s  %5.2f s/host  %5.2f CPU-s/host  peak %4.0f MiB%s" % (
                    size, repetition, contender, row["seconds"], row["seconds"] / size,
                    row["cpu_seconds"] / size, row["peak_rss_mib"], "" if row["ok"] else "  FAILED"))
    return rows


def report(rows, forks, own_initramfs):
    lines = ["| hosts | contender | median s | s / host | CPU s / host | runs | peak controller RSS MiB |",
             "|---|---|---|---|---|---|---|"]
    stats = {}
    for (size, contender), group in sorted(rows.items()):
        stats[(size, contender)] = {
            "seconds": statistics.median(r["seconds"] for r in group),
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in group),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in group), "ok": all(r["ok"] for r in group)}
        s = stats[(size, contender)]
        lines.append("| %d | %s | %.1f | %.3f | %.3f | %d | %.0f |" % (
            size, contender, s["seconds"], s["seconds"] / size, s["cpu_seconds"] / size,
            len(group), s["peak_rss_mib"]))
    lines += ["", "| hosts | ratio | value | target |", "|---|---|---|---|"]
    for size in sorted(set(size for size, dummy in stats)):
        for label, numerator, denominator, limit, field in TARGETS:
            a, b = stats.get((size, numerator)), stats.get((size, denominator))
            if a and b and b[field]:
                ratio = a[field] / b[field]
                met = "met" if limit is not None and ratio <= limit else "MISSED"
                verdict = "-" if limit is None else "<= %.1f: %s" % (limit, met)
                lines.append("| %d | %s | %.2f | %s |" % (size, label, ratio, verdict))
    lines.append("")
    lines.append("forks=%d; local connection, each host's own copy of the lab image tree "
                 "(image-root mode), %s." % (forks, "each host's own initramfs" if own_initramfs
                                             else "the initramfs one file shared by all hosts"))
    return lines


def write_docs(lines, argv):
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    text = open(path).read()
    begin, end = "<!-- fleet:begin -->", "<!-- fleet:end -->"
    block = "%s\nMeasured with `python tests/bench/fleet_bench.py %s` on %s.\n\n%s\n%s" % (
        begin, " ".join(argv), time.strftime("%Y-%m-%d"), "\n".join(lines), end)
    if begin in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text += "\n## Fleet scale on one controller\n\n" + block + "\n"
    with open(path, "w") as handle:
        handle.write(text)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,100,500")
    parser.add_argument("--forks", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--own-initramfs", action="store_true",
                        help="each host its own copy of the initramfs, listed by each host")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    os.makedirs(WORK, exist_ok=True)
    rows = run(sizes, args.forks, args.repeat, args.own_initramfs)
    lines = report(rows, args.forks, args.own_initramfs)
    print("\n".join(lines))
    if args.write_docs:
        write_docs(lines, argv)
    return 0 if all(r["ok"] for group in rows.values() for r in group) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
