"""Training randomness that a resumed run replays: the model's global generators seeded per step.

Inside the train step the model draws from torch's global generator (drop path, dropout,
mixup / cutmix's lambda and permutation) and mmaction2's ``RandomBatchAugment`` from numpy's;
with ``num_workers=0`` the fine-tuning pipeline's random transforms (mmaction2's, on the global
generators) run in the same process. MMEngine seeds the generators once at start and does not
save their state in checkpoints, so a run resumed from epoch N draws other masks, mixes and
crops than the run that went on (measured: the SyntheticMotion fine-tuning config resumed after
epoch 1 on 2 FSDP ranks logged 2.07742 at step 4, the uninterrupted run 2.07779). Here python's,
numpy's and torch's generators are seeded from ``(seed, step, rank)`` right before batch ``step`` is
loaded (at the start of each epoch, and after each iteration for the next) and right before
its train step, so step ``i``'s randomness is a function of ``i`` alone: the same whether the
run was resumed or not, on any strategy, with nothing added to the checkpoint. Each rank gets
its own stream (independent drop-path masks per rank, as one large batch has). Loader
*workers* keep their own generators (MMEngine seeds them per worker; vmae2's pretraining
datasets seed each sample themselves, ``vmae2/datasets/seeding.py``).
"""
import random

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from vmae2.registry import HOOKS

__all__ = ['StepSeedHook', 'step_seed']


def step_seed(seed: int, iteration: int, rank: int) -> int:
    """A 32-bit seed for ``(seed, iteration, rank)``, well mixed (numpy's ``SeedSequence``)."""
    return int(np.random.SeedSequence([seed, iteration, rank]).generate_state(1)[0])


@HOOKS.register_module()
class StepSeedHook(Hook):
    """Seed the global generators (python, numpy, torch) per training step (see the module doc)."""

    # last among the hooks of each stage: nothing else draws between the seeding and the
    # loading of the batch / the train step
    priority = 'LOWEST'

    @staticmethod
    def _seed(runner, step: int) -> None:
        base = runner.seed if runner.seed is not None else 0
        seed = step_seed(int(base) % 2**32, step, get_rank())
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)

    def before_train_epoch(self, runner) -> None:
        self._seed(runner, runner.iter)  # the epoch's first batch (also right after a resume)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._seed(runner, runner.iter)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._seed(runner, runner.iter + 1)  # the next batch (runner.iter counts on after this)
