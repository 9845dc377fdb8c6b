"""Soak: the main job (shrunk) killed with SIGKILL again and again - between iterations and in
the middle of checkpoint writes - with a truncated newest checkpoint on top, resumed with
``tools/train.py --resume`` each time, ends with the weights of an uninterrupted run. And a NaN
at a chosen iteration, or the issue's lr=1e4, stops the run with the message and leaves the
previous checkpoint as last_checkpoint."""
import os
import os.path as osp
import signal
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from tests.helpers import REPO
from tests.tools.soak_hooks import KILL_AT_ITER, NAN_AT_ITER
from tests.tools.test_main_job import MAIN, small_options
from vmae2.engine.atomic_io import KILL_ENV

MAX_EPOCHS = 4


def _cfg_file(tmp_path, data_root: str) -> str:
    cfg = Config.fromfile(osp.join(REPO, MAIN))
    cfg.merge_from_dict(small_options(data_root, MAX_EPOCHS))
    cfg.custom_imports = dict(imports=['tests.tools.soak_hooks'], allow_failed_imports=False)
    cfg.custom_hooks = [dict(type='SafeCheckpointHook', priority='VERY_HIGH'),
                        dict(type='FaultInjectionHook')]
    path = str(tmp_path / 'soak_main.py')
    cfg.dump(path)
    return path


def _train(cfg_path: str, work_dir: str, *args, **env) -> subprocess.CompletedProcess:
    """tools/train.py in its own session; whatever it leaves running is killed after."""
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), cfg_path, '--work-dir',
           work_dir, *args]
    proc = subprocess.Popen(cmd, cwd=REPO, env=dict(os.environ, PYTHONPATH=REPO, **env),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    out, _ = proc.communicate(timeout=900)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # data-loader workers, decode helpers
    except ProcessLookupError:
        pass
    return subprocess.CompletedProcess(cmd, proc.returncode, out)


def _last(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return osp.basename(f.read())


def _weights(path: str) -> dict:
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


@pytest.mark.slow
def test_sigkill_soak_resumes_to_the_uninterrupted_weights(tmp_path):
    cfg_path = _cfg_file(tmp_path, str(tmp_path / 'data'))
    full = str(tmp_path / 'full')
    done = _train(cfg_path, full)
    assert done.returncode == 0, done.stdout[-3000:]
    iters = torch.load(osp.join(full, f'epoch_{MAX_EPOCHS}.pth'),
                       weights_only=True)['meta']['iter']
    per_epoch = iters // MAX_EPOCHS
    assert per_epoch >= 3

    work = str(tmp_path / 'soak')
    kills = [  # (environment of the run, what is on disk after it)
        ({KILL_AT_ITER: str(per_epoch + 2)}, 'epoch_1.pth'),  # mid epoch 2
        ({KILL_ENV: 'epoch_2.pth'}, 'epoch_1.pth'),  # half of epoch_2.pth written
        ({KILL_AT_ITER: str(3 * per_epoch + 1)}, 'epoch_3.pth'),  # first step of epoch 4
    ]
    for i, (env, last) in enumerate(kills):
        run = _train(cfg_path, work, *(['--resume'] if i else []), **env)
        assert run.returncode == -signal.SIGKILL, run.stdout[-3000:]
        assert _last(work) == last
    torn = [n for n in os.listdir(work) if n.startswith('.epoch_2.pth.tmp-')]
    assert len(torn) == 0  # the third run cleaned the torn temp file of the second
    # the newest checkpoint truncated under its own name (as an in-place writer would leave
    # it): --resume skips it for epoch_2.pth, then the run is killed writing epoch_4.pth
    newest = osp.join(work, 'epoch_3.pth')
    data = open(newest, 'rb').read()
    with open(newest, 'wb') as f:
        f.write(data[:len(data) // 2])
    run = _train(cfg_path, work, '--resume', **{KILL_ENV: 'epoch_4.pth'})
    assert run.returncode == -signal.SIGKILL
    assert f'--resume: skipping {newest}: it does not load' in run.stdout
    assert '--resume: resuming from' in run.stdout and 'epoch_2.pth' in run.stdout
    assert any(n.startswith('.epoch_4.pth.tmp-') for n in os.listdir(work))
    assert _last(work) == 'epoch_3.pth'  # re-made intact by this run
    final = _train(cfg_path, work, '--resume')
    assert final.returncode == 0, final.stdout[-3000:]
    assert _last(work) == f'epoch_{MAX_EPOCHS}.pth'

    a = _weights(osp.join(full, f'epoch_{MAX_EPOCHS}.pth'))
    b = _weights(osp.join(work, f'epoch_{MAX_EPOCHS}.pth'))
    assert a.keys() == b.keys()
    diff = max(float((a[k].float() - b[k].float()).abs().max()) for k in a)
    print(f'soak: 4 kills (2 in a checkpoint write), 1 truncated newest checkpoint; '
          f'max |weight difference| with the uninterrupted run = {diff:.3g}')
    assert all(torch.equal(a[k], b[k]) for k in a), diff


@pytest.mark.slow
def test_nan_at_a_chosen_iteration_stops_and_keeps_the_previous_checkpoint(tmp_path):
    cfg_path = _cfg_file(tmp_path, str(tmp_path / 'data'))
    work = str(tmp_path / 'nan')
    run = _train(cfg_path, work, **{NAN_AT_ITER: '7'})
    assert run.returncode != 0
    assert 'NonFiniteError: non-finite loss at iteration 7 (epoch 2)' in run.stdout
    assert 'loss=nan' in run.stdout
    assert f'Last good checkpoint: {osp.join(work, "epoch_1.pth")}' in run.stdout
    assert _last(work) == 'epoch_1.pth'
    assert not osp.exists(osp.join(work, 'epoch_2.pth'))


@pytest.mark.slow
def test_the_issue_lr_1e4_no_longer_saves_nan_weights(tmp_path):
    """Measured on main before #11: 'loss: nan' for a whole epoch, epoch_2.pth full of NaN,
    exit 0. Now: stopped at the first NaN loss, nothing non-finite on disk."""
    cfg_path = _cfg_file(tmp_path, str(tmp_path / 'data'))
    work = str(tmp_path / 'lr')
    run = _train(cfg_path, work, '--cfg-options', 'optim_wrapper.optimizer.lr=1e4')
    assert run.returncode != 0
    assert 'NonFiniteError' in run.stdout
    for name in os.listdir(work):
        if name.endswith('.pth'):
            sd = _weights(osp.join(work, name))
            assert all(torch.isfinite(v).all() for v in sd.values() if v.is_floating_point())
