"""modprobe.d and the kernel command line read as kmod reads them
(libkmod/libkmod-config.c, shared/util.c): what keeps a driver from loading."""

from ansible_collections.guestready.gce.plugins.module_utils import modprobe


def blocked(text, source="/etc/modprobe.d/x.conf"):
    """``{module: [line numbers]}`` of one configuration file."""
    return dict((module, [w["line"] for w in where])
                for module, where in modprobe.text_blocks([(source, text)]).items())


def test_a_doubled_backslash_at_the_end_is_a_backslash_not_a_continuation():
    # freadline_wrapped: "\\" keeps one backslash; only an odd one joins the next line
    assert blocked("blacklist evbug\\\\\nblacklist virtio_net\n") == {"evbug\\": [1], "virtio_net": [2]}
    assert blocked("blacklist \\\nvirtio_net\n") == {"virtio_net": [1]}


def test_a_backslash_keeps_the_character_after_it():
    assert blocked("blacklist virtio\\_net\n") == {"virtio_net": [1]}


def test_a_carriage_return_stays_in_the_name():
    # kmod splits at blanks and tabs only: "blacklist virtio_net\r" names "virtio_net\r"
    assert "virtio_net" not in blocked("blacklist virtio_net\r\nblacklist\tgve \r\n")
    assert "gve" in blocked("blacklist virtio_net\r\nblacklist\tgve \r\n")
