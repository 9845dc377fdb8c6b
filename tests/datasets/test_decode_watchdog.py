"""The decode watchdog: a decoder that hangs *holding the GIL* (as decord does on some files)
or crashes is stopped, its video counted bad, and the next video decodes in a fresh helper."""
import ctypes
import os
import signal
import threading
import time

import numpy as np
import pytest

from vmae2.datasets import BadVideoError, DecodeWatchdog, DecordReader, PyAVReader, video_readers

# libc's sleep called through PyDLL keeps the GIL for the whole call, as decord's C++ loop
# does; time.sleep would release it and prove nothing
LIBC = ctypes.PyDLL(None)


class GilHangReader(PyAVReader):
    """Opens like PyAV, then hangs in C with the GIL held when asked for frames."""
    backend = 'gil_hang'

    def get_frames(self, inds):
        LIBC.sleep(30)
        return super().get_frames(inds)


class GilHangOnOpen(PyAVReader):
    backend = 'gil_hang_open'

    def __init__(self, path, num_threads=1):
        LIBC.sleep(30)


class SegfaultReader(PyAVReader):
    backend = 'segfault'

    def get_frames(self, inds):
        os.kill(os.getpid(), signal.SIGSEGV)


@pytest.fixture
def readers(monkeypatch):
    for cls in (GilHangReader, GilHangOnOpen, SegfaultReader):
        monkeypatch.setitem(video_readers.VIDEO_READERS, cls.backend, cls)


@pytest.fixture
def clip(real_videos):
    return next(p for p in real_videos if p.endswith('arm_wrestling_k400.mp4'))


def test_a_thread_cannot_interrupt_a_gil_holding_decoder():
    """Why a process: while a thread sits in the GIL-holding call, no other thread runs."""
    ticks = []
    hang = threading.Thread(target=LIBC.sleep, args=(2, ))
    start = time.monotonic()
    hang.start()
    while hang.is_alive():
        ticks.append(time.monotonic() - start)
        time.sleep(0.01)
    hang.join()
    gaps = np.diff([0.0] + ticks)
    assert gaps.max() > 1.5  # the main thread (a would-be timer) was frozen for the call


def test_hang_in_decode_is_killed_and_next_video_works(readers, clip):
    watchdog = DecodeWatchdog(timeout=1.5)
    start = time.monotonic()
    reader = watchdog.open(clip, backends=('gil_hang', ))
    assert reader.num_frames == 280
    with pytest.raises(BadVideoError, match='longer than 1.5 s'):
        reader.read([0, 10], backends=('gil_hang', ))
    # the limit is per video (open + decode), not the 30 s of the hang
    assert 1.45 < time.monotonic() - start < 5
    assert watchdog.num_killed == 1
    # the next video (same helper object, fresh process) decodes normally
    frames = watchdog.open(clip).read([0, 10])
    assert np.array_equal(frames, PyAVReader(clip).get_frames([0, 10]))
    assert watchdog.num_started == 2
    watchdog.close()


def test_hang_in_open_and_crash_are_bad_videos(readers, clip):
    watchdog = DecodeWatchdog(timeout=1.0)
    with pytest.raises(BadVideoError, match='longer than 1 s'):
        watchdog.open(clip, backends=('gil_hang_open', ))
    reader = watchdog.open(clip, backends=('segfault', ))
    with pytest.raises(BadVideoError, match=r'decoder process died \(exit status -11\)'):
        reader.read([0], backends=('segfault', ))
    assert watchdog.open(clip).read([5]).shape == (1, 256, 340, 3)
    assert watchdog.num_started == 3
    watchdog.close()


def test_same_frames_and_fallback_in_the_helper(real_videos, monkeypatch):
    """Through the helper: the same pixels as in-process, and decord -> PyAV fallback there
    (the helper forked after the patch sees it)."""
    watchdog = DecodeWatchdog(timeout=30)
    for path, n in real_videos.items():
        inds = [0, 3, n // 2, n - 40]
        reader = watchdog.open(path, ('decord', 'pyav'))
        # the AVI (MPEG-4 with B-frames) is one decord is off for: PyAV reads it
        ref = PyAVReader if path.endswith('.avi') else DecordReader
        assert (reader.num_frames, reader.backend) == (n, ref.backend)
        assert np.array_equal(reader.read(inds, ('decord', 'pyav')), ref(path).get_frames(inds))
    watchdog.close()

    def broken(self, inds):
        raise BadVideoError(f'{self.path}: simulated decord failure')

    monkeypatch.setattr(DecordReader, 'get_frames', broken)
    path = next(p for p in real_videos if p.endswith('.mp4'))
    reader = watchdog.open(path, ('decord', 'pyav'))  # a fresh helper, forked now
    frames = reader.read([3, 7], ('decord', 'pyav'))
    assert reader.backend == 'pyav'
    assert np.array_equal(frames, PyAVReader(path).get_frames([3, 7]))
    with pytest.raises(BadVideoError, match='simulated'):
        watchdog.open(path, ('decord', )).read([1], backends=('decord', ))
    watchdog.close()


def test_video_init_uses_the_watchdog_and_limit(readers, clip):
    from vmae2.datasets import VideoDecode, VideoInit, WatchedReader
    results = VideoInit(backends=('gil_hang', ), timeout=1.0)(dict(filename=clip))
    assert isinstance(results['video_reader'], WatchedReader)
    results['frame_inds'] = np.array([1, 2])
    with pytest.raises(BadVideoError, match='longer than 1 s'):
        VideoDecode(backends=('gil_hang', ))(results)
