"""Frame readers behind one interface: torchcodec, decord, PyAV and frame folders.

Each reader opens a source once, knows its frame count and returns the frames at a set of
indices as one uint8 ``(N, H, W, 3)`` RGB array. Readers decode only what is asked for:
torchcodec and decord seek, PyAV decodes forward and stops at the last wanted frame, converting
to RGB only the frames kept (the colour conversion costs as much as the decoding itself).

A source is a path, the file's bytes, or a seekable binary file-like object (a member of a
shard); the readers' ``path`` is then a label for messages (see :func:`source_label`).
Backends are tried in the order of a ``backends`` tuple, the first that opens wins
(:data:`DEFAULT_BACKENDS`); one that is not installed or cannot load is skipped with a
warning (:func:`backend_status`). No backend is trusted by name: each is checked in the tests
against a sequential PyAV decode, and a backend known to return wrong frames for a kind of file
refuses to open it (torchcodec on AVI, see :class:`TorchCodecReader`), so the next one reads it.

Any failure - unreadable container, zero frames, a missing image - raises
:class:`BadVideoError` naming the path, so that the dataset can tell bad data (skip and count)
from a bug (crash). A stream that ends (or breaks) before a wanted frame after ``n >= 1``
readable frames raises :class:`ShortStreamError` with ``n``: its header over-counts its frames
(a cut download with the index in front), and :func:`read_frames` then decodes it as an
``n``-frame video, looping the indices as mmaction2's samplers loop short videos.
"""
import os
import os.path as osp
import warnings
from typing import Dict, Optional, Sequence

import cv2
import numpy as np

from .video_sources import Source, _fresh, container_of, source_label, stream_info

#: Where a backend returns wrong frames (checked against a sequential PyAV decode in
#: tests/datasets/test_backend_equality.py): ``(container, codec, B-frames)`` patterns, None
#: matching anything, with why. A reader refuses such a file at open, so that the next backend
#: of the order reads it. PyAV decodes sequentially and is the reference: no rule.
OFF_RULES = {
    'torchcodec': [(('avi', None, True), 'AVI stores no timestamps; torchcodec 0.17 returns '
                    'frame i-1 at indices it reaches decoding forward, fails on the last')],
    'decord': [(('avi', None, True), 'decord 0.6 seeks to wrong frames in AVIs with B-frames '
                '(and returns a stale last frame)'),
               ((None, 'mpeg4', True), 'decord 0.6 seeks to wrong frames in MPEG-4 part 2 '
                'with B-frames')],
}

#: The order the loading transforms try when a config sets none, chosen by
#: ``tools/analysis_tools/benchmark_pipeline.py --backends`` (README, "Video backends"): on the
#: K400 pretraining pipeline torchcodec decoded 1.15-1.7x as many clips/s as decord and
#: 1.1-1.3x PyAV (real clips and SyntheticMotion, interleaved). decord stays as the first
#: fallback (it seeks; PyAV decodes from the start), PyAV last; where torchcodec cannot load
#: (no FFmpeg libraries) the order starts at decord.
DEFAULT_BACKENDS = ('torchcodec', 'decord', 'pyav')


def off_reason(backend: str, source: Source) -> Optional[str]:
    """Why ``backend`` must not read ``source`` (a rule of :data:`OFF_RULES` matches), or None.

    The rules so far concern AVI and MPEG-4 part 2; :func:`stream_info` (~3 ms) is asked only
    when one can match: for torchcodec, only of AVI files (a 12-byte check); for decord, of
    every file (decord says nothing about codecs).
    """
    rules = OFF_RULES.get(backend)
    if not rules:
        return None
    if all(r[0][0] == 'avi' for r in rules) and container_of(source) != 'avi':
        return None
    info = stream_info(source)
    if info is None:
        return None
    for pattern, why in rules:
        if all(want is None or want == got for want, got in zip(pattern, info)):
            return f'{backend} is off for {info.codec} in {info.container.upper()} with ' \
                   f'B-frames: {why}'
    return None


