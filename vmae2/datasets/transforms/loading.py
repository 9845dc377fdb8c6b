"""Video loading transforms: open (``VideoInit``), pick a clip (``SampleClip``), decode
(``VideoDecode``).

What mmaction2's ``DecordInit``/``PyAVInit``/``SampleFrames``/``DecordDecode`` lack and these add:

* one pair of transforms for video files *and* frame folders, so sources of both kinds can be
  mixed in one dataset with one pipeline;
* a ``backends`` order (torchcodec, decord, PyAV; default
  :data:`~vmae2.datasets.video_readers.DEFAULT_BACKENDS`) whose later entries are fallbacks, at
  open time and again at decode time (decord can open a file and still fail on its frames), a
  backend that cannot load here skipped with a warning, and streams shorter than their header
  decoded as the frames they hold (indices looped);
* videos given as bytes or file objects (``video_bytes``, e.g. a shard member) as well as paths;
* a time limit per video (``timeout``): the decoder runs in a helper process that is killed
  past it (decord can hang holding the GIL; see :mod:`vmae2.datasets.decode_watchdog`);
* decoding only the sorted unique frames of the clip (``repeat_last`` padding asks for the same
  frame several times), reading the file from its path rather than loading it whole into memory;
* the frame interval of the clip taken from the sample when its source sets one (16 x 4 for
  Kinetics-like sources, 16 x 2 for SSv2-like ones in the same mix);
* failures raised as :class:`~vmae2.datasets.video_readers.BadVideoError`, which the dataset
  skips and counts.
"""
from typing import Dict, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from vmae2.registry import TRANSFORMS

from ..decode_watchdog import DEFAULT_TIMEOUT, WatchedReader, get_watchdog
from ..video_readers import (
    DEFAULT_BACKENDS,
    BadVideoError,
    FrameFolderReader,
    open_video,
    read_frames,
    usable_backends,
)
from ..video_sources import NamedBytes, _fresh


@TRANSFORMS.register_module()
class VideoInit(BaseTransform):
    """Opens a video file or frame folder.

    Required keys: ``filename`` (video) or ``frame_dir``, ``filename_tmpl``, ``total_frames``
    (frame folder); ``start_index`` (optional); ``video_bytes`` (optional: the video's bytes or
    a seekable binary file object, read instead of ``filename``, which then only names it).
    Added keys: ``video_reader``, ``total_frames``, ``avg_fps``, ``decoder`` (backend name).

    Works under mmaction2's samplers (``SampleFrames``, ``UniformSample``...) as ``DecordInit``
    does, and with ``VideoDecode`` in place of ``DecordDecode``.

    Args:
        backends: Video backends to try in order (``'torchcodec'``, ``'decord'``, ``'pyav'``);
            the later ones are fallbacks. Checked here: an unknown name raises ValueError, one
            that cannot load on this machine is skipped with a warning, none loading raises
            RuntimeError.
        num_threads: Decoder threads per video.
        timeout: Seconds a video file may take to open and decode; the decoding then runs in
            a helper process that is killed past the limit (the sample is bad). ``None``
            decodes in this process without a limit. Frame folders are always read here.
    """

    def __init__(self, backends: Sequence[str] = DEFAULT_BACKENDS, num_threads: int = 1,
                 timeout: Optional[float] = DEFAULT_TIMEOUT) -> None:
        usable_backends(backends)
        self.backends = tuple(backends)
        self.num_threads = num_threads
        self.timeout = timeout

    def transform(self, results: Dict) -> Dict:
        if 'frame_dir' in results:
            reader = FrameFolderReader(results['frame_dir'], results['filename_tmpl'],
                                       results['total_frames'], results.get('start_index', 0))
        else:
            source = results.get('video_bytes')
            if source is None:
                source = results['filename']
            elif 'filename' in results:  # messages name the file, as for a path
                data = _fresh(source).read() if hasattr(source, 'read') else source
                source = NamedBytes(data, str(results['filename']))
            if self.timeout:
                reader = get_watchdog(self.timeout).open(source, self.backends,
                                                         self.num_threads)
            else:
                reader = open_video(source, self.backends, self.num_threads)
        results['video_reader'] = reader
        results['total_frames'] = reader.num_frames
        results['avg_fps'] = reader.fps
        results['decoder'] = reader.backend
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(backends={self.backends}, '
                f'num_threads={self.num_threads}, timeout={self.timeout})')


