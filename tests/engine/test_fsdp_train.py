"""FSDP end to end: tools/dist_train.sh with 2 CPU ranks (gloo) on the real pretraining and
fine-tuning configs shrunk with --cfg-options, resumed mid-run with the same losses as an
uninterrupted run, and a sharded checkpoint evaluated by tools/test.py on one process."""
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from tests.helpers import REPO
from tests.helpers.launch import (
    assert_resume_matches,
    dist_train,
    run_test_tool,
    small_finetuning,
    small_pretraining,
)
from tests.helpers.runs import logged_losses

FSDP_BASE = osp.join(REPO, 'configs', '_base_', 'strategies', 'fsdp_bf16.py')


def _with_strategy(cfg: Config, state_dict_cfg: str) -> Config:
    cfg.strategy = Config.fromfile(FSDP_BASE).strategy
    cfg.strategy.state_dict_cfg = state_dict_cfg
    return cfg


@pytest.mark.slow
def test_fsdp_pretraining_resumes_with_the_samelogged_losses(tmp_path):
    cfg = _with_strategy(small_pretraining(str(tmp_path / 'data')), 'sharded')
    cfg_path = str(tmp_path / 'pretrain_fsdp.py')
    cfg.dump(cfg_path)

    full = str(tmp_path / 'full')
    log = dist_train(cfg_path, full)
    assert 'FSDPStrategy' in log or 'MMFullyShardedDataParallel' in log
    expected = logged_losses(full)
    assert len(expected) >= 4 and all(torch.isfinite(torch.tensor(list(expected.values()))))
    # a sharded checkpoint: one weights-only file per rank
    assert sorted(os.listdir(osp.join(full, 'epoch_1.pth'))) == ['rank0.pth', 'rank1.pth']
    rank1 = torch.load(osp.join(full, 'epoch_1.pth', 'rank1.pth'), weights_only=True)
    assert rank1['meta']['fsdp_shard']['world_size'] == 2
    # a run stopped after epoch 1 and resumed from its checkpoint (what a restarted job does)
    assert_resume_matches(cfg_path, full, str(tmp_path / 'resumed'))


@pytest.mark.slow
def test_fsdp_finetuning_resumes_and_its_checkpoint_tests_on_one_process(tmp_path):
    cfg = _with_strategy(small_finetuning(str(tmp_path / 'data')), 'sharded')
    cfg_path = str(tmp_path / 'finetune_fsdp.py')
    cfg.dump(cfg_path)
    work = str(tmp_path / 'work')
    dist_train(cfg_path, work)
    assert_resume_matches(cfg_path, work, str(tmp_path / 'resumed'))
    folder = osp.join(work, 'epoch_1.pth')
    assert osp.isfile(osp.join(folder, 'rank1.pth'))

    log = run_test_tool(cfg_path, folder, str(tmp_path / 'test'))
    assert 'merged the shards' in log and 'top1' in log
    merged = torch.load(str(tmp_path / 'test' / 'epoch_1_merged.pth'), weights_only=True)
    assert merged['state_dict']['backbone.blocks.1.mlp.fc1.weight'].shape == (512, 128)
