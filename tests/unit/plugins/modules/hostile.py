"""Helpers of the hostile-input tests: a time limit for a call that must
not hang, and files written into a tree."""

import contextlib
import os
import signal


class Hang(Exception):
    pass


@contextlib.contextmanager
def alarm(seconds=30):
    def expired(*args):
        raise Hang("still running after %d s" % seconds)
    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def put(root, path, data):
    """Write ``data`` (text or bytes) at ``path`` inside ``root``."""
    full = os.path.join(str(root), path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb" if isinstance(data, bytes) else "w") as handle:
        handle.write(data)
    return full