class BadVideoError(RuntimeError):
    """A video or frame folder that cannot be read; the message starts with its path."""


def _allowed_label(backend: str, source: Source) -> str:
    """The source's name for messages, after checking :data:`OFF_RULES` lets ``backend`` read it.

    Raises:
        BadVideoError: a rule keeps ``backend`` off this file (the next backend reads it).
    """
    path = source_label(source)
    off = off_reason(backend, source)
    if off:
        raise BadVideoError(f'{path}: {off}')
    return path


class ShortStreamError(BadVideoError):
    """The stream holds fewer readable frames than its header says.

    Attributes:
        num_readable: Frames decoded before the stream ended or broke (>= 1).
    """

    def __init__(self, message: str, num_readable: int) -> None:
        super().__init__(message)
        self.num_readable = num_readable

    def __reduce__(self):  # picklable with its count (it crosses the watchdog's pipe)
        return type(self), (str(self), self.num_readable)



class DecordReader:
    """Reads a video with decord.

    Args:
        source: Video file, its bytes or a binary file object (decord reads it whole).
        num_threads: Decoder threads; 1 suits DataLoader workers (the workers are the
            parallelism), more helps a single-process benchmark.
    """
    backend = 'decord'
    SEEK_GAP = 64  # frames; decoding more than this forward costs more than a keyframe seek

    def __init__(self, source: Source, num_threads: int = 1) -> None:
        import decord
        self.source = source
        self.path = path = _allowed_label(self.backend, source)
        try:
            self._vr = decord.VideoReader(_fresh(source), num_threads=num_threads)
            self.num_frames = len(self._vr)
            self.fps = float(self._vr.get_avg_fps())
        except Exception as e:  # decord raises its own DECORDError, RuntimeError...
            raise BadVideoError(f'{path}: decord cannot open it ({e})') from e
        if self.num_frames <= 0:
            raise BadVideoError(f'{path}: no frames (decord)')

    def get_frames(self, inds: Sequence[int]) -> np.ndarray:
        """Frames at sorted unique ``inds``, ``(N, H, W, 3)`` uint8 RGB.

        Seeks once to the first frame, then walks forward with ``skip_frames``, which decodes
        without the RGB conversion; seeking again only across gaps over ``SEEK_GAP`` frames.
        ``get_batch`` instead seeks for every index, decoding from the previous keyframe each
        time: 90 vs 63 ms for 16 x 4 frames of a 340x256 Kinetics clip, same frames.
        """
        out, pos = [], None  # pos: index of the frame the next ``next()`` returns
        try:
            for i in inds:
                # skip_frames into the last frames of a stream can return a stale frame
                # (seen on MPEG-4 AVI); seeking there is exact
                if (pos is None or i < pos or i - pos > self.SEEK_GAP
                        or i >= self.num_frames - 2):
                    self._vr.seek_accurate(int(i))
                elif i > pos:
                    self._vr.skip_frames(int(i - pos))
                out.append(self._vr.next().asnumpy())
                pos = int(i) + 1
        except Exception as e:
            raise BadVideoError(f'{self.path}: decord failed to decode frame {i} ({e})') from e
        frames = np.stack(out)
        if frames.shape[-1] != 3:  # decord 0.6 returns padded rows on some widths (48 px)
            raise BadVideoError(f'{self.path}: decord returned frames of shape {frames.shape}')
        return frames


