"""--amp on a CPU: bf16 autocast without a loss scaler."""
import importlib.util
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from tests.helpers import REPO
from vmae2.engine import AutocastOptimWrapper


def _train_tool():
    spec = importlib.util.spec_from_file_location('train_tool', osp.join(REPO, 'tools', 'train.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Probe(nn.Module):

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.seen = None

    def forward(self, x):
        y = self.fc(x)
        self.seen = y.dtype
        return y


def test_autocast_wrapper_runs_bf16_and_steps():
    torch.manual_seed(0)
    model = Probe()
    opt = AutocastOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    before = model.fc.weight.detach().clone()
    with opt.optim_context(model):
        loss = model(torch.randn(4, 8)).float().pow(2).mean()
    assert model.seen == torch.bfloat16
    opt.update_params(loss)
    assert model.fc.weight.dtype == torch.float32  # master weights stay fp32
    assert not torch.equal(before, model.fc.weight)
    # outside the context the model runs in fp32 again
    model(torch.randn(1, 8))
    assert model.seen == torch.float32


def test_fp32_dtype_disables_autocast():
    model = Probe()
    opt = AutocastOptimWrapper(dtype='float32',
                               optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    with opt.optim_context(model):
        model(torch.randn(2, 8))
    assert model.seen == torch.float32
    with pytest.raises(ValueError, match='unsupported dtype'):
        AutocastOptimWrapper(dtype='int8', optimizer=torch.optim.SGD(model.parameters(), lr=0.1))


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU choice of --amp')
def test_train_tool_amp_picks_cpu_wrapper():
    tool = _train_tool()
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=1))))
    tool.enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'AutocastOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16' and 'loss_scale' not in cfg.optim_wrapper
    bad = Config(dict(optim_wrapper=dict(type='MyWrapper', optimizer=dict(type='SGD', lr=1))))
    with pytest.raises(ValueError, match='MyWrapper'):
        tool.enable_amp(bad)
