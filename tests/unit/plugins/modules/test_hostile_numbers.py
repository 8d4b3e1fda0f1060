"""device_names.number() takes Python literal syntax: garbage sysfs values
(0b.., 0o.., underscores) are read as the expected numbers."""
import os
import sys
import pytest
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils"))


@pytest.mark.parametrize("irq, kind", [("0b100", "0o4"), ("0_4", "4"), ("4", "0b100")])
def test_sysfs_numbers_in_python_syntax_are_not_numbers(tmp_path, irq, kind):
    from test_devices import tap, serial_result
    m = tap()
    m.set("class/tty/ttyS0/irq", irq)
    m.set("class/tty/ttyS0/type", kind)
    result = serial_result(tmp_path, m)
    print(irq, kind, result["status"], result["message"])
    assert result["status"] != "pass", result["message"]
