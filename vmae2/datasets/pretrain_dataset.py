"""The pretraining dataset: a mix of video sources, repeated augmentation, bad files skipped.

A sample is built in two stages:

1. ``pipeline`` (open, pick a clip, decode) runs once per video;
2. ``view_pipeline`` (crop, resize, format, pack) runs ``num_sample`` times on the decoded
   frames, giving as many differently cropped views of one decode - the official VideoMAE V2
   repeated augmentation, which halves the decoding cost per view. Each view records a
   ``mask_seed`` (pack it as a meta key): the model draws the view's own masks from it.

Each stage runs with the global random generators seeded from (seed, epoch, index, attempt,
stage) when the sampler gives a :class:`~vmae2.datasets.seeding.SampleKey`, so crops, clips and
masks (``mask_seed`` is the view's seed) do not depend on the number of workers. A failure of
stage 1 (missing, truncated, unreadable file) is logged, counted and replaced by another sample
of the same source; stage 2 failures are bugs and propagate.
"""
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset, Compose

from vmae2.registry import DATASETS, TRANSFORMS

from .bad_samples import BadSampleTracker, TooManyBadSamplesError
from .decode_watchdog import WatchdogError
from .list_file import parse_list_file
from .seeding import SampleKey, derive_seed, seeded_global_rng, unpack_key

SOURCE_KEYS = {'ann_file', 'root', 'frame_interval', 'filename_tmpl', 'layout', 'weight', 'name'}
# Stage numbers mixed into the seeds; views use VIEW_STAGE + view index.
PICK_STAGE, LOAD_STAGE, VIEW_STAGE = 0, 1, 2


def build_pipeline(transforms: Sequence[Union[dict, Callable]]) -> Compose:
    """``Compose`` whose dict entries are built from vmae2's registry (which falls back to
    mmaction2's and mmengine's), whatever the current default scope."""
    return Compose([TRANSFORMS.build(t) if isinstance(t, dict) else t for t in transforms])


