"""The order of a sharded dataset, split over ranks, and resumed mid-epoch without re-reading.

:class:`ShardAwareSampler` is where the order lives (the dataset is map-style, see
:mod:`vmae2.datasets.streaming_dataset` for why): each epoch it shuffles the shards, then the
clips inside each shard, cuts the remainder off the end (``len % world_size`` clips, as
``DistributedSampler(drop_last=True)``) and gives rank ``r`` the ``r``-th contiguous block, so a
rank reads few shards, mostly in runs, and every rank has the same count. The order is a pure
function of (seed, epoch, world size): DataLoader workers take its batches round-robin and
:class:`~vmae2.datasets.seeding.SampleKey` seeds each sample, so workers change nothing.

Resuming mid-epoch: MMEngine's ``EpochBasedTrainLoop`` restarts a resumed epoch from its first
batch (its ``IterBasedTrainLoop`` decodes every seen batch again to skip them). The sampler
instead records how many of its clips the run has consumed - counted from the batches that
reached the model, by :class:`StreamingResumeHook`, since workers prefetch ahead of that - and
the hook writes that position into the checkpoint's ``meta`` and, on resume, starts the sampler
there: the seen clips are never read. Checkpoints inside an epoch need an iteration-based
checkpoint hook (``default_hooks.checkpoint = dict(by_epoch=False, interval=N)``).
"""
import logging
from typing import Iterator, List, Optional, Tuple

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop
from torch.utils.data import Sampler

from vmae2.registry import DATA_SAMPLERS, HOOKS

from .seeding import SampleKey, derive_seed

#: Key of the sampler's state in a checkpoint's ``meta``.
META_KEY = 'streaming_sampler'


@DATA_SAMPLERS.register_module()
class ShardAwareSampler(Sampler):
    """Shard-then-clip shuffled order, equal blocks per rank, a resumable position.

    Args:
        dataset: The dataset; its ``shard_ranges`` (``[(lo, hi), ...]`` index ranges, as
            :class:`~vmae2.datasets.StreamingPretrainDataset` records them) are the shuffle
            blocks; without them the whole dataset is one block (a plain shuffle).
        shuffle: Shuffle each epoch; ``False`` keeps the packed order.
        seed: Seed of the order and of the samples' augmentation; ``None`` takes the one all
            ranks share (``sync_random_seed``, set by the runner's ``randomness.seed``).
        rank: This process's rank (default: the process group's, 0 without one).
        world_size: Number of ranks (default: the process group's, 1 without one).

    Raises:
        ValueError: fewer clips than ranks.
    """

    def __init__(self, dataset, shuffle: bool = True, seed: Optional[int] = None,
                 rank: Optional[int] = None, world_size: Optional[int] = None) -> None:
        dist_rank, dist_world = get_dist_info()
        self.rank = dist_rank if rank is None else rank
        self.world_size = dist_world if world_size is None else world_size
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.blocks: List[Tuple[int, int]] = list(
            getattr(dataset, 'shard_ranges', None) or [(0, len(dataset))])
        total = self.blocks[-1][1]
        self.num_samples = total // self.world_size  # per rank, remainder dropped
        if self.num_samples == 0:
            raise ValueError(f'{total} clips cannot be split over {self.world_size} ranks')
        self.epoch = 0
        self.start = 0  # clips of this epoch this rank skips (consumed before a resume)
        self.position = 0  # clips of this epoch this rank has consumed (set by the hook)

    def epoch_order(self, epoch: int) -> np.ndarray:
        """``(num_samples * world_size,)`` dataset indices of one epoch, all ranks' blocks."""
        if not self.shuffle:
            order = np.arange(self.blocks[-1][1])
        else:
            rng = np.random.default_rng(derive_seed(self.seed, epoch))
            order = np.concatenate([lo + rng.permutation(hi - lo)
                                    for lo, hi in (self.blocks[b] for b in
                                                   rng.permutation(len(self.blocks)))])
        return order[:self.num_samples * self.world_size]

    def __iter__(self) -> Iterator[SampleKey]:
        lo = self.rank * self.num_samples
        mine = self.epoch_order(self.epoch)[lo + self.start:lo + self.num_samples]
        for index in mine:
            yield SampleKey(int(index), self.epoch, self.seed)

    def __len__(self) -> int:
        return self.num_samples - self.start

    def set_epoch(self, epoch: int) -> None:
        """Called by ``DistSamplerSeedHook`` before each epoch; a new epoch starts at 0, the
        epoch being resumed keeps its start."""
        if epoch != self.epoch:
            self.epoch, self.start, self.position = epoch, 0, 0

    def state_dict(self) -> dict:
        return dict(epoch=self.epoch, position=self.position, seed=self.seed,
                    world_size=self.world_size, num_samples=self.num_samples)

    def load_state_dict(self, state: dict) -> None:
        """Starts epoch ``state['epoch']`` at clip ``state['position']`` of this rank's block.

        Raises:
            ValueError: the state is from another seed, world size or dataset size, for which
                the position would point at other clips.
        """
        mine = dict(seed=self.seed, world_size=self.world_size, num_samples=self.num_samples)
        theirs = {k: state.get(k) for k in mine}
        if theirs != mine:
            raise ValueError(f'the checkpoint was saved with sampler {theirs}, this run has '
                             f'{mine}: its position means other clips here')
        self.epoch, self.start = int(state['epoch']), min(int(state['position']),
                                                          self.num_samples)
        self.position = self.start


@HOOKS.register_module()
class StreamingResumeHook(Hook):
    """Saves the :class:`ShardAwareSampler`'s position in each checkpoint and restarts it there
    on resume (add it to ``custom_hooks``). Does nothing with another sampler."""

    priority = 'HIGH'  # counts the batch before the checkpoint hook (VERY_LOW) saves it

    def __init__(self) -> None:
        self._loaded: Optional[Tuple[dict, int]] = None

    @staticmethod
    def _sampler(runner) -> Optional[ShardAwareSampler]:
        sampler = getattr(runner.train_dataloader, 'sampler', None)
        return sampler if isinstance(sampler, ShardAwareSampler) else None

    def before_train(self, runner) -> None:
        if isinstance(runner.train_loop, IterBasedTrainLoop):
            raise ValueError(
                'StreamingResumeHook needs train_cfg type EpochBasedTrainLoop: '
                'IterBasedTrainLoop skips seen batches by decoding them (set max_epochs and '
                'save checkpoints with default_hooks.checkpoint.by_epoch=False)')
        sampler = self._sampler(runner)
        if sampler is None or self._loaded is None:
            return
        state, ckpt_iter = self._loaded
        # a resume (not a load_from) puts the loop at the checkpoint's iteration and epoch
        if ckpt_iter != runner.iter or state['epoch'] != runner.epoch:
            return
        sampler.load_state_dict(state)
        batches = -(-sampler.start // runner.train_dataloader.batch_size)
        print_log(f'StreamingResumeHook: epoch {runner.epoch + 1} resumes at clip '
                  f'{sampler.start} of {sampler.num_samples} of this rank ({batches} batches '
                  'skipped without reading them)', logger='current', level=logging.INFO)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        sampler = self._sampler(runner)
        if sampler is not None:
            done = sampler.start + (batch_idx + 1) * runner.train_dataloader.batch_size
            sampler.position = min(done, sampler.num_samples)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        sampler = self._sampler(runner)
        if sampler is not None:
            checkpoint.setdefault('meta', {})[META_KEY] = sampler.state_dict()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.get('meta', {})
        if META_KEY in meta:
            self._loaded = (dict(meta[META_KEY]), int(meta.get('iter', -1)))
