"""Offline stand-in for ansible-test's pip bootstrap script.

ansible-test downloads get-pip.py from a host this machine cannot reach; it
runs the cached copy instead, with pip's options and the wanted packages
(``pip==24.2``) as arguments.  The standard library's ensurepip gives a pip,
which then installs the wanted versions from PyPI.
"""

import subprocess
import sys

packages = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"],
                      stdout=subprocess.DEVNULL)
if packages:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check",
                           "--quiet"] + packages)
