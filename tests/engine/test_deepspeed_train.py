"""DeepSpeed ZeRO-2 through vmae2's DeepSpeedStrategy on 2 CPU ranks (gloo, DeepSpeed's CPU
accelerator): the real pretraining and fine-tuning configs shrunk with overrides train, save,
resume with the losses of an uninterrupted run, keep the layer-decay groups of one process, and
a checkpoint folder is tested by tools/test.py on one process without DeepSpeed."""
import copy
import importlib.util
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from tests.helpers import REPO
from tests.helpers.launch import (
    FINETUNE,
    assert_resume_matches,
    dist_train,
    free_port,
    run_test_tool,
    small_finetuning,
    small_pretraining,
)
from tests.helpers.runs import logged_losses

HAS_DEEPSPEED = importlib.util.find_spec('deepspeed') is not None
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not HAS_DEEPSPEED, reason='deepspeed is not installed')]

ZERO2_BASE = osp.join(REPO, 'configs', '_base_', 'strategies', 'zero2_bf16.py')
WORLD = 2


def _with_zero2(cfg: Config) -> Config:
    """The config on ZeRO-2 as the `*-zero2_*` leaves put it (strategy base + wrapper); the
    clip moves from the optimizer wrapper to DeepSpeed's `gradient_clipping`."""
    cfg.strategy = Config.fromfile(ZERO2_BASE).strategy
    clip = cfg.optim_wrapper.get('clip_grad') or {}
    cfg.strategy.gradient_clipping = float(clip.get('max_norm', 0.0))
    cfg.optim_wrapper.type = 'DeepSpeedOptimWrapper'
    cfg.optim_wrapper.clip_grad = None
    cfg.optim_wrapper.pop('dtype', None)  # bf16 is DeepSpeed's (strategy.bf16), not autocast
    return cfg


def test_zero2_pretraining_resumes_with_the_same_logged_losses(tmp_path):
    cfg = _with_zero2(small_pretraining(str(tmp_path / 'data')))
    cfg_path = str(tmp_path / 'pretrain_zero2.py')
    cfg.dump(cfg_path)

    full = str(tmp_path / 'full')
    log = dist_train(cfg_path, full)
    assert 'DeepSpeed' in log
    expected = logged_losses(full)
    assert len(expected) >= 4 and all(torch.isfinite(torch.tensor(list(expected.values()))))
    files = sorted(os.listdir(osp.join(full, 'epoch_1.pth')))
    assert 'mp_rank_00_model_states.pt' in files
    assert sum('optim_states' in f for f in files) == WORLD  # one optimizer partition per rank
    from vmae2.engine.strategies import deepspeed_checkpoint_state
    w1, w2 = (deepspeed_checkpoint_state(osp.join(full, f'epoch_{e}.pth'))['state_dict']
              for e in (1, 2))
    assert not torch.equal(w1['encoder.blocks.0.attn.qkv.weight'],
                           w2['encoder.blocks.0.attn.qkv.weight'])  # epoch 2 stepped
    # a run stopped after epoch 1 and resumed from its checkpoint folder
    assert_resume_matches(cfg_path, full, str(tmp_path / 'resumed'))


def test_zero2_finetuning_resumes_and_its_checkpoint_tests_on_one_process(tmp_path):
    cfg = _with_zero2(small_finetuning(str(tmp_path / 'data')))
    cfg_path = str(tmp_path / 'finetune_zero2.py')
    cfg.dump(cfg_path)
    work = str(tmp_path / 'work')
    dist_train(cfg_path, work)
    assert_resume_matches(cfg_path, work, str(tmp_path / 'resumed'))
    folder = osp.join(work, 'epoch_1.pth')

    from vmae2.engine.strategies import deepspeed_checkpoint_state
    state = deepspeed_checkpoint_state(folder)['state_dict']
    assert state['backbone.blocks.1.mlp.fc1.weight'].shape == (512, 128)

    # on one process, no DeepSpeed engine: the folder is read weights-only and evaluated
    log = run_test_tool(cfg_path, folder, str(tmp_path / 'test'))
    assert 'DeepSpeed checkpoint' in log and 'top1' in log
    merged = torch.load(str(tmp_path / 'test' / 'epoch_1_merged.pth'), weights_only=True)
    for name, tensor in state.items():
        assert torch.equal(merged['state_dict'][name], tensor), name


def _groups_worker(rank: int, port: int, tmp: str) -> None:
    import torch.distributed as dist
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    from vmae2.registry import MODELS, STRATEGIES
    from vmae2.setup_env import register_all_modules
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(WORLD), LOCAL_WORLD_SIZE=str(WORLD),
                      OMP_NUM_THREADS='1')
    torch.set_num_threads(1)
    dist.init_process_group('gloo', rank=rank, world_size=WORLD)  # as tools/train.py on a CPU
    register_all_modules(init_default_scope=False)
    init_default_scope('vmae2')
    cfg = _with_zero2(Config.fromfile(FINETUNE))
    cfg.model.backbone.arch.num_layers = 2
    ref = MODELS.build(copy.deepcopy(cfg.model))
    ref_groups = build_optim_wrapper(ref, copy.deepcopy(cfg.optim_wrapper)).optimizer.param_groups
    names = {id(p): n for n, p in ref.named_parameters()}
    expected = [([names[id(p)] for p in g['params']], g['lr'], g['weight_decay'])
                for g in ref_groups]

    strategy = STRATEGIES.build(dict(
        cfg.strategy, work_dir=osp.join(tmp, f'work{rank}'), train_micro_batch_size_per_gpu=2,
        env_kwargs=dict(launcher='pytorch', dist_cfg=dict(backend='gloo'))))
    assert type(strategy).__module__ == 'vmae2.engine.strategies.deepspeed'
    model = MODELS.build(copy.deepcopy(cfg.model))
    names = {id(p): n for n, p in model.named_parameters()}
    model, wrapper = strategy.prepare(
        model, optim_wrapper=copy.deepcopy(cfg.optim_wrapper),
        dispatch_kwargs=dict(epoch_length=4, max_epochs=1, max_iters=4,
                             train_micro_batch_size_per_gpu=2))
    zero = wrapper.optimizer
    # ZeRO keeps the constructor's groups: the same parameters (by name), lr and weight decay
    got = [([names[id(p)] for p in params], g['lr'], g['weight_decay'])
           for params, g in zip(zero.bit16_groups, zero.param_groups)]
    assert got == expected
    assert len({lr for _, lr, _ in expected}) > 2  # layer decay: several lrs
    # each rank updates its partition of every group, the two together cover the group
    local = torch.tensor([p.numel() for p in zero.single_partition_of_fp32_groups])
    dist.all_reduce(local)
    total = torch.tensor([sum(ref.get_parameter(n).numel() for n in ns) for ns, _, _ in expected])
    assert torch.all(local >= total) and torch.all(local - total < WORLD * 8)  # padding only
    dist.destroy_process_group()


def test_zero2_keeps_the_layer_decay_groups_of_one_process(tmp_path):
    import torch.multiprocessing as mp
    mp.spawn(_groups_worker, args=(free_port(), str(tmp_path)), nprocs=WORLD, join=True)
