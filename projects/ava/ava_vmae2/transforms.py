"""Loading transforms of AVA clips: sample around the keyframe, decode with vmae2's readers.

A pipeline reads ``VideoInit`` (vmae2: a frame folder, or a video through decord with the PyAV
fallback) -> :class:`SampleAVAClip` -> :class:`AVADecode` -> mmaction2's augmentations.

Frame indices here are 0-based positions in the source: frame ``i`` is at
``timestamp_start + i / fps`` seconds, so the keyframe of ``timestamp`` is frame
``round((timestamp - timestamp_start) * fps)``. (In a frame folder, position ``i`` is the file
numbered ``start_index + i``: AVA's ``img_00001.jpg`` is position 0.) mmaction2's
``SampleAVAFrames`` adds ``start_index`` to the centre *and* to the indices, which puts AVA
clips one frame after the keyframe; that is harmless at 30 fps, but the synthetic set's 8 fps
keyframes are exact.
"""
from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from vmae2.datasets.transforms import VideoDecode
from vmae2.datasets.video_readers import BadVideoError
from vmae2.registry import TRANSFORMS

__all__ = ['SampleAVAClip', 'AVADecode', 'scale_boxes']


@TRANSFORMS.register_module()
class SampleAVAClip(BaseTransform):
    """``clip_len`` frames ``frame_interval`` apart around the keyframe (mmaction2's layout:
    ``clip_len // 2`` intervals before it, the rest after), clamped to the source.

    In training each index moves by a random offset in
    ``[-frame_interval // 2, (frame_interval + 1) // 2)``, as ``SampleAVAFrames`` does.

    Required keys: ``timestamp``, ``timestamp_start``, ``fps``, ``total_frames``.
    Added keys: ``frame_inds`` (``(clip_len,)`` int64), ``clip_len``, ``frame_interval``,
    ``num_clips``, ``crop_quadruple``.

    Args:
        clip_len: Frames per clip.
        frame_interval: Frames between two sampled frames.
        test_mode: No random offsets.
    """

    def __init__(self, clip_len: int = 16, frame_interval: int = 4, test_mode: bool = False):
        if clip_len < 1 or frame_interval < 1:
            raise ValueError(f'clip_len and frame_interval must be >= 1, got {clip_len}, '
                             f'{frame_interval}')
        self.clip_len = clip_len
        self.frame_interval = frame_interval
        self.test_mode = test_mode

    def transform(self, results: Dict) -> Dict:
        centre = int(round((results['timestamp'] - results['timestamp_start']) * results['fps']))
        inds = centre + (np.arange(self.clip_len) - self.clip_len // 2) * self.frame_interval
        if not self.test_mode:
            inds = inds + np.random.randint(-(self.frame_interval // 2),
                                            (self.frame_interval + 1) // 2, self.clip_len)
        total = int(results['total_frames'])
        if centre < 0 or centre >= total:
            raise BadVideoError(f'{results.get("filename", results.get("frame_dir"))}: keyframe '
                                f'at {results["timestamp"]} s is frame {centre}, outside its '
                                f'{total} frames (cut from {results["timestamp_start"]} s at '
                                f'{results["fps"]} fps?)')
        results['frame_inds'] = np.clip(inds, 0, total - 1).astype(np.int64)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = self.frame_interval
        results['num_clips'] = 1
        results['crop_quadruple'] = np.array([0, 0, 1, 1], dtype=np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(clip_len={self.clip_len}, '
                f'frame_interval={self.frame_interval}, test_mode={self.test_mode})')


def scale_boxes(results: Dict) -> Dict:
    """Normalised ``gt_bboxes`` / ``proposals`` to pixels of ``img_shape`` (as mmaction2's
    ``RawFrameDecode`` does after decoding)."""
    h, w = results['img_shape']
    scale = np.array([w, h, w, h], dtype=np.float32)
    for key in ('gt_bboxes', 'proposals'):
        if results.get(key) is not None:
            results[key] = (np.asarray(results[key], np.float32)[:, :4] * scale).astype(np.float32)
    return results


@TRANSFORMS.register_module()
class AVADecode(VideoDecode):
    """vmae2's ``VideoDecode`` (the backends in turn, each frame once), then the boxes
    to pixels.

    A video whose frame rate differs from the dataset's ``fps`` by more than 1 % is refused:
    keyframes are found by ``(timestamp - timestamp_start) * fps``, so such a video would give
    clips away from their labels (cut and re-encode it, see the project README).

    Args:
        backends: Backends to fall back to. Defaults to ``('decord', 'pyav')``.
        num_threads: Decoder threads of the fallback.
        max_fps_error: Largest relative frame-rate difference accepted for videos.
    """

    def __init__(self, backends=('decord', 'pyav'), num_threads: int = 1,
                 max_fps_error: float = 0.01) -> None:
        super().__init__(backends, num_threads)
        self.max_fps_error = max_fps_error

    def transform(self, results: Dict) -> Dict:
        video_fps, fps = results.get('avg_fps') or 0, results['fps']
        if video_fps and abs(video_fps - fps) > self.max_fps_error * fps:
            raise ValueError(f'{results.get("filename")}: the video runs at {video_fps:.3f} fps '
                             f'but the dataset maps timestamps at fps={fps}; re-encode it at '
                             f'{fps} fps (projects/ava/README.md, "Videos")')
        return scale_boxes(super().transform(results))
