"""FSDP end to end: tools/dist_train.sh with 2 CPU ranks (gloo) on the real pretraining and
fine-tuning configs shrunk with --cfg-options, resumed mid-run with the same losses as an
uninterrupted run, and a sharded checkpoint evaluated by tools/test.py on one process."""
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from tests.helpers import REPO
from tests.helpers.runs import logged_losses
from tests.tools.test_main_job import MAIN, small_options

FSDP_BASE = osp.join(REPO, 'configs', '_base_', 'strategies', 'fsdp_bf16.py')
FINETUNE = osp.join(REPO, 'configs', 'experiments',
                    'data_efficiency_finetune_vit-t-p8_1xb16-30e_synthetic-motion.py')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _dist_train(cfg_path: str, work_dir: str, *extra: str) -> str:
    env = dict(os.environ, PYTHONPATH=REPO, PORT=str(_free_port()), PYTHON=sys.executable,
               CUDA_VISIBLE_DEVICES='')
    out = subprocess.run(['bash', 'tools/dist_train.sh', cfg_path, '2', '--work-dir', work_dir,
                          *extra], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=600)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    return log


def _with_strategy(cfg: Config, state_dict_cfg: str) -> Config:
    cfg.strategy = Config.fromfile(FSDP_BASE).strategy
    cfg.strategy.state_dict_cfg = state_dict_cfg
    return cfg


@pytest.mark.slow
def test_fsdp_pretraining_resumes_with_the_samelogged_losses(tmp_path):
    cfg = Config.fromfile(osp.join(REPO, MAIN))
    cfg.merge_from_dict(small_options(str(tmp_path / 'data'), max_epochs=2))
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.custom_hooks = [dict(type='SafeCheckpointHook', priority='VERY_HIGH')]
    cfg = _with_strategy(cfg, 'sharded')
    cfg_path = str(tmp_path / 'pretrain_fsdp.py')
    cfg.dump(cfg_path)

    full = str(tmp_path / 'full')
    log = _dist_train(cfg_path, full)
    assert 'FSDPStrategy' in log or 'MMFullyShardedDataParallel' in log
    expected = logged_losses(full)
    assert len(expected) >= 4 and all(torch.isfinite(torch.tensor(list(expected.values()))))
    # a sharded checkpoint: one weights-only file per rank
    assert sorted(os.listdir(osp.join(full, 'epoch_1.pth'))) == ['rank0.pth', 'rank1.pth']
    rank1 = torch.load(osp.join(full, 'epoch_1.pth', 'rank1.pth'), weights_only=True)
    assert rank1['meta']['fsdp_shard']['world_size'] == 2

    # a run stopped after epoch 1 and resumed from its checkpoint (what a restarted job does)
    resumed = str(tmp_path / 'resumed')
    os.makedirs(resumed)
    shutil.copytree(osp.join(full, 'epoch_1.pth'), osp.join(resumed, 'epoch_1.pth'))
    _dist_train(cfg_path, resumed, '--resume', osp.join(resumed, 'epoch_1.pth'))
    got = logged_losses(resumed)
    epoch1 = max(expected) // 2  # iterations per epoch
    assert sorted(got) == [s for s in sorted(expected) if s > epoch1]  # epoch 2 only
    for step in sorted(got):
        assert got[step] == pytest.approx(expected[step], rel=1e-4, abs=1e-6), step


@pytest.mark.slow
def test_fsdp_finetuning_checkpoint_tests_on_one_process(tmp_path):
    cfg = Config.fromfile(FINETUNE)
    data = str(tmp_path / 'data')
    cfg.merge_from_dict({
        'train_dataloader.dataset.root': data, 'val_dataloader.dataset.root': data,
        'test_dataloader.dataset.root': data,
        'train_dataloader.dataset.generator.clips_per_class': 2,
        'val_dataloader.dataset.generator.clips_per_class': 2,
        'test_dataloader.dataset.generator.clips_per_class': 2,
        'model.backbone.arch.num_layers': 2, 'train_dataloader.batch_size': 4,
        'train_cfg.max_epochs': 1, 'train_cfg.val_begin': 2,
        'default_hooks.checkpoint.interval': 1, 'default_hooks.logger.interval': 1,
    })
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False
    cfg = _with_strategy(cfg, 'sharded')
    cfg_path = str(tmp_path / 'finetune_fsdp.py')
    cfg.dump(cfg_path)
    work = str(tmp_path / 'work')
    _dist_train(cfg_path, work)
    folder = osp.join(work, 'epoch_1.pth')
    assert osp.isfile(osp.join(folder, 'rank1.pth'))

    env = dict(os.environ, PYTHONPATH=REPO, CUDA_VISIBLE_DEVICES='')
    out = subprocess.run([sys.executable, 'tools/test.py', cfg_path, folder, '--work-dir',
                          str(tmp_path / 'test')], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=600)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    assert 'merged the shards' in log and 'top1' in log
    merged = torch.load(str(tmp_path / 'test' / 'epoch_1_merged.pth'), weights_only=True)
    assert merged['state_dict']['backbone.blocks.1.mlp.fc1.weight'].shape == (512, 128)
