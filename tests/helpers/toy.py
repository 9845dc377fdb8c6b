"""A tiny regression model and dataset for runner-level tests (train, save, resume, DDP)."""
import uuid

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from torch.utils.data import Dataset

from vmae2.registry import DATASETS, MODELS


@MODELS.register_module(force=True)
class ToyRegressor(BaseModel):
    """y = w.x + b fitted with MSE; logs the rank so DDP tests can see both processes."""

    def __init__(self, dim: int = 4):
        super().__init__()
        self.linear = nn.Linear(dim, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        inputs = torch.stack(inputs) if isinstance(inputs, (list, tuple)) else inputs
        if mode == 'loss' and not getattr(self, '_announced', False):
            # one line per process, so distributed tests can see that every rank trained
            from mmengine.dist import get_dist_info
            rank, world = get_dist_info()
            print(f'toy rank {rank}/{world} first batch sum {float(inputs.sum()):.4f}',
                  flush=True)
            self._announced = True
        pred = self.linear(inputs).squeeze(-1)
        if mode == 'loss':
            targets = torch.stack(targets) if isinstance(targets, (list, tuple)) else targets
            return dict(loss=((pred - targets) ** 2).mean())
        return pred


@DATASETS.register_module(force=True)
class ToyRegressionDataset(Dataset):
    """Deterministic samples of y = x.w* + 0.5 with w* = (1, -2, 3, -4)."""
    metainfo = dict(name='toy')

    def __init__(self, size: int = 64, dim: int = 4, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(size, dim, generator=g)
        w = torch.tensor([1.0, -2.0, 3.0, -4.0])[:dim]
        self.y = self.x @ w + 0.5

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return dict(inputs=self.x[i], targets=self.y[i])


def toy_cfg(work_dir: str, max_iters: int = 8, interval: int = 4, schedule_iters: int = 8) -> dict:
    """A complete runner config (iteration based) around the toy model.

    The lr schedule spans ``schedule_iters`` whatever ``max_iters`` is, so that a run stopped
    early and resumed follows the same schedule as an uninterrupted one.
    """
    return dict(
        default_scope='vmae2',
        work_dir=work_dir,
        # unique per runner: runners made in the same second would otherwise share one
        # MessageHub instance (it is keyed by experiment name, which embeds a timestamp)
        experiment_name=f'toy_{uuid.uuid4().hex[:8]}',
        model=dict(type='ToyRegressor'),
        train_dataloader=dict(
            batch_size=8, num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
            dataset=dict(type='ToyRegressionDataset')),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.05, weight_decay=0.0)),
        param_scheduler=[dict(type='CosineAnnealingLR', T_max=schedule_iters, by_epoch=False,
                              begin=0, end=schedule_iters,
                              eta_min=1e-3)],
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', interval=interval, by_epoch=False)),
        custom_hooks=[dict(type='SafeCheckpointHook')],
        log_processor=dict(by_epoch=False),
        randomness=dict(seed=0),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        log_level='WARNING',
    )


class Payload:
    """An arbitrary pickled object (stands for anything that is not plain data)."""

    def __init__(self):
        self.value = 42


from mmengine.hooks import Hook  # noqa: E402

from vmae2.registry import HOOKS  # noqa: E402


@HOOKS.register_module(force=True)
class RankBatchProbeHook(Hook):
    """Prints, once per process, the rank and a fingerprint of its first training batch."""

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if getattr(self, '_done', False):
            return
        inputs = data_batch['inputs']
        total = sum(float(x.float().sum()) for x in inputs)
        print(f'probe rank {runner.rank}/{runner.world_size} batch {len(inputs)} '
              f'fingerprint {total:.1f}', flush=True)
        self._done = True
