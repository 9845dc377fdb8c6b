__version__ = '0.1.0'


def parse_version_info(version_str: str) -> tuple:
    """'0.1.0' -> (0, 1, 0); a suffix such as 'rc1' is kept as a string part."""
    parts = []
    for x in version_str.split('.'):
        parts.append(int(x) if x.isdigit() else x)
    return tuple(parts)


version_info = parse_version_info(__version__)
