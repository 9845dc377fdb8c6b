"""`import vmae2` checks the stack and names the wrong package."""
import importlib
import subprocess
import sys
from importlib import metadata

import pytest

import vmae2


def test_stack_imports():
    out = subprocess.run([
        sys.executable, '-c',
        'import vmae2, mmaction.models, mmdet.models; from mmcv.ops import RoIAlign; '
        'print(vmae2.__version__)'
    ], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == vmae2.__version__


@pytest.mark.parametrize('pkg,fake', [('mmcv', '2.2.0'), ('mmengine', '0.9.1'),
                                      ('mmdet', '3.1.0'), ('mmaction2', '1.1.0')])
def test_wrong_version_is_named(monkeypatch, pkg, fake):
    real = metadata.version

    def fake_version(name):
        return fake if name == pkg else real(name)

    monkeypatch.setattr(vmae2._metadata, 'version', fake_version)
    with pytest.raises(ImportError) as err:
        vmae2._check_stack()
    msg = str(err.value)
    assert f'{pkg} {fake} is installed' in msg and 'tools/setup.sh' in msg


def test_mmcv_lite_is_named(monkeypatch):
    real = metadata.version

    def fake_version(name):
        if name == 'mmcv':
            raise metadata.PackageNotFoundError(name)
        if name == 'mmcv-lite':
            return '2.1.0'
        return real(name)

    monkeypatch.setattr(vmae2._metadata, 'version', fake_version)
    with pytest.raises(ImportError, match='mmcv-lite 2.1.0 is installed'):
        vmae2._check_stack()


def test_drn_placeholder_is_clear():
    loc = importlib.import_module('mmaction.models.localizers')
    try:
        loc.DRN()
    except ImportError as err:  # placeholder (PyPI release without drn)
        assert 'mmaction2 1.2.0 PyPI release' in str(err)
    except TypeError:  # a real DRN (fixed release) wants arguments
        pass
    else:
        raise AssertionError('DRN() should not build without arguments')


def test_configs_of_other_packages_inherit_ours(tmp_path):
    """A project's config can say `_base_ = 'vmae2::...'` (as mmaction2's projects do)."""
    from mmengine.config import Config
    leaf = tmp_path / 'project_cfg.py'
    leaf.write_text("_base_ = 'vmae2::_base_/default_runtime.py'\nlog_level = 'DEBUG'\n")
    cfg = Config.fromfile(str(leaf))
    assert cfg.default_scope == 'vmae2' and cfg.log_level == 'DEBUG'
    assert cfg.custom_hooks[0]['type'] == 'SafeCheckpointHook'


def test_stack_check_reports_the_video_backends(monkeypatch):
    """tools/setup.sh ends with this line; torchcodec is usable wherever setup.sh could install
    FFmpeg's libraries (as root with apt: CI, a fresh machine here)."""
    from vmae2.datasets import video_readers
    line = video_readers.backend_report()
    assert line.startswith('video backends: torchcodec ') and 'decord ok' in line
    assert 'pyav ok' in line and str(video_readers.DEFAULT_BACKENDS) in line
    ok = video_readers.backend_status('torchcodec') is None
    assert ('torchcodec ok' in line) == ok
    # a backend that cannot load is reported with the reason and the fix
    monkeypatch.setitem(video_readers._BACKEND_MODULES, 'decord',
                        ('vmae2_no_such_module', 'pip install decord==0.6.0'))
    monkeypatch.delitem(video_readers._STATUS, 'decord', raising=False)  # restored after
    line = video_readers.backend_report()
    assert "decord OFF (ModuleNotFoundError: No module named 'vmae2_no_such_module' " \
        "(pip install decord==0.6.0))" in line


def test_multimodal_switch_is_read_from_source(tmp_path):
    """mmaction2's VindLU switch is decided from transformers' source, without importing its
    model machinery (5-6 s of ``import vmae2``); a module that lacks the helper turns it off."""
    from vmae2.utils.compat import _defines_at_top_level
    src = tmp_path / 'mod.py'
    for text, found in [('from .pytorch_utils import (Conv1D, apply_chunking_to_forward)\n', True),
                        ('def apply_chunking_to_forward(fn, *a):\n    pass\n', True),
                        ('apply_chunking_to_forward = None\n', True),
                        ('try:\n    import torch\nexcept ImportError:\n    pass\nelse:\n'
                         '    from .pytorch_utils import apply_chunking_to_forward\n', True),
                        ('class A:\n    apply_chunking_to_forward = 1\n', False),
                        ('# apply_chunking_to_forward was removed\nx = 1\n', False),
                        ('def f():\n    from x import apply_chunking_to_forward\n', False)]:
        src.write_text(text)
        assert _defines_at_top_level(str(src), 'apply_chunking_to_forward') is found, text
    if importlib.util.find_spec('transformers') is None:
        pytest.skip('transformers is not installed')
    out = subprocess.run([
        sys.executable, '-c',
        'import sys, vmae2; from mmaction.utils import dependency as d; '
        'import transformers.modeling_utils as m; '
        "print(d.WITH_MULTIMODAL, hasattr(m, 'apply_chunking_to_forward'))"
    ], capture_output=True, text=True, check=True)
    switch, has_helper = out.stdout.split()
    # the switch is on exactly when the installed transformers still has the helper
    assert switch == has_helper
    out = subprocess.run([sys.executable, '-c', "import sys, vmae2; "
                          "print('transformers.modeling_utils' in sys.modules)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == 'False'
