"""Train with MMEngine's Runner, save, resume, continue: all under weights_only=True."""
import copy
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from tests.helpers import REPO
from tests.helpers.toy import Payload, toy_cfg  # noqa: F401
from vmae2.checkpoints import UntrustedCheckpointError


def _train(cfg: dict) -> Runner:
    runner = Runner.from_cfg(Config(copy.deepcopy(cfg)))
    runner.train()
    return runner


def _weights(runner):
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


def test_checkpoints_are_weights_only_loadable(tmp_path):
    runner = _train(toy_cfg(str(tmp_path / 'a'), max_iters=4, interval=4))
    ckpt = torch.load(osp.join(runner.work_dir, 'iter_4.pth'), weights_only=True)
    assert ckpt['meta']['iter'] == 4
    buf = ckpt['message_hub']['log_scalars']['train/loss']
    assert buf['__history_buffer__'] and len(buf['log_history']) == 4


def test_resume_continues_exactly(tmp_path):
    full = _train(toy_cfg(str(tmp_path / 'full'), max_iters=8, interval=4))
    # a run stopped after 4 iterations, then resumed from its checkpoint up to 8
    _train(toy_cfg(str(tmp_path / 'part'), max_iters=4, interval=4))
    cfg = toy_cfg(str(tmp_path / 'part'), max_iters=8, interval=4)
    cfg.update(resume=True, load_from=str(tmp_path / 'part' / 'iter_4.pth'))
    resumed = Runner.from_cfg(Config(cfg))
    resumed.train()
    assert resumed.iter == 8
    # the loss history came back from the checkpoint (4 entries) and grew by 4
    hist = resumed.message_hub.get_scalar('train/loss').data[0]
    assert len(hist) == 8
    a, b = _weights(full), _weights(resumed)
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-6), k
    assert torch.allclose(
        torch.tensor(full.message_hub.get_scalar('train/loss').data[0]),
        torch.tensor(hist), atol=1e-6)


def test_load_from_refuses_pickled_object_but_loads_state_dict(tmp_path):
    from tests.helpers.toy import ToyRegressor  # noqa: F401
    good = tmp_path / 'good.pth'
    bad = tmp_path / 'bad.pth'
    torch.manual_seed(1)
    sd = {'linear.weight': torch.randn(1, 4), 'linear.bias': torch.tensor([0.25])}
    torch.save({'state_dict': sd}, good)
    torch.save({'state_dict': sd, 'extra': Payload()}, bad)

    cfg = toy_cfg(str(tmp_path / 'load'), max_iters=1)
    cfg.update(load_from=str(good))
    runner = Runner.from_cfg(Config(cfg))
    runner.load_or_resume()
    assert torch.equal(runner.model.linear.bias.data, torch.tensor([0.25]))

    cfg = toy_cfg(str(tmp_path / 'load2'), max_iters=1)
    cfg.update(load_from=str(bad))
    runner = Runner.from_cfg(Config(cfg))
    with pytest.raises(UntrustedCheckpointError, match='Payload'):
        runner.load_or_resume()


@pytest.mark.slow
def test_train_tool_resume_cli(tmp_path):
    """tools/train.py --resume picks up the latest checkpoint of the work dir."""
    cfg_path = tmp_path / 'toy_cfg.py'
    cfg = toy_cfg(str(tmp_path / 'work'), max_iters=4, interval=2)
    cfg['custom_imports'] = dict(imports=['tests.helpers.toy'], allow_failed_imports=False)
    Config(cfg).dump(str(cfg_path))
    env = dict(**__import__('os').environ, PYTHONPATH=REPO)
    subprocess.run([sys.executable, 'tools/train.py', str(cfg_path)], cwd=REPO, env=env,
                   check=True, capture_output=True)
    out = subprocess.run(
        [sys.executable, 'tools/train.py', str(cfg_path), '--resume',
         '--cfg-options', 'train_cfg.max_iters=6'],
        cwd=REPO, env=env, check=True, capture_output=True, text=True)
    log = out.stdout + out.stderr
    assert 'Advance dataloader 4 steps' in log  # resumed at iteration 4
    assert osp.exists(tmp_path / 'work' / 'iter_6.pth')
    ckpt = torch.load(tmp_path / 'work' / 'iter_6.pth', weights_only=True)
    assert ckpt['meta']['iter'] == 6
