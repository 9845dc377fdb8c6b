"""The data-efficiency experiment script end to end on a tiny SyntheticMotion set: pretrain ->
fine-tune from the pretrained encoder, and the from-scratch baseline, with results and curves."""
import json
import os.path as osp
import sys

import pytest
import torch

from tests.helpers import REPO

sys.path.insert(0, osp.join(REPO, 'tools', 'experiments'))


@pytest.mark.slow
def test_experiment_script_runs_both_arms(tmp_path):
    import data_efficiency
    work = tmp_path / 'work'
    data_efficiency.main(['--work-dir', str(work), '--seeds', '0', '--pretrain-epochs', '1',
                          '--finetune-epochs', '1', '--data-root', str(tmp_path / 'data'),
                          '--clips-per-class', '4'])
    results = json.loads((work / 'results.json').read_text())
    for arm in ('pretrained', 'scratch'):
        (epoch, top1), = results[arm]['0']  # one val point after the one epoch
        assert epoch == 1 and 0 <= top1 <= 1
    assert (work / 'data_efficiency.png').stat().st_size > 10_000

    # the fine-tuned encoder starts from the pretrained one (warmup starts at lr x 1e-3, so
    # after one short epoch it is still next to it); the scratch encoder does not
    pre = torch.load(work / 'seed0' / 'pretrain' / 'epoch_1.pth', weights_only=True)['state_dict']
    key = 'blocks.0.attn.qkv.weight'
    ref = pre[f'encoder.{key}']
    for arm, close in (('finetune', True), ('scratch', False)):
        sd = torch.load(work / 'seed0' / arm / 'epoch_1.pth', weights_only=True)['state_dict']
        diff = (sd[f'backbone.{key}'] - ref).abs().max().item()
        assert (diff < 1e-2) == close, (arm, diff)
    # 8 classes x 4 clips at the default val ratio: 3 train + 1 val clip a class
    assert len(open(tmp_path / 'data' / 'train_list.txt').read().split('\n')) - 1 == 24
