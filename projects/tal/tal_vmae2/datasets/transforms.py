"""Feature-sequence transforms of the localization pipeline.

Segments stay in seconds through the pipeline; a transform that changes the timeline (a crop,
a resize) updates ``feat_stride`` (frames per step) and ``feat_offset`` (frames at step 0's
centre), and :class:`PackTALInputs` converts the segments to feature steps with the final
timeline: ``g = (t * fps - feat_offset) / feat_stride``. The model converts its predictions
back with the same three numbers, so a crop or resize can never shift the timeline.
"""
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmaction.structures import ActionDataSample
from mmcv.transforms import BaseTransform
from mmengine.structures import InstanceData

from vmae2.registry import TRANSFORMS

__all__ = ['LoadTALFeatures', 'RandomTruncateFeats', 'ResizeFeats', 'PackTALInputs',
           'seconds_to_steps']


def seconds_to_steps(seconds: np.ndarray, fps: float, feat_stride: float,
                     feat_offset: float) -> np.ndarray:
    """Times -> (fractional) feature steps of the timeline."""
    return (np.asarray(seconds, np.float64) * fps - feat_offset) / feat_stride


@TRANSFORMS.register_module()
class LoadTALFeatures(BaseTransform):
    """Reads ``feat_path`` into ``feats`` ``(D, T)`` float32."""

    def transform(self, results: dict) -> dict:
        feats = np.load(results['feat_path']).astype(np.float32)  # (T, D)
        if feats.ndim != 2 or feats.shape[0] != results['num_feats']:
            raise ValueError(f'{results["video_id"]}: features of shape {feats.shape}, '
                             f'expected ({results["num_feats"]}, D)')
        results['feats'] = np.ascontiguousarray(feats.T)
        return results


@TRANSFORMS.register_module()
class RandomTruncateFeats(BaseTransform):
    """Random crop of at most ``max_seq_len`` steps that keeps at least one action (training).

    As ActionFormer: with ``crop_ratio`` a sequence that fits is still cropped to a random
    ``[lo, hi]`` share of its length; actions cut by the crop are kept when at least
    ``trunc_thresh`` of them remains inside (clipped to the crop), dropped otherwise.

    Args:
        max_seq_len: Longest output.
        trunc_thresh: Share of an action that must stay in the crop.
        crop_ratio: ``(lo, hi)`` or None.
        max_tries: Crops tried before giving up on keeping an action (then the last is used).
    """

    def __init__(self, max_seq_len: int, trunc_thresh: float = 0.5,
                 crop_ratio: Optional[Tuple[float, float]] = None, max_tries: int = 100) -> None:
        self.max_seq_len, self.trunc_thresh = max_seq_len, trunc_thresh
        self.crop_ratio, self.max_tries = crop_ratio, max_tries

    def transform(self, results: dict) -> dict:
        feats = results['feats']
        T = feats.shape[1]
        length = min(T, self.max_seq_len)
        if self.crop_ratio is not None:
            lo, hi = self.crop_ratio
            length = min(length, max(1, int(round(np.random.uniform(lo, hi) * T))))
        if length == T:
            return results
        fps, stride, offset = results['fps'], results['feat_stride'], results['feat_offset']
        segs = results['segments']
        steps = seconds_to_steps(segs, fps, stride, offset).reshape(-1, 2)
        for _ in range(self.max_tries):
            start = np.random.randint(0, T - length + 1)
            inter = (np.minimum(steps[:, 1], start + length)
                     - np.maximum(steps[:, 0], start)).clip(0)
            keep = inter >= self.trunc_thresh * np.maximum(steps[:, 1] - steps[:, 0], 1e-6)
            if keep.any() or len(steps) == 0:
                break
        clipped = np.stack([np.maximum(steps[keep, 0], start),
                            np.minimum(steps[keep, 1], start + length)], -1)
        results['feats'] = feats[:, start:start + length]
        results['feat_offset'] = offset + start * stride  # step 0 is now step `start`
        results['segments'] = ((clipped * stride + offset) / fps).astype(np.float32)
        results['labels'] = results['labels'][keep]
        return results


@TRANSFORMS.register_module()
class ResizeFeats(BaseTransform):
    """Linear resampling of the whole sequence to ``length`` steps (FineAction / ActivityNet:
    192). Step j of the output is centred where ``(j + 0.5) * T / length - 0.5`` of the input
    was, which sets the new ``feat_stride`` and ``feat_offset``."""

    def __init__(self, length: int = 192) -> None:
        self.length = length

    def transform(self, results: dict) -> dict:
        feats = results['feats']
        T = feats.shape[1]
        x = torch.from_numpy(feats)[None]
        results['feats'] = F.interpolate(x, size=self.length, mode='linear',
                                         align_corners=False)[0].numpy()
        scale = T / self.length
        stride = results['feat_stride']
        results['feat_offset'] = results['feat_offset'] + stride * (scale - 1) / 2
        results['feat_stride'] = stride * scale
        return results


@TRANSFORMS.register_module()
class PackTALInputs(BaseTransform):
    """``inputs`` ``(D, T)`` tensor and an ``ActionDataSample`` with ``gt_instances``
    (``segments`` in feature steps, ``labels``) and the timeline in its metainfo."""

    META_KEYS: Sequence[str] = ('video_id', 'fps', 'duration', 'feat_stride', 'feat_offset',
                                'num_feats', 'window')

    def transform(self, results: dict) -> dict:
        feats = results['feats']
        sample = ActionDataSample()
        steps = seconds_to_steps(results['segments'], results['fps'], results['feat_stride'],
                                 results['feat_offset']).reshape(-1, 2)
        sample.gt_instances = InstanceData(
            segments=torch.as_tensor(steps, dtype=torch.float32),
            labels=torch.as_tensor(results['labels'], dtype=torch.long))
        meta = {k: results[k] for k in self.META_KEYS if k in results}
        meta['input_len'] = feats.shape[1]
        sample.set_metainfo(meta)
        return dict(inputs=torch.from_numpy(np.ascontiguousarray(feats)), data_samples=sample)
