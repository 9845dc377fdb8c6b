"""vmae2's FSDPStrategy on 2 CPU ranks (gloo): the real ViT-g FSDP fine-tuning config with a
tiny ViT trains exactly like one process on the whole batch (optimizer groups by name, global
grad-norm clipping, activation checkpointing), and both checkpoint formats save, merge and
resume to the same numbers."""
import copy
import os
import os.path as osp
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.structures import LabelData  # noqa: F401  (ActionDataSample needs it loaded)

from tests.helpers import REPO
from tests.helpers.recipes import TINY_ARCH, TINY_FRAMES, TINY_SIZE

FSDP_CONFIG = osp.join(REPO, 'configs', 'sharded',
                       'videomaev2_vit-g-p14_ft-16x4-fsdp_8xb4-35e_k710.py')
WORLD = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _tiny_cfg() -> Config:
    cfg = Config.fromfile(FSDP_CONFIG)
    cfg.model.backbone.arch = TINY_ARCH
    cfg.model.backbone.drop_path_rate = 0.0
    cfg.model.cls_head.update(num_classes=5, dropout_ratio=0.0)
    cfg.model.data_preprocessor.pop('blending')  # random mixing would differ between runs
    # an active clip: the tiny model's gradient norm is far above it
    cfg.optim_wrapper.clip_grad = dict(max_norm=0.05)
    cfg.optim_wrapper.optimizer.lr = 1e-2
    cfg.strategy.model_wrapper.mixed_precision = None  # fp32: equality to 1e-5
    return cfg


def _batch(lo: int, hi: int) -> dict:
    from mmaction.structures import ActionDataSample
    g = torch.Generator().manual_seed(0)
    clips = torch.randint(0, 256, (4, 1, 3, TINY_FRAMES, TINY_SIZE, TINY_SIZE), generator=g,
                          dtype=torch.uint8)
    labels = [0, 3, 1, 4]
    return dict(inputs=[clips[i] for i in range(lo, hi)],
                data_samples=[ActionDataSample().set_gt_label(labels[i]) for i in range(lo, hi)])


def _hyper(optimizer, model) -> dict:
    from vmae2.engine.strategies import named_groups
    keep = ('lr', 'weight_decay', 'lr_scale', 'layer_id')
    return {n: {k: g.get(k) for k in keep} for n, g in named_groups(optimizer, model).items()}


def _full_state(model) -> dict:
    from torch.distributed.fsdp import FullStateDictConfig, StateDictType
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
    with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT,
                              FullStateDictConfig(rank0_only=False)):
        return {k: v.clone() for k, v in model.state_dict().items()}


def _assert_close(sharded: dict, ref: dict, what: str) -> None:
    assert sorted(sharded) == sorted(ref), (what, set(sharded) ^ set(ref))
    worst = max(float((sharded[k].float() - ref[k].float()).abs().max()) for k in ref)
    assert worst < 1e-5, f'{what}: max abs difference {worst}'


def _worker(rank: int, port: int, tmp: str, check=None) -> None:
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(WORLD), LOCAL_RANK=str(rank), OMP_NUM_THREADS='1')
    torch.set_num_threads(1)
    dist.init_process_group('gloo', rank=rank, world_size=WORLD)
    try:
        (check or _check)(rank, tmp)
    finally:
        dist.destroy_process_group()


