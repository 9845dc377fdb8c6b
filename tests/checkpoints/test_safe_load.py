"""Checkpoints load with torch.load(weights_only=True); anything else is refused by name."""
import argparse
import os
from collections import OrderedDict

import pytest
import torch
import torch.nn as nn
from mmengine.runner import load_checkpoint

from tests.helpers.toy import Payload
from vmae2.checkpoints import TRUST_ENV, UntrustedCheckpointError, safe_load


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_plain_state_dict_loads(tmp_path):
    net = _net()
    path = tmp_path / 'plain.pth'
    torch.save({'state_dict': net.state_dict(), 'meta': {'epoch': 3, 'note': 'ok'}}, path)
    ckpt = safe_load(str(path))
    assert ckpt['meta'] == {'epoch': 3, 'note': 'ok'}
    for k, v in net.state_dict().items():
        assert torch.equal(ckpt['state_dict'][k], v)


def test_official_layout_with_argparse_namespace_loads(tmp_path):
    # The official VideoMAE V2 scripts save {'model': ..., 'args': Namespace(...), 'epoch': N}.
    path = tmp_path / 'official.pth'
    args = argparse.Namespace(model='vit_base_patch16_224', mask_ratio=0.9, lr=1e-3)
    torch.save({'model': OrderedDict(w=torch.ones(2)), 'args': args, 'epoch': 799}, path)
    ckpt = safe_load(path)
    assert ckpt['args'].mask_ratio == 0.9 and ckpt['epoch'] == 799
    assert torch.equal(ckpt['model']['w'], torch.ones(2))


def test_arbitrary_object_is_refused_with_its_type(tmp_path, monkeypatch):
    monkeypatch.delenv(TRUST_ENV, raising=False)
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': _net().state_dict(), 'extra': Payload()}, path)
    with pytest.raises(UntrustedCheckpointError) as err:
        safe_load(str(path))
    msg = str(err.value)
    assert 'Payload' in msg and 'evil.pth' in msg
    assert '--trust-checkpoint' in msg and TRUST_ENV in msg


def test_trusted_opt_in(tmp_path, monkeypatch):
    path = tmp_path / 'evil.pth'
    torch.save({'extra': Payload()}, path)
    with pytest.warns(UserWarning, match='full unpickling'):
        assert safe_load(path, trust=True)['extra'].value == 42
    monkeypatch.setenv(TRUST_ENV, '1')
    with pytest.warns(UserWarning):
        assert safe_load(path)['extra'].value == 42


def test_mmengine_load_checkpoint_goes_through_safe_load(tmp_path, monkeypatch):
    """`load_from` / init_cfg Pretrained use mmengine's loader, which vmae2 reroutes."""
    import vmae2  # noqa: F401  (registers the safe loader)
    monkeypatch.delenv(TRUST_ENV, raising=False)
    good, bad = tmp_path / 'good.pth', tmp_path / 'bad.pth'
    src = _net()
    torch.save({'state_dict': src.state_dict()}, good)
    torch.save({'state_dict': src.state_dict(), 'hook': Payload()}, bad)
    dst = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    load_checkpoint(dst, str(good), map_location='cpu')
    x = torch.randn(5, 3)
    assert torch.allclose(dst(x), src(x))
    with pytest.raises(UntrustedCheckpointError, match='Payload'):
        load_checkpoint(dst, str(bad), map_location='cpu')


def test_missing_file():
    with pytest.raises(FileNotFoundError, match='no_such.pth'):
        safe_load(os.path.join('does', 'not', 'exist', 'no_such.pth'))
