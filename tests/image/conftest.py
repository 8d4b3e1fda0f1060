"""The image tests skip when a tool or the lab image is missing: say why in the summary."""


def pytest_configure(config):
    # like -rs: every skip's reason is listed in pytest's closing summary
    chars = config.option.reportchars or ""
    if "s" not in chars and "a" not in chars and "A" not in chars:
        config.option.reportchars = chars + "s"
