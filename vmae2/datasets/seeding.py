"""Per-sample random streams, so that augmentation depends on (seed, epoch, index, view) only.

mmaction2's transforms (``MultiScaleCrop`` with ``random.choice``...) and most mask generators
draw from the *global* ``random`` / ``numpy`` / ``torch`` generators. A DataLoader seeds those
once per worker, so which sample sees which draw depends on how samples are spread over workers:
changing ``num_workers`` changes the crops. Here each stage of each sample runs inside
:func:`seeded_global_rng` with a seed derived from its key, which makes the result a pure
function of the key whatever the worker layout, while still reusing the stock transforms.

The epoch reaches the dataset through :class:`EpochSeededSampler`, which yields
:class:`SampleKey` instead of bare indices: the sampler lives in the main process and knows the
epoch when the indices are drawn, whereas a dataset copy inside a persistent worker does not.
"""
import random
from contextlib import contextmanager
from typing import Iterator, NamedTuple, Optional, Union

import numpy as np
import torch
from mmengine.dataset import DefaultSampler

from vmae2.registry import DATA_SAMPLERS


class SampleKey(NamedTuple):
    """What a seeded dataset receives instead of a bare index."""
    index: int
    epoch: int
    seed: int


def derive_seed(*keys: int) -> int:
    """A 32-bit seed from a tuple of non-negative ints, well mixed (``SeedSequence``).

    Neighbouring keys (index 7 and 8, view 0 and 1) give unrelated streams, unlike ``seed + i``.
    """
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1)[0])


@contextmanager
def seeded_global_rng(seed: Optional[int]):
    """Seeds ``random``, ``numpy`` and ``torch`` inside the block and restores them after.

    Restoring matters when the dataset runs in the main process (``num_workers=0``): the
    trainer's own random stream must not depend on how many samples were loaded.

    Args:
        seed: The seed; ``None`` leaves the generators untouched (unseeded behaviour).
    """
    if seed is None:
        yield
        return
    py_state, np_state = random.getstate(), np.random.get_state()
    torch_state = torch.get_rng_state()
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)


def unpack_key(key: Union[int, SampleKey], default_seed: Optional[int]):
    """``(index, epoch, seed)`` from a sampler's output; ``seed`` is ``None`` when unseeded.

    A bare int (any stock sampler, or ``dataset[i]`` by hand) uses the dataset's own seed with
    epoch 0 when it has one, otherwise no seeding at all.
    """
    if isinstance(key, tuple):
        key = SampleKey(*key)
        return int(key.index), int(key.epoch), int(key.seed)
    return int(key), 0, default_seed


@DATA_SAMPLERS.register_module()
class EpochSeededSampler(DefaultSampler):
    """``DefaultSampler`` (same shuffling, sharding and ``set_epoch``) that yields
    :class:`SampleKey` ``(index, epoch, seed)`` so the dataset can seed each sample.

    Args:
        dataset: The dataset.
        shuffle: Whether to shuffle the indices each epoch.
        seed: Seed of both the shuffling and the per-sample augmentation; ``None`` takes the
            seed shared by all ranks (``sync_random_seed``, itself set by the runner's
            ``randomness.seed``).
        round_up: Whether to pad the indices so that every rank gets the same number.
    """

    def __iter__(self) -> Iterator[SampleKey]:
        for index in super().__iter__():
            yield SampleKey(int(index), int(self.epoch), int(self.seed))