@DATASETS.register_module()
class VideoPretrainDataset(BaseDataset):
    """Unlabelled videos from one or more sources, each declared in the config.

    Example source: ``dict(ann_file='k710_train.txt', root='k710/videos', frame_interval=4)``;
    ``dict(ann_file='ssv2_train.txt', root='ssv2/frames', frame_interval=2,
    filename_tmpl='img_{:05}.jpg', weight=1.0)``.

    Args:
        sources: One dict per source with ``ann_file`` (list file, official or mmaction2
            layout, relative to ``data_root``), optional ``root`` (folder the paths in the list
            are relative to, itself relative to ``data_root``), ``frame_interval`` (overrides
            the ``SampleClip`` default for this source), ``filename_tmpl`` (frame folders),
            ``layout`` (``'auto'``, ``'official'``, ``'labelled'``), ``weight`` and ``name``.
            Without weights each video is drawn once per epoch (sources in proportion to their
            size); with weights (all sources or none) each draw picks source ``s`` with
            probability ``weight_s / sum(weights)`` and a uniform video in it.
        pipeline: Transforms run once per video (open, sample, decode).
        view_pipeline: Transforms run once per view on the decoded frames (crop, resize,
            format, pack ``mask_seed`` with the other meta keys). They must not modify the
            frame arrays in place (views share them).
        num_sample: Views per video. With more than one, an item is a list of views, flattened
            by ``flatten_views_collate``.
        data_root: Prefix of the sources' ``ann_file`` and ``root``.
        seed: Seed used when the sampler yields bare indices (then epoch is taken as 0); with
            ``EpochSeededSampler`` the sampler's seed and epoch are used. ``None`` with bare
            indices leaves the global generators as they are (unseeded).
        max_bad_ratio: Largest share of unreadable samples a process tolerates.
        min_tried: Samples tried before the share is judged.
        max_retries: Replacements tried for one item before giving up.
        **kwargs: ``BaseDataset`` arguments (``serialize_data``, ``lazy_init``, ``metainfo``).
    """

    def __init__(self,
                 sources: Sequence[Dict],
                 pipeline: Sequence[Union[dict, Callable]],
                 view_pipeline: Sequence[Union[dict, Callable]] = (),
                 num_sample: int = 1,
                 data_root: str = '',
                 seed: Optional[int] = None,
                 max_bad_ratio: float = 0.1,
                 min_tried: int = 50,
                 max_retries: int = 10,
                 **kwargs) -> None:
        if not sources:
            raise ValueError('VideoPretrainDataset needs at least one source')
        for i, src in enumerate(sources):
            unknown = set(src) - SOURCE_KEYS
            if 'ann_file' not in src or unknown:
                raise ValueError(f'source {i} {dict(src)}: needs ann_file; unknown keys '
                                 f'{sorted(unknown)} (allowed: {sorted(SOURCE_KEYS)})')
        weights = [src.get('weight') for src in sources]
        if any(w is not None for w in weights) and any(w is None for w in weights):
            raise ValueError('give a weight to every source or to none')
        if num_sample < 1:
            raise ValueError(f'num_sample must be >= 1, got {num_sample}')
        self.sources = [dict(src) for src in sources]
        self.weights = None if weights[0] is None else np.asarray(weights, float) / sum(weights)
        self.num_sample = num_sample
        self.seed = seed
        self.max_retries = max_retries
        self.tracker = BadSampleTracker(max_bad_ratio, min_tried)
        self.view_pipeline = build_pipeline(view_pipeline)
        if kwargs.get('indices') is not None:
            raise ValueError('indices is not supported: it would break the source ranges')
        super().__init__(ann_file='', data_root=data_root, pipeline=[], **kwargs)
        self.pipeline = build_pipeline(pipeline)

    def load_data_list(self) -> List[dict]:
        """Parses every source's list file; records the index range of each source."""
        data_list, self.source_ranges = [], []
        for s, src in enumerate(self.sources):
            ann_file = osp.join(self.data_root, src['ann_file'])
            samples = parse_list_file(
                ann_file,
                root=osp.join(self.data_root, src.get('root', '')),
                layout=src.get('layout', 'auto'),
                filename_tmpl=src.get('filename_tmpl', 'img_{:05}.jpg'))
            if not samples:
                raise ValueError(f'{ann_file}: list file of source {s} is empty')
            for sample in samples:
                sample['source_idx'] = s
                if src.get('frame_interval') is not None:
                    sample['frame_interval'] = src['frame_interval']
            self.source_ranges.append((len(data_list), len(data_list) + len(samples)))
            data_list.extend(samples)
        return data_list

    @property
    def source_names(self) -> List[str]:
        return [src.get('name', osp.basename(src['ann_file'])) for src in self.sources]

    def source_of(self, idx: int) -> int:
        """Index of the source that holds item ``idx``."""
        return next(s for s, (lo, hi) in enumerate(self.source_ranges) if lo <= idx < hi)

    def _pick(self, index: int, epoch: int, seed: Optional[int], attempt: int) -> int:
        """The item to load for draw ``index``: itself, a weighted draw, or (on retries) a
        random other item of the same source, so that bad files do not skew the mix."""
        if attempt == 0 and self.weights is None:
            return index
        rng = np.random.default_rng(
            derive_seed(seed, epoch, index, attempt, PICK_STAGE) if seed is not None else
            np.random.randint(2**31))
        if attempt == 0:
            source = int(rng.choice(len(self.weights), p=self.weights))
        else:
            source = self.source_of(index)
        return self._member(source, rng)

    def _member(self, source: int, rng: np.random.Generator) -> int:
        """A uniformly drawn item of ``source`` (its items are a contiguous range here)."""
        lo, hi = self.source_ranges[source]
        return lo + int(rng.integers(hi - lo))

    def _stage_seed(self, seed: Optional[int], *keys: int) -> Optional[int]:
        return None if seed is None else derive_seed(seed, *keys)

    def __getitem__(self, key: Union[int, SampleKey]) -> Union[dict, List[dict]]:
        """One item: a packed view, or a list of ``num_sample`` views of one decoded clip.

        Raises:
            TooManyBadSamplesError: the share of unreadable samples passed ``max_bad_ratio``,
                or ``max_retries`` replacements in a row were unreadable.
        """
        if not self._fully_initialized:
            self.full_init()
        index, epoch, seed = unpack_key(key, self.seed)
        for attempt in range(self.max_retries + 1):
            idx = self._pick(index, epoch, seed, attempt)
            info = self.get_data_info(idx)
            path = info.get('filename', info.get('frame_dir'))
            try:
                with seeded_global_rng(self._stage_seed(seed, epoch, index, attempt, LOAD_STAGE)):
                    loaded = self.pipeline(info)
                if loaded is None:
                    raise RuntimeError('the loading pipeline returned None')
            except WatchdogError:  # the machine, not the video: no sample could be read
                raise
            except Exception as e:  # any failure to read data is bad data, not a crash
                self.tracker.bad(path, e)
                continue
            self.tracker.good()
            views = []
            for v in range(self.num_sample):
                view_seed = self._stage_seed(seed, epoch, index, attempt, VIEW_STAGE + v)
                # unseeded: a draw of the worker's own (MMEngine-seeded) generator
                mask_seed = view_seed if view_seed is not None else int(np.random.randint(2**31))
                view = dict(loaded, view_idx=v, mask_seed=mask_seed)
                if 'imgs' in loaded:  # a list per view; the frame arrays are shared
                    view['imgs'] = list(loaded['imgs'])
                with seeded_global_rng(view_seed):
                    views.append(self.view_pipeline(view))
            return views[0] if self.num_sample == 1 else views
        raise TooManyBadSamplesError(
            self.tracker.summary(f'{self.max_retries + 1} samples in a row could not be read'))