@TRANSFORMS.register_module()
class SampleClip(BaseTransform):
    """Samples one clip of ``clip_len`` frames, ``frame_interval`` apart, from a random start.

    This is the official VideoMAE (V2) pretraining sampler: the start is uniform in
    ``[0, total_frames - clip_len * frame_interval]`` (0 when the video is shorter), and indices
    past the end repeat the last frame of the video. Randomness comes from ``numpy``'s global
    generator, which the dataset seeds per sample.

    Required keys: ``total_frames``; ``frame_interval`` (optional, the source's interval, which
    wins over the argument).
    Added keys: ``frame_inds`` (``(clip_len,)`` int64, 0-based), ``clip_len``, ``num_clips``
    (1), ``frame_interval``.

    Args:
        clip_len: Frames per clip.
        frame_interval: Interval used when the sample does not set one.
        test_mode: Take the centre clip instead of a random one.
    """

    def __init__(self, clip_len: int = 16, frame_interval: int = 4,
                 test_mode: bool = False) -> None:
        if clip_len < 1 or frame_interval < 1:
            raise ValueError(f'clip_len and frame_interval must be >= 1, '
                             f'got {clip_len} and {frame_interval}')
        self.clip_len = clip_len
        self.frame_interval = frame_interval
        self.test_mode = test_mode

    def transform(self, results: Dict) -> Dict:
        total = int(results['total_frames'])
        interval = int(results.get('frame_interval') or self.frame_interval)
        num_starts = total - self.clip_len * interval + 1
        if num_starts <= 0:
            start = 0
        elif self.test_mode:
            start = (num_starts - 1) // 2
        else:
            start = int(np.random.randint(num_starts))
        inds = start + np.arange(self.clip_len, dtype=np.int64) * interval
        # repeat_last: frames past the end become the last frame inside the video
        last_inside = inds[inds < total].max()
        results['frame_inds'] = np.minimum(inds, last_inside)
        results['clip_len'] = self.clip_len
        results['num_clips'] = 1
        results['frame_interval'] = interval
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(clip_len={self.clip_len}, '
                f'frame_interval={self.frame_interval}, test_mode={self.test_mode})')


@TRANSFORMS.register_module()
class VideoDecode(BaseTransform):
    """Decodes the frames at ``frame_inds``, each distinct frame once.

    Required keys: ``video_reader``, ``frame_inds``.
    Added keys: ``imgs`` (list of ``(H, W, 3)`` uint8 RGB arrays, one per index),
    ``original_shape``, ``img_shape``; ``decoder`` is updated when the fallback was used,
    ``total_frames`` when the stream holds fewer frames than its header said (the indices are
    then looped over the readable ones, see :func:`~vmae2.datasets.video_readers.read_frames`).

    Args:
        backends: Backends to fall back to when the opening one fails to decode.
        num_threads: Decoder threads of the fallback.
    """

    def __init__(self, backends: Sequence[str] = DEFAULT_BACKENDS, num_threads: int = 1) -> None:
        usable_backends(backends)
        self.backends = tuple(backends)
        self.num_threads = num_threads

    def transform(self, results: Dict) -> Dict:
        reader = results.pop('video_reader')
        inds = np.asarray(results['frame_inds']).reshape(-1)
        unique, inverse = np.unique(inds, return_inverse=True)  # sorted: seeks go forward
        if unique[0] < 0 or unique[-1] >= reader.num_frames:
            raise BadVideoError(f'{reader.path}: frame {unique[-1]} asked of '
                                f'{reader.num_frames} frames')
        if isinstance(reader, WatchedReader):  # decoded (with the fallbacks) in the helper
            frames = reader.read(unique.tolist(), self.backends, self.num_threads)
        else:
            frames, reader = read_frames(reader, unique.tolist(), self.backends,
                                         self.num_threads)
        results['decoder'] = reader.backend
        if reader.num_frames < results.get('total_frames', reader.num_frames):
            results['total_frames'] = reader.num_frames  # a short stream, indices looped
        imgs = frames[inverse]  # (T, H, W, 3)
        results['imgs'] = list(imgs)
        results['original_shape'] = imgs.shape[1:3]
        results['img_shape'] = imgs.shape[1:3]
        results['video_reader'] = None
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(backends={self.backends}, '
                f'num_threads={self.num_threads})')
