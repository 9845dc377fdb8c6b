"""vmae2: VideoMAE V2 as an OpenMMLab toolbox.

Importing vmae2 checks that the OpenMMLab stack it was written against is installed (with an
error that names the wrong package and how to fix it), and works around the one hole in the
mmaction2 1.2.0 PyPI release (see :mod:`vmae2.utils.compat`).
"""
import configparser as _configparser
import importlib.util as _importlib_util
import os as _os
import os.path as _osp
from importlib import metadata as _metadata

from packaging.requirements import Requirement as _Requirement

from .version import __version__, version_info


def _quiet_deepspeed_on_cpu() -> None:
    """Where DeepSpeed is installed, MMEngine's runner module imports it, and on a machine
    without CUDA its accelerator detection prints "Setting accelerator to CPU..." to *stdout*:
    into the data that tools print (``get_flops.py``'s table, measured). Naming the accelerator
    it would pick anyway (``DS_ACCELERATOR``, DeepSpeed's own switch; a value already set
    wins) keeps it quiet. Nothing is touched without DeepSpeed, or with a CUDA GPU."""
    if 'DS_ACCELERATOR' in _os.environ or _importlib_util.find_spec('deepspeed') is None:
        return
    import torch
    if not (torch.cuda.device_count() > 0 and torch.cuda.is_available()):
        _os.environ['DS_ACCELERATOR'] = 'cpu'


_quiet_deepspeed_on_cpu()

#: The packages whose versions ``import vmae2`` checks, and why each matters. The pins
#: themselves live in one place, ``setup.cfg`` (``install_requires``, with the reason for each
#: pin), read back from the installed distribution's metadata (or from ``setup.cfg`` beside a
#: source checkout that was never installed).
_CHECKED = {
    'mmengine': 'the runner, configs and checkpoint hooks vmae2 builds on',
    'mmcv': 'compiled ops (RoIAlign) for mmdet 3.3 and the AVA heads',
    'mmaction2': 'datasets, transforms, metrics and RoI heads',
    'mmdet': 'detectors for AVA',
}
_FIX = 'Run `bash tools/setup.sh` from the vmae2 repository (it compiles mmcv with its ops).'


def _pins() -> dict:
    """``name -> Requirement`` of vmae2's install requirements (no extras)."""
    try:
        lines = _metadata.requires('vmae2') or []
    except _metadata.PackageNotFoundError:
        cfg = _osp.join(_osp.dirname(_osp.dirname(_osp.abspath(__file__))), 'setup.cfg')
        parser = _configparser.ConfigParser()
        parser.read(cfg)
        raw = parser.get('options', 'install_requires', fallback='')
        lines = [ln.split('#')[0].strip() for ln in raw.splitlines()]
    reqs = [_Requirement(ln) for ln in lines if ln]
    return {r.name.lower(): r for r in reqs if r.marker is None}


def _check_stack() -> None:
    problems = []
    pins = _pins()
    for pkg, why in _CHECKED.items():
        req = pins.get(pkg)
        if req is None:
            continue
        spec = str(req.specifier)
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
                        f'mmcv-lite {lite} is installed, but vmae2 needs the full mmcv{spec} '
                        f'with compiled ops ({why}).')
                    continue
            problems.append(f'{pkg} is not installed; vmae2 needs {pkg}{spec} ({why}).')
            continue
        if not req.specifier.contains(found, prereleases=True):
            problems.append(f'{pkg} {found} is installed, but vmae2 needs {pkg}{spec} ({why}; '
                            'the pins and their reasons are in setup.cfg).')
    if problems:
        raise ImportError('vmae2 cannot start:\n  - ' + '\n  - '.join(problems) + f'\n{_FIX}')


_check_stack()

from .checkpoints import register_safe_loader  # noqa: E402
from .utils.compat import patch_mmaction  # noqa: E402

patch_mmaction()
register_safe_loader()  # every local checkpoint load, MMEngine's included, is weights-only

__all__ = ['__version__', 'version_info']
