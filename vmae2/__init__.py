"""vmae2: VideoMAE V2 as an OpenMMLab toolbox.

Importing vmae2 checks that the OpenMMLab stack it was written against is installed (with an
error that names the wrong package and how to fix it), and works around the one hole in the
mmaction2 1.2.0 PyPI release (see :mod:`vmae2.utils.compat`).
"""
from importlib import metadata as _metadata

from .version import __version__, version_info

# package name -> (minimum inclusive, maximum exclusive, why)
_REQUIRED = {
    'mmengine': ('0.10.0', '0.11.0', 'the runner, configs and checkpoint hooks vmae2 builds on'),
    'mmcv': ('2.1.0', '2.2.0', 'compiled ops (RoIAlign) for mmdet 3.3 and the AVA heads; '
             'mmdet 3.3 and mmaction2 1.2 refuse mmcv 2.2'),
    'mmaction2': ('1.2.0', '1.3.0', 'datasets, transforms, metrics and RoI heads'),
    'mmdet': ('3.3.0', '3.4.0', 'detectors for AVA'),
}
_FIX = 'Run `bash tools/setup.sh` from the vmae2 repository (it compiles mmcv with its ops).'


def _version_tuple(v: str) -> tuple:
    out = []
    for part in v.split('+')[0].split('.'):
        digits = ''.join(c for c in part if c.isdigit())
        out.append(int(digits) if digits else 0)
        if not part.isdigit():
            break
    return tuple(out)


def _check_stack() -> None:
    problems = []
    for pkg, (lo, hi, why) in _REQUIRED.items():
        try:
            found = _metadata.version(pkg)
        except _metadata.PackageNotFoundError:
            if pkg == 'mmcv':
                try:
                    lite = _metadata.version('mmcv-lite')
                except _metadata.PackageNotFoundError:
                    lite = None
                if lite is not None:
                    problems.append(
                        f'mmcv-lite {lite} is installed, but vmae2 needs the full mmcv>={lo},<{hi} '
                        f'with compiled ops ({why}).')
                    continue
            problems.append(f'{pkg} is not installed; vmae2 needs {pkg}>={lo},<{hi} ({why}).')
            continue
        if not (_version_tuple(lo) <= _version_tuple(found) < _version_tuple(hi)):
            problems.append(
                f'{pkg} {found} is installed, but vmae2 needs {pkg}>={lo},<{hi} ({why}).')
    if problems:
        raise ImportError('vmae2 cannot start:\n  - ' + '\n  - '.join(problems) + f'\n{_FIX}')


_check_stack()

from .checkpoints import register_safe_loader  # noqa: E402
from .utils.compat import patch_mmaction  # noqa: E402

patch_mmaction()
register_safe_loader()  # every local checkpoint load, MMEngine's included, is weights-only

__all__ = ['__version__', 'version_info']
