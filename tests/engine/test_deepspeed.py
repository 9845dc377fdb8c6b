"""DeepSpeed ZeRO configs: a clear error at start without DeepSpeed, MMEngine's DeepSpeed
optimizer registration that survives DeepSpeed >= 0.19.7 (no `fp16.onebit`), and a wrapper
that takes vmae2's `clip_grad=None`."""
import importlib.util
import os.path as osp
import sys

import pytest
import torch
from mmengine._strategy import deepspeed as mmengine_deepspeed
from mmengine.config import Config

from tests.helpers import REPO
from vmae2.engine.strategies import (
    DeepSpeedOptimWrapper,
    StrategyConfigError,
    check_strategy,
    register_deepspeed_optimizers,
)

ZERO2 = osp.join(REPO, 'configs', 'sharded', 'videomaev2_vit-l-p16_ft-16x4-zero2_8xb8-35e_k400.py')
HAS_DEEPSPEED = importlib.util.find_spec('deepspeed') is not None


def test_zero2_config_without_deepspeed_fails_at_start_with_the_fix(monkeypatch):
    # as on a machine without DeepSpeed, installed or not here (None in sys.modules: the
    # import raises ImportError)
    monkeypatch.setitem(sys.modules, 'deepspeed', None)
    cfg = Config.fromfile(ZERO2)
    cfg.launcher = 'pytorch'
    assert cfg.strategy.zero_optimization.stage == 2
    with pytest.raises(StrategyConfigError, match=r'pip install deepspeed==0\.19\.8'):
        check_strategy(cfg)
    cfg.launcher = 'none'  # no process group: that is said first
    with pytest.raises(StrategyConfigError, match='dist_train.sh'):
        check_strategy(cfg)


def test_mmengine_registration_is_replaced_by_the_tolerant_one():
    # MMEngine's DeepSpeedStrategy.__init__ looks the function up in its module at call time
    assert mmengine_deepspeed.register_deepspeed_optimizers is register_deepspeed_optimizers
    names = register_deepspeed_optimizers()
    if not HAS_DEEPSPEED:
        assert names == []
    else:  # DeepSpeed 0.19.8 has its Adam / Lamb, not the removed 1-bit optimizers
        assert 'FusedAdam' in names and 'OnebitAdam' not in names


def test_deepspeed_wrapper_takes_no_clip_and_refuses_one():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    assert DeepSpeedOptimWrapper(opt, clip_grad=None).optimizer is opt
    with pytest.raises(ValueError, match='strategy.gradient_clipping=0.02'):
        DeepSpeedOptimWrapper(opt, clip_grad=dict(max_norm=0.02))


def test_a_deepspeed_folder_is_read_weights_only_and_zero3_partitions_are_refused(tmp_path):
    from vmae2.checkpoints import UntrustedCheckpointError
    from vmae2.engine.strategies import deepspeed_checkpoint_state, is_deepspeed_checkpoint
    folder = tmp_path / 'epoch_1.pth'
    folder.mkdir()
    assert not is_deepspeed_checkpoint(str(folder))
    weights = {'backbone.cls_token': torch.arange(4.).bfloat16()}
    torch.save(dict(module=weights, ds_config={'bf16': {'enabled': True}}, meta=dict(epoch=1)),
               folder / 'mp_rank_00_model_states.pt')
    assert is_deepspeed_checkpoint(str(folder))
    state = deepspeed_checkpoint_state(str(folder))
    assert torch.equal(state['state_dict']['backbone.cls_token'], weights['backbone.cls_token'])
    assert state['meta'] == dict(epoch=1)
    # ZeRO-3 writes no whole module weights
    torch.save(dict(module=None, meta={}), folder / 'mp_rank_00_model_states.pt')
    with pytest.raises(ValueError, match='gather_16bit_weights_on_model_save'):
        deepspeed_checkpoint_state(str(folder))
    # and a file with pickled objects is refused like any checkpoint
    torch.save(dict(module=weights, hook=Config(dict(a=1))), folder / 'mp_rank_00_model_states.pt')
    with pytest.raises(UntrustedCheckpointError):
        deepspeed_checkpoint_state(str(folder))


@pytest.mark.skipif(not HAS_DEEPSPEED, reason='deepspeed is not installed')
def test_resuming_a_zero_folder_on_another_world_size_fails_at_start(tmp_path, monkeypatch):
    folder = tmp_path / 'epoch_1.pth'
    folder.mkdir()
    torch.save(dict(module={'w': torch.zeros(1)}, dp_world_size=2, meta={}),
               folder / 'mp_rank_00_model_states.pt')
    cfg = Config.fromfile(ZERO2)
    cfg.launcher, cfg.resume, cfg.load_from = 'pytorch', True, str(folder)
    monkeypatch.setenv('WORLD_SIZE', '2')
    assert check_strategy(cfg) == 'DeepSpeedStrategy'
    monkeypatch.setenv('WORLD_SIZE', '4')
    with pytest.raises(StrategyConfigError, match=r'DeepSpeed checkpoint of 2 ranks, this run '
                       r'has 4: resume it on 2 ranks.*tools/test\.py'):
        check_strategy(cfg)
