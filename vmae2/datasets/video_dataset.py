"""Labelled video datasets whose unreadable videos neither crash a run nor silently vanish.

mmaction2's ``VideoDataset`` / ``RepeatAugDataset`` let any decoding error end a fine-tuning
run, and ``RepeatAugDataset`` accepts only ``DecordInit`` / ``DecordDecode``. The datasets here
take the same arguments and list files, run the same pipelines (vmae2's ``VideoInit`` /
``VideoDecode`` - torchcodec / decord / PyAV in turn, with a decode time limit - or mmaction2's
loaders, under mmaction2's samplers), and handle a video that cannot be read as pretraining
does:

* **training**: it is logged and counted by a :class:`~vmae2.datasets.BadSampleTracker` and
  replaced by another random video of the split; past ``max_bad_ratio`` the run stops with
  examples (a wrong root, a broken mount);
* **validation / test**: it stays in the evaluation, *scored as a miss*: the dataset returns a
  placeholder sample (black frames through the same sampler and transforms, so batches keep
  their shapes) marked ``unreadable`` in its metainfo with the file and the reason, and
  :class:`~vmae2.evaluation.RobustAccMetric` ranks its true class last, counts it as
  ``num_unreadable`` and lists the files at the end of the run. Misses rather than
  exclusion: the accuracy stays a share of the whole, fixed list (comparable between runs and
  with published numbers), and missing data can never raise it.

The pipeline is split in two stages: *loading* (up to and including the first ``*Decode``
step) and *augmentation* (the rest). Only loading failures count as bad data; an error in the
augmentation is a bug and propagates.
"""
import logging
from copy import deepcopy
from typing import Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmaction.datasets import VideoDataset
from mmengine.logging import print_log

from vmae2.registry import DATASETS

from .bad_samples import BadSampleTracker, TooManyBadSamplesError
from .decode_watchdog import WatchdogError
from .pretrain_dataset import build_pipeline

__all__ = ['RobustVideoDataset', 'RepeatAugDataset', 'split_loading']


def _type_name(transform: Callable) -> str:
    return type(transform).__name__


def split_loading(transforms: Sequence[Callable]) -> int:
    """Number of loading steps: up to and including the first ``*Decode`` transform (all of
    them when there is none)."""
    for i, t in enumerate(transforms):
        if _type_name(t).endswith('Decode'):
            return i + 1
    return len(transforms)


def _run(transforms: Sequence[Callable], results: Optional[dict]) -> Optional[dict]:
    for t in transforms:
        if results is None:
            return None
        results = t(results)
    return results