class TorchCodecReader:
    """Reads a video with torchcodec (PyTorch's FFmpeg decoder), in its exact seek mode.

    The exact mode scans the container's packets at open (no decoding) and seeks by that
    index, so frame ``i`` is the ``i``-th frame of a sequential decode: checked against PyAV on
    H.264 MP4/MKV with and without B-frames and MPEG-4 in MP4 (``tests/datasets/
    test_torchcodec_reader.py``). The approximate mode (no scan) returns wrong frames on
    MPEG-4 with B-frames in MP4, so it is not offered.

    Off for AVI with B-frames (:data:`OFF_RULES`): AVI stores no presentation timestamps, and
    there (MPEG-4 part 2 with packed B-frames as UCF101/HMDB51 ship, H.264) torchcodec 0.17
    returns frame ``i - 1`` at indices it reaches by decoding forward and fails on the last
    frame. The reader refuses such a file at open (:func:`off_reason`), so :func:`open_video`
    moves on to the next backend; AVIs without B-frames decode right and are read.

    Args:
        source: Video file, its bytes or a seekable binary file object (read on demand).
        num_threads: FFmpeg decoder threads (0 = FFmpeg's choice).
    """
    backend = 'torchcodec'

    def __init__(self, source: Source, num_threads: int = 1) -> None:
        from torchcodec.decoders import VideoDecoder
        self.source = source
        self.path = path = _allowed_label(self.backend, source)
        try:
            self._decoder = VideoDecoder(_fresh(source), seek_mode='exact',
                                         dimension_order='NHWC', num_ffmpeg_threads=num_threads)
            meta = self._decoder.metadata
            self.num_frames = int(meta.num_frames or 0)
            self.fps = float(meta.average_fps or 0)
        except Exception as e:  # RuntimeError / ValueError from FFmpeg
            raise BadVideoError(f'{path}: torchcodec cannot open it ({e})') from e
        if self.num_frames <= 0:
            raise BadVideoError(f'{path}: no frames (torchcodec)')

    def get_frames(self, inds: Sequence[int]) -> np.ndarray:
        """Frames at sorted unique ``inds``, ``(N, H, W, 3)`` uint8 RGB (one batched call:
        torchcodec seeks only where decoding forward would cost more)."""
        try:
            frames = self._decoder.get_frames_at([int(i) for i in inds]).data.numpy()
        except Exception as e:  # a broken stream: RuntimeError from FFmpeg
            raise BadVideoError(f'{self.path}: torchcodec failed to decode ({e})') from e
        if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) != len(inds):
            raise BadVideoError(f'{self.path}: torchcodec returned frames of shape '
                                f'{frames.shape}')
        return frames


class PyAVReader:
    """Reads a video with PyAV (FFmpeg); slower seeking than decord, but more formats.

    Args:
        source: Video file, its bytes or a seekable binary file object.
        num_threads: Decoder threads (0 = FFmpeg's choice).
    """
    backend = 'pyav'

    def __init__(self, source: Source, num_threads: int = 1) -> None:
        import av
        self.source = source
        self.path = path = source_label(source)
        self.num_threads = num_threads
        try:
            with av.open(_fresh(source)) as container:
                stream = container.streams.video[0]
                self.fps = float(stream.average_rate or 0)
                self.num_frames = stream.frames
                if self.num_frames <= 0:
                    # Some containers (mkv, webm) store no frame count: count packets, which
                    # needs no decoding (one packet per frame for video streams).
                    self.num_frames = sum(1 for p in container.demux(stream) if p.size > 0)
        except Exception as e:  # av.error.FFmpegError, IndexError (no video stream)...
            raise BadVideoError(f'{path}: PyAV cannot open it ({e})') from e
        if self.num_frames <= 0:
            raise BadVideoError(f'{path}: no frames (PyAV)')

    def get_frames(self, inds: Sequence[int]) -> np.ndarray:
        """Frames at sorted unique ``inds``, ``(N, H, W, 3)`` uint8 RGB."""
        import av
        wanted = list(inds)
        out, k, n = [], 0, 0
        try:
            with av.open(_fresh(self.source)) as container:
                stream = container.streams.video[0]
                stream.thread_type = 'AUTO' if self.num_threads != 1 else 'SLICE'
                if self.num_threads > 1:
                    stream.codec_context.thread_count = self.num_threads
                for n, frame in enumerate(container.decode(stream), start=1):
                    if n - 1 == wanted[k]:
                        out.append(frame.to_ndarray(format='rgb24'))
                        k += 1
                        if k == len(wanted):
                            break
        except Exception as e:
            if n > 0 and k < len(wanted):  # frames before the break are readable
                raise ShortStreamError(f'{self.path}: PyAV failed to decode after {n} frames '
                                       f'({e})', n) from e
            raise BadVideoError(f'{self.path}: PyAV failed to decode ({e})') from e
        if k < len(wanted):
            message = (f'{self.path}: stream ends after {n} frames, before frame {wanted[k]} '
                       f'of {self.num_frames} (truncated?)')
            raise ShortStreamError(message, n) if n > 0 else BadVideoError(message)
        return np.stack(out)