def _check(rank: int, tmp: str) -> None:
    from vmae2.registry import MODELS, STRATEGIES
    from vmae2.setup_env import register_all_modules
    register_all_modules(init_default_scope=False)
    init_default_scope('vmae2')
    cfg = _tiny_cfg()
    hub = MessageHub.get_instance('test_fsdp')
    torch.manual_seed(0)
    ref = MODELS.build(copy.deepcopy(cfg.model))
    ref_wrapper = build_optim_wrapper(ref, copy.deepcopy(cfg.optim_wrapper))
    torch.manual_seed(1 + rank)  # a different init on every rank: the strategy syncs rank 0's
    model = MODELS.build(copy.deepcopy(cfg.model))
    strategy = STRATEGIES.build(dict(
        cfg.strategy, work_dir=osp.join(tmp, f'work{rank}'),
        env_kwargs=dict(launcher='pytorch', dist_cfg=dict(backend='gloo'))))
    assert type(strategy).__module__ == 'vmae2.engine.strategies.fsdp'
    model, wrapper = strategy.prepare(model, optim_wrapper=copy.deepcopy(cfg.optim_wrapper))
    start = _full_state(model)
    gathered = [None] * WORLD
    dist.all_gather_object(gathered, start['backbone.blocks.1.attn.qkv.weight'])
    assert torch.equal(gathered[0], gathered[1])  # every rank holds slices of one model
    ref.load_state_dict(start)  # (prepare ran init_weights on rank 0's model)

    # 1. the same lr / weight decay / layer id for every parameter as on one process...
    assert _hyper(wrapper.optimizer, model) == _hyper(ref_wrapper.optimizer, ref)
    # ...which the constructor run on the wrapped model would not give (flattened 1-D shards)
    naive = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    naive_wd = {n: h['weight_decay'] for n, h in _hyper(naive.optimizer, model).items()}
    ref_wd = {n: h['weight_decay'] for n, h in _hyper(ref_wrapper.optimizer, ref).items()}
    assert naive_wd != ref_wd
    assert ref_wd['backbone.blocks.0.attn.qkv.weight'] == 0.1
    assert ref_wd['backbone.blocks.0.norm1.weight'] == 0.0

    # 2. two steps on half the batch per rank == two steps on the whole batch, clipped by the
    # global norm (the same norm logged), with every block checkpointed
    names = [type(m).__name__ for m in model.modules()]
    assert 'CheckpointWrapper' in names and 'MMFullyShardedDataParallel' in names
    half = slice(2 * rank, 2 * rank + 2)
    for _ in range(2):
        ref_loss = ref.train_step(_batch(0, 4), ref_wrapper)['loss']
        ref_norm = hub.get_scalar('train/grad_norm').current()
        loss = model.train_step(_batch(half.start, half.stop), wrapper)['loss']
        norm = hub.get_scalar('train/grad_norm').current()
        assert ref_norm > 0.05  # the clip was active
        assert norm == pytest.approx(ref_norm, rel=1e-5)
        mean = loss.detach().clone()
        dist.all_reduce(mean)
        assert float(mean) / WORLD == pytest.approx(float(ref_loss), rel=1e-5)
    _assert_close(_full_state(model), ref.state_dict(), 'after 2 steps')

    # 3. checkpoints: sharded (per-rank plain tensors) and full (rank 0), weights-only
    from vmae2.checkpoints import safe_load
    from vmae2.engine.strategies import merge_sharded_checkpoint
    folder = osp.join(tmp, 'iter_2.pth')
    full = osp.join(tmp, 'iter_2_full.pth')
    strategy.save_checkpoint(folder, extra_ckpt=dict(meta=dict(iter=2)))
    strategy.checkpoint_format = 'full'
    strategy.save_checkpoint(full, extra_ckpt=dict(meta=dict(iter=2)))
    dist.barrier()
    if rank == 0:
        _assert_close(merge_sharded_checkpoint(folder)['state_dict'], ref.state_dict(), 'merged')
        _assert_close(safe_load(full)['state_dict'], ref.state_dict(), 'full file')
    ref_saved = (copy.deepcopy(ref.state_dict()), copy.deepcopy(ref_wrapper.state_dict()))

    # 4. a third step, then back to step 2 from each checkpoint and the third step again
    ref.train_step(_batch(0, 4), ref_wrapper)
    model.train_step(_batch(half.start, half.stop), wrapper)
    step3 = ref.state_dict()
    for path, kind in ((folder, 'sharded'), (full, 'full')):
        strategy.checkpoint_format = kind
        ckpt = strategy.load_checkpoint(path)
        strategy.load_optim_state_dict(ckpt['optimizer'])
        _assert_close(_full_state(model), ref_saved[0], f'{kind} checkpoint reloaded')
        model.train_step(_batch(half.start, half.stop), wrapper)
        _assert_close(_full_state(model), step3, f'step 3 after resuming the {kind} checkpoint')


@pytest.mark.slow
def test_fsdp_two_cpu_ranks_match_one_process(tmp_path):
    mp.spawn(_worker, args=(_free_port(), str(tmp_path)), nprocs=WORLD, join=True)


def _check_accumulation(rank: int, tmp: str) -> None:
    """accumulative_counts=2 under FSDP, one clip per rank and micro-step: one update equal to
    a single process's step on the 4 clips, clipped by the same global norm."""
    from vmae2.registry import MODELS, STRATEGIES
    from vmae2.setup_env import register_all_modules
    register_all_modules(init_default_scope=False)
    init_default_scope('vmae2')
    cfg = _tiny_cfg()
    hub = MessageHub.get_instance('test_fsdp_accumulation')
    ref = MODELS.build(copy.deepcopy(cfg.model))
    ref_wrapper = build_optim_wrapper(ref, copy.deepcopy(cfg.optim_wrapper))
    strategy = STRATEGIES.build(dict(
        cfg.strategy, work_dir=osp.join(tmp, f'acc{rank}'),
        env_kwargs=dict(launcher='pytorch', dist_cfg=dict(backend='gloo'))))
    model, wrapper = strategy.prepare(
        MODELS.build(copy.deepcopy(cfg.model)),
        optim_wrapper=dict(copy.deepcopy(cfg.optim_wrapper), accumulative_counts=2),
        dispatch_kwargs=dict(max_iters=2))
    start = _full_state(model)
    ref.load_state_dict(start)  # (prepare ran init_weights on rank 0's model)
    ref.train_step(_batch(0, 4), ref_wrapper)
    ref_norm = hub.get_scalar('train/grad_norm').current()
    model.train_step(_batch(rank, rank + 1), wrapper)  # micro-step 1: no update yet
    assert all(not v for v in wrapper.optimizer.state.values())  # no optimizer step taken
    _assert_close(_full_state(model), start, 'after the first micro-step')
    model.train_step(_batch(2 + rank, 3 + rank), wrapper)
    assert ref_norm > 0.05  # the clip was active
    assert hub.get_scalar('train/grad_norm').current() == pytest.approx(ref_norm, rel=1e-5)
    _assert_close(_full_state(model), ref.state_dict(), 'after 2 accumulated micro-steps')


@pytest.mark.slow
def test_fsdp_gradient_accumulation_equals_one_large_step(tmp_path):
    mp.spawn(_worker, args=(_free_port(), str(tmp_path), _check_accumulation), nprocs=WORLD,
             join=True)


def test_strategy_without_process_group_fails_at_start():
    from vmae2.engine.strategies import StrategyConfigError, check_strategy
    cfg = Config.fromfile(FSDP_CONFIG)
    cfg.launcher = 'none'
    with pytest.raises(StrategyConfigError, match='dist_train.sh'):
        check_strategy(cfg)
    cfg.launcher = 'pytorch'
    assert check_strategy(cfg) == 'FSDPStrategy'
    cfg.strategy.model_wrapper.use_orig_params = False
    with pytest.raises(StrategyConfigError, match='use_orig_params'):
        check_strategy(cfg)