@DATASETS.register_module()
class RobustVideoDataset(VideoDataset):
    """mmaction2's ``VideoDataset`` (``path label`` list) with bad videos replaced (training)
    or scored as misses (``test_mode``); see the module doc.

    Args:
        ann_file: List file, ``path label`` per line.
        pipeline: Transforms: loading (open, sample, decode), then augmentation.
        max_bad_ratio: Training: largest share of unreadable videos a process tolerates.
        min_tried: Training: videos tried before the share is judged.
        max_retries: Training: replacements tried for one item before giving up.
        placeholder_shape: ``(H, W)`` of the black frames of an unreadable video's placeholder
            (test mode); the transforms crop/resize it like any video.
        placeholder_frames: Frame count the sampler sees for a placeholder.
        **kwargs: ``VideoDataset`` arguments (``data_prefix``, ``test_mode``, ``metainfo``...).
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: Sequence[Union[dict, Callable]],
                 max_bad_ratio: float = 0.1,
                 min_tried: int = 50,
                 max_retries: int = 10,
                 placeholder_shape: Tuple[int, int] = (256, 340),
                 placeholder_frames: int = 300,
                 **kwargs) -> None:
        self.tracker = BadSampleTracker(max_bad_ratio, min_tried)
        self.max_retries = max_retries
        self.placeholder_shape = tuple(placeholder_shape)
        self.placeholder_frames = placeholder_frames
        self.unreadable: List[Tuple[str, str]] = []  # (path, reason) met in test mode
        # built from vmae2's registry, so that no default scope is needed
        super().__init__(ann_file, pipeline=build_pipeline(pipeline).transforms, **kwargs)
        self.num_loading = split_loading(self.pipeline.transforms)

    @property
    def loading(self) -> List[Callable]:
        return self.pipeline.transforms[:self.num_loading]

    @property
    def augmentation(self) -> List[Callable]:
        return self.pipeline.transforms[self.num_loading:]

    def _load(self, info: dict) -> dict:
        loaded = _run(self.loading, info)
        if loaded is None:
            raise RuntimeError('the loading steps returned None')
        return loaded

    def prepare_data(self, idx: int):
        """One sample of video ``idx`` (or of a replacement / a placeholder, see the class)."""
        if self.test_mode:
            return self._prepare_test(idx)
        for attempt in range(self.max_retries + 1):
            i = idx if attempt == 0 else int(np.random.randint(len(self)))
            info = self.get_data_info(i)
            try:
                loaded = self._load(info)
            except WatchdogError:  # the machine, not the video: no sample could be read
                raise
            except Exception as e:  # any failure to read a video is bad data, not a crash
                self.tracker.bad(info['filename'], e)
                continue
            self.tracker.good()
            return _run(self.augmentation, loaded)
        raise TooManyBadSamplesError(
            self.tracker.summary(f'{self.max_retries + 1} videos in a row could not be read'))

    # ------------------------------------------------------------------ test mode
    def _prepare_test(self, idx: int):
        info = self.get_data_info(idx)
        try:
            loaded = self._load(deepcopy(info))
        except WatchdogError:
            raise
        except Exception as e:
            return self.placeholder(info, e)
        return _run(self.augmentation, loaded)

    def placeholder(self, info: dict, error: BaseException):
        """The sample standing for an unreadable video: black frames through the sampler and
        the augmentation, marked ``unreadable`` (with ``filename`` and the reason)."""
        path, reason = info['filename'], f'{type(error).__name__}: {error}'
        self.unreadable.append((path, reason))
        print_log(f'unreadable video {path} ({reason}): it is scored as a miss',
                  logger='current', level=logging.WARNING)
        results = dict(info, total_frames=self.placeholder_frames, avg_fps=30.0)
        # the steps between the opening and the decoding: the samplers
        results = _run(self.loading[1:-1], results)
        num = int(np.asarray(results['frame_inds']).size)
        results['imgs'] = [np.zeros((*self.placeholder_shape, 3), np.uint8) for _ in range(num)]
        results['original_shape'] = results['img_shape'] = self.placeholder_shape
        results['video_reader'] = None
        packed = _run(self.augmentation, results)
        meta = dict(unreadable=True, unreadable_reason=reason[:300], filename=path)
        if isinstance(packed, dict) and hasattr(packed.get('data_samples'), 'set_metainfo'):
            packed['data_samples'].set_metainfo(meta)
        elif isinstance(packed, dict):
            packed.update(meta)
        return packed


@DATASETS.register_module()
class RepeatAugDataset(RobustVideoDataset):
    """Repeated augmentation (one decode, ``num_repeats`` augmented views), as mmaction2's
    ``RepeatAugDataset`` - same arguments, sampling and output - with any video loader and
    bad videos replaced (training only).

    In the ``vmae2`` scope this name means this class; mmaction2's stays reachable as
    ``mmaction.RepeatAugDataset``. The pipeline's first three steps must be an opener
    (``VideoInit``, ``DecordInit``...), a sampler (``SampleFrames``, ``UniformSample``...)
    and a decoder (``VideoDecode``, ``DecordDecode``...).

    Args:
        ann_file: List file, ``path label`` per line.
        pipeline: Opener, sampler, decoder, then the per-view augmentation.
        num_repeats: Views per decoded video.
        sample_once: All views share one set of frame indices (else each view samples its
            own, all decoded at once).
        **kwargs: :class:`RobustVideoDataset` arguments; ``test_mode`` is always False.
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: Sequence[Union[dict, Callable]],
                 num_repeats: int = 4,
                 sample_once: bool = False,
                 **kwargs) -> None:
        kwargs['test_mode'] = False
        super().__init__(ann_file, pipeline=pipeline, **kwargs)
        steps = [_type_name(t) for t in self.pipeline.transforms[:3]]
        if (len(steps) < 3 or not steps[0].endswith('Init')
                or not steps[2].endswith('Decode')):
            raise ValueError(f'RepeatAugDataset: the pipeline must start with an opener, a '
                             f'sampler and a decoder (e.g. VideoInit, SampleFrames, '
                             f'VideoDecode); got {steps}')
        self.num_loading = 3
        self.num_repeats = num_repeats
        self.sample_once = sample_once

    def _load(self, info: dict) -> dict:
        """Open, sample the views' indices (mmaction2's ``RepeatAugDataset.prepare_data``),
        decode all of them at once; ``frame_inds_length`` holds each view's slice."""
        opener, sampler, decoder = self.pipeline.transforms[:3]
        data_info = opener(info)
        frame_inds_list, frame_inds_length = [], [0]
        fake_data_info = dict(total_frames=data_info['total_frames'],
                              start_index=data_info['start_index'])
        if not self.sample_once:
            for _ in range(self.num_repeats):
                data_info_ = sampler(fake_data_info)
                frame_inds = data_info_['frame_inds']
                frame_inds_list.append(frame_inds.reshape(-1))
                frame_inds_length.append(frame_inds.size + frame_inds_length[-1])
        else:
            data_info_ = sampler(fake_data_info)
            frame_inds = data_info_['frame_inds']
            for _ in range(self.num_repeats):
                frame_inds_list.append(frame_inds.reshape(-1))
                frame_inds_length.append(frame_inds.size + frame_inds_length[-1])
        for key in data_info_:
            data_info[key] = data_info_[key]
        data_info['frame_inds'] = np.concatenate(frame_inds_list)
        data_info = decoder(data_info)
        data_info['frame_inds_length'] = frame_inds_length
        return data_info

    @property
    def augmentation(self) -> List[Callable]:
        return [self._augment_views]

    def _augment_views(self, data_info: dict) -> List[dict]:
        """``num_repeats`` views, each its slice of the decoded frames through the rest of
        the pipeline (a deep copy of the other keys per view, as mmaction2 does)."""
        frame_inds_length = data_info.pop('frame_inds_length')
        imgs = data_info.pop('imgs')
        views = []
        for repeat in range(self.num_repeats):
            data_info_ = deepcopy(data_info)
            data_info_['imgs'] = imgs[frame_inds_length[repeat]:frame_inds_length[repeat + 1]]
            views.append(_run(self.pipeline.transforms[3:], data_info_))
        return views
