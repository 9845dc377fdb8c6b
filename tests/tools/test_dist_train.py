"""tools/dist_train.sh with 2 CPU processes (gloo): both ranks train and log."""
import os
import os.path as osp
import re
import socket
import subprocess
import sys

import pytest
from mmengine.config import Config

from tests.helpers import REPO
from tests.helpers.toy import toy_cfg


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_dist_train_two_cpu_processes(tmp_path):
    cfg = toy_cfg(str(tmp_path / 'work'), max_iters=4, interval=4)
    cfg['custom_imports'] = dict(imports=['tests.helpers.toy'], allow_failed_imports=False)
    cfg['log_level'] = 'INFO'
    cfg_path = tmp_path / 'toy_dist.py'
    Config(cfg).dump(str(cfg_path))
    env = dict(os.environ, PYTHONPATH=REPO, PORT=str(_free_port()), PYTHON=sys.executable,
               CUDA_VISIBLE_DEVICES='')
    out = subprocess.run(['bash', 'tools/dist_train.sh', str(cfg_path), '2'], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=300)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    # MMEngine logs "Distributed launcher: pytorch" and the world size; each rank trains
    assert 'Distributed training: True' in log
    # the two processes print concurrently, so lines may interleave: match, don't split
    found = dict(re.findall(r'toy rank (\d)/2 first batch sum (-?\d+\.\d{4})', log))
    assert sorted(found) == ['0', '1'], log[-2000:]
    # the distributed sampler gives each rank its own shard: different first batches
    assert found['0'] != found['1']
    ckpt = tmp_path / 'work' / 'iter_4.pth'
    assert ckpt.exists()
    import torch
    meta = torch.load(ckpt, weights_only=True)['meta']
    assert meta['iter'] == 4


@pytest.mark.slow
def test_dist_train_main_config_ranks_see_different_data(tmp_path):
    """The main job's config, shrunk, under tools/dist_train.sh with 2 CPU processes."""
    from tests.tools.test_main_job import MAIN, small_options
    cfg = Config.fromfile(osp.join(REPO, MAIN))
    cfg.merge_from_dict(small_options(str(tmp_path / 'data'), max_epochs=1))
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.custom_hooks = [dict(type='SafeCheckpointHook'), dict(type='RankBatchProbeHook')]
    cfg.custom_imports = dict(imports=['tests.helpers.toy'], allow_failed_imports=False)
    cfg.work_dir = str(tmp_path / 'work')
    cfg_path = tmp_path / 'main_dist.py'
    cfg.dump(str(cfg_path))
    env = dict(os.environ, PYTHONPATH=REPO, PORT=str(_free_port()), PYTHON=sys.executable,
               CUDA_VISIBLE_DEVICES='')
    out = subprocess.run(['bash', 'tools/dist_train.sh', str(cfg_path), '2'], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=600)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    found = dict(re.findall(r'probe rank (\d)/2 batch \d+ fingerprint (-?[\d.]+)', log))
    assert sorted(found) == ['0', '1'], log[-2000:]
    assert found['0'] != found['1']  # each rank trains on its own shard
    assert (tmp_path / 'work' / 'epoch_1.pth').exists()
