"""The main job's real config, shrunk: it trains, draws pictures, and resumes exactly after a
SIGKILL (same schedule, data order and masks as an uninterrupted run)."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from tests.helpers import REPO
from tests.helpers.runs import logged_losses

MAIN = 'configs/pretrain/videomaev2_vit-t-p8_dual-mask_1xb8-60e_synthetic-motion.py'


def small_options(data_root: str, max_epochs: int) -> dict:
    """Overrides that keep the real pipeline, model family and schedule but make it tiny."""
    return {
        'train_dataloader.dataset.root': data_root,
        'train_dataloader.dataset.generator.clips_per_class': 3,
        'train_dataloader.dataset.generator.num_frames': 16,
        'train_dataloader.batch_size': 4,
        'train_dataloader.num_workers': 1,
        'model.backbone.arch.num_layers': 1,
        'model.decoder.num_layers': 1,
        'train_cfg.max_epochs': max_epochs,
        'default_hooks.checkpoint.interval': 1,
        'default_hooks.logger.interval': 1,
        'custom_hooks': [dict(type='SafeCheckpointHook', priority='VERY_HIGH'),
                         dict(type='ReconstructionVisHook', interval=4, num_clips=1)],
        'log_level': 'INFO',
    }


def test_main_config_trains_and_draws(tmp_path):
    cfg = Config.fromfile(osp.join(REPO, MAIN))
    cfg.merge_from_dict(small_options(str(tmp_path / 'data'), max_epochs=2))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.experiment_name = 'main_job_small'
    runner = Runner.from_cfg(cfg)
    runner.train()
    losses = runner.message_hub.get_scalar('train/loss').data[0]
    assert len(losses) == runner.iter and runner.iter >= 8
    assert all(torch.isfinite(torch.tensor(losses)))
    pngs = sorted(os.listdir(tmp_path / 'work' / 'reconstructions'))
    assert 'iter_1.png' in pngs and len(pngs) >= 2
    ckpt = torch.load(tmp_path / 'work' / 'epoch_2.pth', weights_only=True)
    assert ckpt['meta']['epoch'] == 2


def _cfg_file(tmp_path, data_root: str, max_epochs: int) -> str:
    cfg = Config.fromfile(osp.join(REPO, MAIN))
    cfg.merge_from_dict(small_options(data_root, max_epochs))
    cfg.custom_hooks = [dict(type='SafeCheckpointHook', priority='VERY_HIGH')]
    path = str(tmp_path / 'small_main.py')
    cfg.dump(path)
    return path


@pytest.mark.slow
def test_sigkill_and_resume_reproduces_the_loss_sequence(tmp_path):
    data_root = str(tmp_path / 'data')
    cfg_path = _cfg_file(tmp_path, data_root, max_epochs=4)
    env = dict(os.environ, PYTHONPATH=REPO)
    train = [sys.executable, osp.join(REPO, 'tools', 'train.py'), cfg_path]

    full = str(tmp_path / 'full')
    subprocess.run(train + ['--work-dir', full], cwd=REPO, env=env, check=True,
                   capture_output=True, timeout=600)
    expected = logged_losses(full)
    assert len(expected) >= 12

    # a run killed with SIGKILL once its second checkpoint is on disk...
    killed = str(tmp_path / 'killed')
    proc = subprocess.Popen(train + ['--work-dir', killed], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 600
    while not osp.exists(osp.join(killed, 'epoch_2.pth')) and time.time() < deadline:
        assert proc.poll() is None, 'the run ended before it could be killed'
        time.sleep(0.2)
    time.sleep(0.5)  # let the file be complete; the run goes on into epoch 3
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not osp.exists(osp.join(killed, 'epoch_4.pth'))
    # ...and resumed from its latest checkpoint ends with the same losses, step for step
    subprocess.run(train + ['--work-dir', killed, '--resume'], cwd=REPO, env=env, check=True,
                   capture_output=True, timeout=600)
    got = logged_losses(killed)
    assert set(got) == set(expected)
    for step in sorted(expected):
        assert got[step] == pytest.approx(expected[step], rel=1e-5, abs=1e-6), step
