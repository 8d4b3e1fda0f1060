"""Hostile kernel configurations."""
import gzip
import lzma
import time
import pytest
from hostile import alarm, put
from ansible_collections.guestready.gce.plugins.module_utils import kconfig_parser
from ansible_collections.guestready.gce.plugins.module_utils.kconfig_parser import KconfigError
from ansible_collections.guestready.gce.plugins.module_utils.target import Target


# empty gzip/xz members filling 3/4 of the read limit: far more than MAX_STREAMS
@pytest.mark.parametrize("kind, member", [("gzip", gzip.compress(b"")),
                                          ("xz", lzma.compress(b""))])
def test_many_concatenated_streams_are_refused(tmp_path, kind, member):
    count = (kconfig_parser.MAX_SIZE * 3 // 4) // len(member)
    put(tmp_path, "/boot/config-6.1.0-1", member * count)
    start = time.time()
    with alarm(30):
        with pytest.raises(KconfigError):
            kconfig_parser.read("/boot/config-6.1.0-1", target=Target(str(tmp_path)))
    print(kind, count, time.time() - start)


def test_a_quoted_bool_is_ignored_as_kconfig_does(tmp_path):
    # kconfig (confdata.c conf_set_sym_val): a bool/tristate value must start
    # with y/m/n; '"y"' is "invalid for SERIAL_8250" and ignored
    text = b"# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_64BIT=y\nCONFIG_SERIAL_8250=\"y\"\n"
    put(tmp_path, "/boot/config-6.1.0-1", text)
    config = kconfig_parser.read("/boot/config-6.1.0-1", target=Target(str(tmp_path)))
    print(config.get("SERIAL_8250"), config.warnings)
    assert config.get("SERIAL_8250") != "y"


def test_a_quoted_bool_does_not_pass(tmp_path):
    """kconfig (scripts/kconfig/confdata.c conf_set_sym_val, S_BOOLEAN): a value
    not starting with y/m/n -- '"y"' starts with a quote -- is 'invalid for
    KVM_GUEST' and ignored, so the kernel built from it lacks KVM_GUEST."""
    from ansible_collections.guestready.gce.plugins.module_utils.catalogue import requirements
    from ansible_collections.guestready.gce.plugins.module_utils.kconfig_eval import evaluate
    text = (b"# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_64BIT=y\nCONFIG_X86_64=y\n"
            b"CONFIG_KVM_GUEST=\"y\"\n")
    put(tmp_path, "/boot/config-6.1.0-1", text)
    config = kconfig_parser.read("/boot/config-6.1.0-1", target=Target(str(tmp_path)))
    entry = [e for e in requirements("kernel-required") if e["id"] == "KCONF-KVM_GUEST"]
    result = evaluate(entry, config)[0]
    print(result["status"], result["message"], config.warnings)
    assert result["status"] != "pass", result["message"]