class FrameFolderReader:
    """Reads frames stored as image files ``frame_dir/filename_tmpl.format(start_index + i)``.

    Args:
        frame_dir: The folder.
        filename_tmpl: File name template, e.g. ``img_{:05}.jpg``.
        num_frames: Frame count from the list file (listing the folder would cost a syscall
            storm on network file systems).
        start_index: Number of the first frame file.
    """
    backend = 'frames'

    def __init__(self, frame_dir: str, filename_tmpl: str, num_frames: int,
                 start_index: int = 0) -> None:
        self.path = self.source = frame_dir
        self.filename_tmpl = filename_tmpl
        self.num_frames = num_frames
        self.start_index = start_index
        self.fps = 0.0
        if not osp.isdir(frame_dir):
            raise BadVideoError(f'{frame_dir}: frame folder not found')

    def get_frames(self, inds: Sequence[int]) -> np.ndarray:
        """Frames at sorted unique ``inds``, ``(N, H, W, 3)`` uint8 RGB."""
        out = []
        for i in inds:
            path = osp.join(self.path, self.filename_tmpl.format(self.start_index + i))
            img = cv2.imread(path, cv2.IMREAD_COLOR)
            if img is None:
                raise BadVideoError(f'{path}: missing or unreadable frame')
            out.append(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
        if len({im.shape for im in out}) > 1:
            raise BadVideoError(f'{self.path}: frames of different sizes')
        return np.stack(out)


VIDEO_READERS = {'torchcodec': TorchCodecReader, 'decord': DecordReader, 'pyav': PyAVReader}

#: The module each backend needs, and what to do when it cannot load.
_BACKEND_MODULES = {
    'torchcodec': ('torchcodec.decoders', 'needs the shared libraries of FFmpeg 4 or later '
                   '(Debian 12: apt-get install libavutil57 libavcodec59 libavformat59 '
                   'libavdevice59 libavfilter8 libswscale6 libswresample4); tools/setup.sh '
                   'installs them'),
    'decord': ('decord', 'pip install decord==0.6.0'),
    'pyav': ('av', 'pip install av'),
}
_STATUS: Dict[str, Optional[str]] = {}  # backend -> None (usable) or why not
_WARNED = set()


def backend_status(name: str) -> Optional[str]:
    """None when backend ``name`` can be used here, else why not (imported once per process).

    Raises:
        ValueError: ``name`` is no backend.
    """
    if name not in VIDEO_READERS:
        raise ValueError(f'unknown video backend {name!r}; known: {sorted(VIDEO_READERS)}')
    if name not in _STATUS:
        module, fix = _BACKEND_MODULES.get(name, (None, ''))
        _STATUS[name] = None
        if module is not None:
            try:
                __import__(module)
            except Exception as e:  # ImportError, or RuntimeError: torchcodec finds no FFmpeg
                first = str(e).strip().splitlines()[0] if str(e).strip() else ''
                _STATUS[name] = f'{type(e).__name__}: {first[:200]} ({fix})'
    return _STATUS[name]


def backend_report(backends: Sequence[str] = ('torchcodec', 'decord', 'pyav')) -> str:
    """One line for the stack check: ``video backends: torchcodec ok, decord ok, pyav ok``, an
    unusable one with why (``tools/setup.sh`` prints it last)."""
    parts = [f'{b} ok' if backend_status(b) is None else f'{b} OFF ({backend_status(b)})'
             for b in backends]
    return 'video backends: ' + ', '.join(parts) + f'; default order {DEFAULT_BACKENDS}'


def usable_backends(backends: Sequence[str] = ('torchcodec', 'decord', 'pyav')) -> tuple:
    """The backends of ``backends`` that load here, in their order; warns once for each of
    the others.

    Raises:
        ValueError: a name is no backend.
        RuntimeError: none of them loads (a broken install, not a bad video).
    """
    out = []
    if isinstance(backends, str):
        raise ValueError(f'backends must be a sequence of names, got the string {backends!r}')
    for name in backends:
        why = backend_status(name)
        if why is None:
            out.append(name)
        elif name not in _WARNED:
            _WARNED.add(name)
            warnings.warn(f'video backend {name!r} is skipped: {why}', RuntimeWarning)
    if not out:
        raise RuntimeError(f'none of the video backends {tuple(backends)} can be used here: '
                           + '; '.join(f'{b}: {backend_status(b)}' for b in backends))
    return tuple(out)


def open_video(source: Source, backends: Sequence[str] = DEFAULT_BACKENDS,
               num_threads: int = 1, skip: Optional[str] = None):
    """Opens ``source`` with the first usable backend of ``backends`` that can read it.

    Args:
        source: Video file path, its bytes, or a seekable binary file object.
        backends: Backends to try, in order (those that cannot load here are skipped).
        num_threads: Decoder threads.
        skip: A backend not to try (one that already failed on this file).

    Raises:
        BadVideoError: the file is missing or no backend can read it; the message lists why
            each backend failed.
    """
    if isinstance(source, (str, os.PathLike)) and not osp.isfile(source):
        raise BadVideoError(f'{os.fspath(source)}: file not found')
    errors = []
    for name in usable_backends(backends):
        if name == skip:
            continue
        try:
            return VIDEO_READERS[name](source, num_threads=num_threads)
        except BadVideoError as e:
            errors.append(str(e))
    raise BadVideoError('; '.join(errors) or f'{source_label(source)}: no backend left to try')


def read_frames(reader, inds: Sequence[int], backends: Sequence[str] = DEFAULT_BACKENDS,
                num_threads: int = 1):
    """Frames at sorted unique ``inds`` with the fallbacks of the data paths.

    1. ``reader`` decodes them;
    2. if it fails, the next backend of ``backends`` not tried yet reopens the file and
       tries, and so on (decord can open a file and still fail on its frames: 48-pixel rows,
       MPEG-4 ends; torchcodec fails on a stream that breaks after its index);
    3. if the stream turns out shorter than its header (:class:`ShortStreamError`, ``n``
       readable frames), index ``i`` becomes ``i % n`` (mmaction2's ``'loop'``) and PyAV
       decodes those.

    Args:
        reader: An open reader (any of this module's).
        inds: Sorted unique frame indices.
        backends: Backends to fall back to.
        num_threads: Decoder threads of a fallback reader.

    Returns:
        ``(frames, reader)``: ``(len(inds), H, W, 3)`` uint8 RGB frames and the reader that
        decoded them (its ``num_frames`` is the readable count after step 3).

    Raises:
        BadVideoError: no backend can decode the frames; the message names the path and why.
    """
    inds = [int(i) for i in inds]
    source = getattr(reader, 'source', reader.path)
    tried, errors, short = {reader.backend}, [], None
    while short is None:
        try:
            return reader.get_frames(inds), reader
        except ShortStreamError as e:
            short = e
        except BadVideoError as e:
            errors.append(str(e))
            rest = [b for b in backends if b not in tried and backend_status(b) is None]
            if reader.backend == 'frames' or not rest:
                if len(errors) == 1:
                    raise
                raise BadVideoError('; '.join(errors)) from e
            try:  # the next backend that opens it (each opening failure is reported)
                reader = open_video(source, rest, num_threads)
            except BadVideoError as e2:
                raise BadVideoError('; '.join(errors + [str(e2)])) from e2
            tried.add(reader.backend)
    n = short.num_readable
    looped = np.asarray(inds) % n
    unique, inverse = np.unique(looped, return_inverse=True)
    pyav = reader if reader.backend == 'pyav' else PyAVReader(source, num_threads)
    frames = pyav.get_frames(unique.tolist())[inverse]
    pyav.num_frames = n
    return frames, pyav
