"""One place for version pins: setup.cfg. tools/setup.sh and `import vmae2` read them there."""
import configparser
import os.path as osp
import re
import subprocess

import vmae2
from tests.helpers import REPO


def _setup_cfg_pins():
    cfg = configparser.ConfigParser()
    cfg.read(osp.join(REPO, 'setup.cfg'))
    lines = [ln.split('#')[0].strip() for ln in cfg.get('options', 'install_requires').split('\n')]
    return {re.split(r'[<>=!~\[;\s]', ln, maxsplit=1)[0].lower(): ln for ln in lines if ln}


def test_setup_script_installs_the_setup_cfg_pins():
    out = subprocess.run(['bash', osp.join(REPO, 'tools', 'setup.sh'), '--print-pins'],
                         capture_output=True, text=True, check=True, timeout=60)
    pins = _setup_cfg_pins()
    assert out.stdout.split() == [pins[n] for n in
                                  ('torch', 'torchvision', 'mmengine', 'numpy', 'setuptools',
                                   'mmcv')]
    # and it writes none of them down itself
    text = open(osp.join(REPO, 'tools', 'setup.sh')).read()
    for name in ('torch', 'torchvision', 'mmengine', 'mmcv'):
        version = pins[name].split('==')[1]
        code = [ln for ln in text.splitlines() if not ln.lstrip().startswith('#')]
        assert not [ln for ln in code if version in ln], name


def test_import_checks_the_setup_cfg_pins():
    pins = _setup_cfg_pins()
    ours = vmae2._pins()
    for name in ('mmengine', 'mmcv', 'mmdet', 'mmaction2'):
        assert str(ours[name]) == pins[name].replace(' ', '')
    source = open(osp.join(REPO, 'vmae2', '__init__.py')).read()
    assert not re.search(r"'\d+\.\d+\.\d+'", source)  # no version literal beside setup.cfg's
