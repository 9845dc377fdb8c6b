"""StepSeedHook: the train step's global randomness is a function of (seed, step, rank) only."""
import random
from types import SimpleNamespace

import numpy as np
import torch
from mmengine.config import Config

from tests.helpers import REPO
from vmae2.engine.hooks import StepSeedHook
from vmae2.engine.hooks.step_seed_hook import step_seed


def _draws(hook, runner, stage: str):
    """Run one of the hook's stages, then draw from the three global generators."""
    if stage == 'before_train_epoch':
        hook.before_train_epoch(runner)
    else:
        getattr(hook, stage)(runner, batch_idx=0)
    return torch.rand(3), np.random.rand(3), random.random()


def _same(a, b) -> bool:
    return torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]


def test_each_step_draws_what_its_index_gives_whatever_ran_before():
    hook = StepSeedHook()
    runner = SimpleNamespace(seed=7, iter=5)
    first = _draws(hook, runner, 'before_train_iter')
    torch.rand(100), np.random.rand(100), random.random()  # anything else drawing in between
    again = _draws(hook, runner, 'before_train_iter')
    assert _same(first, again)
    # the batch of step 5 is loaded after step 4 (after_train_iter) or at an epoch's start
    # (also right after a resume): both seed for step 5
    assert _same(_draws(hook, SimpleNamespace(seed=7, iter=4), 'after_train_iter'), first)
    assert _same(_draws(hook, runner, 'before_train_epoch'), first)
    # other steps, seeds and ranks get other streams
    assert not _same(_draws(hook, SimpleNamespace(seed=7, iter=6), 'before_train_iter'), first)
    assert not _same(_draws(hook, SimpleNamespace(seed=8, iter=5), 'before_train_iter'), first)
    assert step_seed(7, 5, 0) != step_seed(7, 5, 1)
    assert 0 <= step_seed(2**32 - 1, 10**9, 63) < 2**32


def test_every_config_gets_it_through_the_default_hooks():
    cfg = Config.fromfile(f'{REPO}/configs/finetune/videomaev2_vit-b-p16_ft-16x4_8xb8-90e_k400.py')
    assert cfg.default_hooks.step_seed.type == 'StepSeedHook'
    assert StepSeedHook.priority == 'LOWEST'  # after every other hook of the stage
