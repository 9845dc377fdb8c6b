"""``WarmupCosineLR``: linear warmup then cosine decay, as one scheduler whose length follows
the train loop.

The VideoMAE V2 schedule (official ``cosine_scheduler``): ``lr`` rises linearly from
``start_factor * lr`` to ``lr`` over the warmup steps, then follows
``eta_min + (lr - eta_min) * (1 + cos(pi * s / S)) / 2`` for the ``S`` remaining steps. Written
as MMEngine's ``LinearLR`` + ``CosineAnnealingLR`` it needs the warmup length twice and the
total length in both entries, which a leaf config must then restate (a base's values are fixed
when it is read). Here the warmup is one argument and ``end`` defaults to the train loop's
``max_epochs`` (MMEngine fills a missing ``end``), so a leaf sets ``train_cfg.max_epochs``,
``param_scheduler.warmup`` and the optimizer's ``lr`` and nothing else.

The values are the closed form of the two MMEngine schedulers above (same steps, same values
up to rounding): step ``t < W`` gets ``start + (1 - start) * t / (W - 1)``; the cosine starts
at step ``W``. With layer-wise lr decay every group keeps its scale: ``eta_min`` is the final
lr of the *base* lr (the optimizer's configured ``lr``), each group ends at ``eta_min`` times
its own scale, as in the official fine-tuning code.
"""
import logging
import math
from typing import Optional

from mmengine.logging import print_log
from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler

from vmae2.registry import PARAM_SCHEDULERS

__all__ = ['WarmupCosineLR']


def _base_lr(optimizer) -> float:
    inner = getattr(optimizer, 'optimizer', optimizer)  # an OptimWrapper or an Optimizer
    return float(inner.defaults['lr'])


class WarmupCosineParamScheduler(_ParamScheduler):
    """Linear warmup + cosine annealing of ``param_name``.

    Args:
        optimizer: Wrapped optimizer.
        param_name (str): e.g. ``'lr'``.
        warmup (int): Warmup length, in epochs when ``by_epoch`` (converted to iterations with
            ``convert_to_iter_based=True``), else iterations. 0 = no warmup.
        start_factor (float): First warmup value as a fraction of the base value.
        eta_min (float, optional): Final value of the base value (absolute); groups with
            another initial value end at ``eta_min * initial / base``.
        eta_min_ratio (float, optional): Final value as a fraction of each group's initial
            value. Give ``eta_min`` or ``eta_min_ratio`` (neither: 0).
        begin, end (int): Where the schedule runs; ``end`` defaults to the train loop's length.
        last_step, by_epoch, verbose: As MMEngine's schedulers.
    """

    def __init__(self, optimizer, param_name: str, warmup: int = 0, start_factor: float = 1e-3,
                 eta_min: Optional[float] = None, eta_min_ratio: Optional[float] = None,
                 begin: int = 0, end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False):
        if eta_min is not None and eta_min_ratio is not None:
            raise ValueError('give eta_min or eta_min_ratio, not both')
        if end >= INF:
            raise ValueError('WarmupCosineLR needs an end: leave it out only when the runner '
                             'builds the scheduler (it fills in the train loop length)')
        if warmup < 0:
            raise ValueError(f'warmup must be >= 0, got {warmup}')
        if warmup >= end - begin:  # e.g. a trial run shrunk with --cfg-options: warmup only
            print_log(f'WarmupCosineLR: the warmup ({warmup} steps) is not shorter than the '
                      f'schedule ({end - begin} steps); the lr never reaches its cosine part',
                      logger='current', level=logging.WARNING)
        if not 0 <= start_factor <= 1:
            raise ValueError(f'start_factor must be in [0, 1], got {start_factor}')
        self.warmup = int(warmup)
        self.start_factor = start_factor
        self.eta_min, self.eta_min_ratio = eta_min, eta_min_ratio
        self.reference = _base_lr(optimizer) if param_name == 'lr' else None
        super().__init__(optimizer, param_name=param_name, begin=begin, end=end,
                         last_step=last_step, by_epoch=by_epoch, verbose=verbose)

    @classmethod
    def build_iter_from_epoch(cls, *args, warmup=0, begin=0, end=INF, by_epoch=True,
                              epoch_length=None, **kwargs):
        """An iteration-based instance from an epoch-based config."""
        assert by_epoch, 'only an epoch-based config (by_epoch=True) can be converted'
        assert epoch_length is not None and epoch_length > 0, \
            f'epoch_length must be a positive integer, got {epoch_length}'
        return cls(*args, warmup=int(warmup * epoch_length), begin=int(begin * epoch_length),
                   end=int(end * epoch_length) if end != INF else end, by_epoch=False, **kwargs)

    def _final(self, initial: float) -> float:
        if self.eta_min_ratio is not None:
            return initial * self.eta_min_ratio
        if self.eta_min is None:
            return 0.0
        if self.reference is None or self.reference == 0:
            return self.eta_min
        return self.eta_min * initial / self.reference

    def _get_value(self) -> list:
        t, W, T = self.last_step, self.warmup, self.end - self.begin
        if t < W:
            factor = self.start_factor + (1 - self.start_factor) * t / max(W - 1, 1)
            return [base * factor for base in self.base_values]
        cos = (1 + math.cos(math.pi * (t - W) / (T - W))) / 2
        return [self._final(base) + (base - self._final(base)) * cos
                for base in self.base_values]


@PARAM_SCHEDULERS.register_module()
class WarmupCosineLR(LRSchedulerMixin, WarmupCosineParamScheduler):
    """Linear warmup then cosine decay of the learning rate (see the module doc)."""
