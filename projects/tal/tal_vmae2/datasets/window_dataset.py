"""Trimmed windows of a localization set's training videos, for fine-tuning the clip classifier
whose features the localizer then reads (as TAL backbones are fine-tuned on trimmed actions).

Each item is ``clip_len`` consecutive frames of an untrimmed video, labelled ``c + 1`` when its
centre lies in an action of class c and 0 (background) when the window touches no action.
Windows are laid out deterministically: ``windows_per_action`` evenly spaced inside each action,
and background windows evenly spaced in the gaps (``background_ratio`` of the action windows).
"""
import json
import os.path as osp
from typing import Dict, List

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.dataset import BaseDataset

from vmae2.datasets.pretrain_dataset import build_pipeline
from vmae2.registry import DATASETS, TRANSFORMS

__all__ = ['TALWindowDataset', 'SampleWindow']


@DATASETS.register_module()
class TALWindowDataset(BaseDataset):
    """Labelled windows of the videos of ``subset``.

    Args:
        ann_file: ActionFormer-layout annotations (with ``fps`` per video).
        video_dir: Folder of ``<video>.mp4``.
        subset: Subset to take the videos from.
        clip_len: Frames per window.
        windows_per_action: Windows inside each action.
        background_ratio: Background windows per action window.
        video_ext: Video file extension.
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments (``pipeline``...).
    """

    def __init__(self, ann_file: str, video_dir: str, subset: str = 'train', clip_len: int = 16,
                 windows_per_action: int = 4, background_ratio: float = 0.5,
                 video_ext: str = '.mp4', pipeline=(), **kwargs) -> None:
        self.video_dir, self.subset, self.clip_len = video_dir, subset, clip_len
        self.windows_per_action, self.background_ratio = windows_per_action, background_ratio
        self.video_ext = video_ext
        super().__init__(ann_file=ann_file, pipeline=build_pipeline(pipeline).transforms,
                         **kwargs)

    def load_data_list(self) -> List[Dict]:
        with open(self.ann_file) as f:
            database = json.load(f)['database']
        by_id = {}
        for info in database.values():
            for ann in info['annotations']:
                by_id[ann['label_id']] = ann['label']
        self._metainfo['classes'] = ('background', ) + tuple(by_id[k] for k in sorted(by_id))
        index = {k: i + 1 for i, k in enumerate(sorted(by_id))}
        L = self.clip_len
        actions, background = [], []
        for vid, info in database.items():
            if info['subset'] != self.subset:
                continue
            path = osp.join(self.video_dir, vid + self.video_ext)
            fps, frames = info['fps'], int(round(info['duration'] * info['fps']))
            spans = sorted((int(round(a['segment'][0] * fps)), int(round(a['segment'][1] * fps)),
                            index[a['label_id']]) for a in info['annotations'])
            for s, e, label in spans:
                # window centres spread over the action
                for c in np.linspace(s + L / 4, e - L / 4, self.windows_per_action):
                    start = int(np.clip(round(c - L / 2), 0, frames - L))
                    actions.append(dict(filename=path, label=label, start=start))
            edges = [0] + [x for s, e, _ in spans for x in (s, e)] + [frames]
            for gap_start, gap_end in zip(edges[0::2], edges[1::2]):
                for start in range(gap_start, gap_end - L + 1, L):
                    background.append(dict(filename=path, label=0, start=start))
        keep = int(round(self.background_ratio * len(actions)))
        if background and keep:
            pick = np.linspace(0, len(background) - 1, min(keep, len(background)))
            background = [background[int(round(i))] for i in pick]
        else:
            background = []
        return actions + background


@TRANSFORMS.register_module()
class SampleWindow(BaseTransform):
    """``frame_inds`` = the item's window (``start .. start + clip_len - 1``), shifted by up to
    ``jitter`` frames at random in training (clamped to the video).

    Required keys: ``start``, ``total_frames``. Added: ``frame_inds``, ``clip_len``,
    ``num_clips``, ``frame_interval``.
    """

    def __init__(self, clip_len: int = 16, jitter: int = 0, test_mode: bool = False) -> None:
        self.clip_len, self.jitter, self.test_mode = clip_len, jitter, test_mode

    def transform(self, results: Dict) -> Dict:
        start = int(results['start'])
        if self.jitter and not self.test_mode:
            start += int(np.random.randint(-self.jitter, self.jitter + 1))
        start = int(np.clip(start, 0, max(int(results['total_frames']) - self.clip_len, 0)))
        inds = start + np.arange(self.clip_len, dtype=np.int64)
        results['frame_inds'] = np.minimum(inds, int(results['total_frames']) - 1)
        results.update(clip_len=self.clip_len, num_clips=1, frame_interval=1)
        return results

