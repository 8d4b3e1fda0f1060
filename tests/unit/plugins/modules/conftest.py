"""Run a module's main() in-process and return what it would print."""

import contextlib
import json
from unittest import mock

import pytest
from ansible.module_utils import basic

try:  # ansible-core 2.19 and later
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core 2.16-2.18 read the arguments from basic._ANSIBLE_ARGS
    @contextlib.contextmanager
    def patch_module_args(args):
        with mock.patch.object(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()):
            yield


class ModuleRun(object):
    def __init__(self, capsys):
        self.capsys = capsys

    def __call__(self, module, args, check_mode=False, diff=False):
        args = dict(args)
        args["_ansible_check_mode"] = check_mode
        args["_ansible_diff"] = diff
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exited:
                module.main()
        output = json.loads(self.capsys.readouterr().out)
        output["rc"] = exited.value.code
        return output


@pytest.fixture
def run_module(capsys):
    return ModuleRun(capsys)
