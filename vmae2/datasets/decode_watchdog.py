"""A time limit on decoding: the decoder runs in a helper process that can be killed.

decord 0.6 can loop forever inside its C++ code while holding the GIL (decord issue #373: a
header that over-counts its frames), and some corrupt files crash FFmpeg. Inside the
data-loader process neither can be stopped - a thread-based timeout never gets the GIL back, a
segfault takes the worker (and the run) down. So the readers run in one helper process per
data-loading process, started on first use and reused for every video (starting a process per
video would cost more than decoding it):

* ``open`` and ``read`` requests go down a pipe (a video given as bytes - a shard member -
  goes down once, with its ``open``); the frames come back through a shared memory
  buffer made before the fork (a pipe would cost ~12 ms per 16 Kinetics frames, the buffer
  ~2 ms), or as raw bytes down the pipe when they do not fit;
* the parent waits at most ``timeout`` seconds per video (its open and its decode together);
  past that, or if the helper dies, the helper is killed (SIGKILL), the video raises
  :class:`~vmae2.datasets.video_readers.BadVideoError` - a bad sample like any other - and
  the next video starts a fresh helper.

The helper is forked, so it starts in milliseconds and sees the parent's reader registry; a
killed data-loader worker leaves no helper behind: the helper ends at the EOF of its pipe or
when it finds itself orphaned.
"""
import faulthandler
import gc
import mmap
import multiprocessing as mp
import os
import signal
import sys
import time
from typing import Optional, Sequence, Tuple

import numpy as np

from .video_readers import (
    DEFAULT_BACKENDS,
    BadVideoError,
    open_video,
    read_frames,
    usable_backends,
)
from .video_sources import Source, _fresh, source_label

__all__ = ['DecodeWatchdog', 'WatchedReader', 'WatchdogError', 'get_watchdog', 'DEFAULT_TIMEOUT']

#: Seconds a video may take to open and decode: generous (a 10 s Kinetics clip takes ~0.1 s;
#: PyAV decoding forward to the end of a 10-minute video ~40 s on one core).
DEFAULT_TIMEOUT = 120.0


def _serve(conn, parent_conn, shm: mmap.mmap) -> None:
    """The helper's loop: one open reader at a time, requests answered in order."""
    parent_conn.close()  # a forked copy; without closing it the pipe never reports EOF
    parent = os.getppid()
    reader = None
    while True:
        try:
            while not conn.poll(5.0):
                if os.getppid() != parent:  # orphaned (the parent was killed)
                    return
            request = conn.recv()
        except (EOFError, OSError):
            return
        kind = request[0]
        try:
            if kind == 'open':
                _, label, source, backends, num_threads = request
                reader = None
                reader = open_video(source, backends, num_threads)
                conn.send(('ok', reader.num_frames, reader.fps, reader.backend))
            elif kind == 'read':
                # source is None: the reader of the last open (bytes are not sent twice)
                _, label, source, inds, backends, num_threads = request
                if source is not None or reader is None or reader.path != label:
                    reader = open_video(label if source is None else source, backends,
                                        num_threads)
                frames, reader = read_frames(reader, inds, backends, num_threads)
                frames = np.ascontiguousarray(frames)
                fits = frames.nbytes <= len(shm)
                if fits:
                    np.frombuffer(shm, frames.dtype, frames.size)[:] = frames.reshape(-1)
                conn.send(('ok', frames.shape, frames.dtype.str, reader.backend,
                           reader.num_frames, 'shm' if fits else 'pipe'))
                if not fits:
                    conn.send_bytes(memoryview(frames).cast('B'))
            else:
                conn.send(('error', f'unknown request {kind!r}'))
        except BadVideoError as e:
            conn.send(('bad', e))
        except Exception as e:  # any failure of a decoder is a property of the file
            conn.send(('bad', BadVideoError(f'{request[1]}: {type(e).__name__}: {e}')))


class WatchdogError(RuntimeError):
    """The watchdog itself cannot work (no helper process could be started): a problem of the
    machine, not of a video, so datasets let it propagate instead of counting a bad sample."""


class DecodeWatchdog:
    """A helper process that opens and decodes videos under a time limit.

    The helper is made with a bare ``os.fork`` (not ``multiprocessing``, which refuses to start
    children from daemonic processes such as DataLoader workers): it starts in milliseconds
    and sees the parent's reader registry.

    Args:
        timeout: Seconds allowed per video (open and decode together).
        buffer_mb: Size of the shared buffer the frames come back through (address space;
            only the pages used are memory): 80 Kinetics frames of 340 x 256 take 21 MB.
    """

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, buffer_mb: int = 128) -> None:
        if timeout <= 0:
            raise ValueError(f'timeout must be > 0 seconds, got {timeout}')
        if not hasattr(os, 'fork'):
            raise WatchdogError('the decode watchdog needs os.fork; set VideoInit(timeout=None) '
                                'on this platform')
        self.timeout = float(timeout)
        self.buffer_bytes = int(buffer_mb * 2**20)
        self._shm = None
        self._pid = None
        self._conn = None
        self._owner = None  # pid that started the helper: a forked copy must start its own
        self._num_opened = 0  # opens sent, numbering them
        self._open_in_helper = None  # number of the open whose reader the helper holds
        self.num_started = 0
        self.num_killed = 0

    # ------------------------------------------------------------------ process management
    def _ensure_started(self) -> None:
        if self._owner != os.getpid():  # inherited from a parent: not ours to talk to
            self._pid = self._conn = None
        if self._pid is not None:
            return
        if self._shm is None or self._owner != os.getpid():
            self._shm = mmap.mmap(-1, self.buffer_bytes)  # shared with the forked helper
        parent_conn, child_conn = mp.Pipe(duplex=True)
        try:
            pid = os.fork()
        except OSError as e:
            parent_conn.close()
            child_conn.close()
            raise WatchdogError(f'cannot start the decode helper process: {e}') from e
        if pid == 0:  # the helper
            code = 0
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent
                # a crash of a decoder is reported by the parent as a bad video: no dumps from
                # inherited crash handlers (pytest's faulthandler, torch's worker handlers)
                faulthandler.disable()
                # the parent's objects are never collected here: keep the garbage collector
                # off them, or its bookkeeping writes would copy the whole inherited heap
                gc.freeze()
                # as in DataLoader workers: torch's OpenMP pool does not survive a fork, and
                # the first parallel op of a decoder that returns tensors (torchcodec) would
                # wait on it forever; one thread runs them inline
                if 'torch' in sys.modules:
                    sys.modules['torch'].set_num_threads(1)
                for sig in (signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGABRT):
                    signal.signal(sig, signal.SIG_DFL)
                _serve(child_conn, parent_conn, self._shm)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        child_conn.close()
        self._pid, self._conn, self._owner = pid, parent_conn, os.getpid()
        self.num_started += 1

    def _stop(self, kill: bool) -> Optional[int]:
        """Stops the helper; returns its exit status as ``multiprocessing`` reports it
        (negative: killed by that signal)."""
        status = None
        if self._pid is not None and self._owner == os.getpid():
            if self._conn is not None:
                self._conn.close()
            if kill:
                try:
                    os.kill(self._pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                _, raw = os.waitpid(self._pid, 0)
                status = -os.WTERMSIG(raw) if os.WIFSIGNALED(raw) else os.WEXITSTATUS(raw)
            except ChildProcessError:
                pass
        self._pid = self._conn = None
        self._open_in_helper = None
        return status

    def close(self) -> None:
        """Stops the helper (it also stops when this process exits)."""
        self._stop(kill=True)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def _request(self, request: tuple, deadline: float, path: str, raw: bool = False):
        """Sends ``request``; returns the answer (and the raw bytes that follow it, if any)."""
        self._ensure_started()
        try:
            self._conn.send(request)
            answer = self._wait(deadline, path)
            data = None
            if raw and answer[0] == 'ok' and answer[-1] == 'pipe':
                data = self._wait(deadline, path, raw=True)
        except (EOFError, OSError):
            code = self._stop(kill=True)
            raise BadVideoError(f'{path}: the decoder process died (exit status {code})')
        if answer[0] == 'bad':
            raise answer[1]
        if answer[0] != 'ok':
            raise RuntimeError(f'decode watchdog: {answer[1]}')
        return (answer, data) if raw else answer

    def _wait(self, deadline: float, path: str, raw: bool = False):
        if not self._conn.poll(max(deadline - time.monotonic(), 0)):
            self._stop(kill=True)
            self.num_killed += 1
            raise BadVideoError(f'{path}: decoding took longer than {self.timeout:g} s (decode '
                                f'watchdog); the decoder process was killed')
        return self._conn.recv_bytes() if raw else self._conn.recv()

    # ------------------------------------------------------------------ the reader interface
    def open(self, source: Source, backends: Sequence[str] = DEFAULT_BACKENDS,
             num_threads: int = 1) -> 'WatchedReader':
        """Opens ``source`` in the helper (see :func:`~vmae2.datasets.video_readers.open_video`).

        Args:
            source: A path, or the video's bytes (sent to the helper once); a file object is
                read into bytes here (it cannot cross into the helper).

        Raises:
            BadVideoError: no backend can open it, or opening ran past the time limit.
        """
        label = source_label(source)
        # the backends' modules are imported here, before the helper forks (a helper forked
        # without them imports torchcodec on its first video, ~1 s of its time limit)
        backends = usable_backends(backends)
        if not isinstance(source, (str, bytes, os.PathLike)):
            source = bytes(_fresh(source).read()) if hasattr(source, 'read') else bytes(source)
        deadline = time.monotonic() + self.timeout
        self._num_opened += 1
        number = self._num_opened
        self._open_in_helper = None
        _, num_frames, fps, backend = self._request(
            ('open', label, source, tuple(backends), num_threads), deadline, label)
        self._open_in_helper = number
        return WatchedReader(self, label, num_frames, fps, backend, deadline, source, number)

    def read(self, path: str, inds: Sequence[int], backends: Sequence[str], num_threads: int,
             deadline: float, source: Optional[Source] = None,
             number: Optional[int] = None) -> Tuple[np.ndarray, str, int]:
        """``(frames, backend, num_frames)`` of :func:`read_frames` run in the helper;
        ``frames`` may be a read-only view of the shared buffer, valid until the next
        request. The helper decodes with the reader of open ``number`` when it still holds
        it, else it opens ``source`` (default: ``path``) again."""
        again = None if number is not None and number == self._open_in_helper else source
        (_, shape, dtype, backend, num_frames, via), data = self._request(
            ('read', path, again, [int(i) for i in inds], tuple(backends), num_threads),
            deadline, path, raw=True)
        self._open_in_helper = number
        dtype = np.dtype(dtype)
        if via == 'shm':
            frames = np.frombuffer(self._shm, dtype, int(np.prod(shape))).reshape(shape)
            frames.flags.writeable = False
        else:
            frames = np.frombuffer(data, dtype).reshape(shape)
        return frames, backend, num_frames


class WatchedReader:
    """A video opened in a :class:`DecodeWatchdog` helper, with the readers' interface.

    Attributes:
        path, num_frames, fps, backend: As the in-process readers'.
    """

    def __init__(self, watchdog: DecodeWatchdog, path: str, num_frames: int, fps: float,
                 backend: str, deadline: float, source: Optional[Source] = None,
                 number: Optional[int] = None) -> None:
        self.watchdog = watchdog
        self.path = path
        self.source = path if source is None else source
        self.number = number
        self.num_frames = num_frames
        self.fps = fps
        self.backend = backend
        self.deadline = deadline

    def read(self, inds: Sequence[int], backends: Sequence[str] = DEFAULT_BACKENDS,
             num_threads: int = 1) -> np.ndarray:
        """Frames at sorted unique ``inds`` with :func:`read_frames`' fallbacks, decoded in the
        helper before this video's deadline; updates ``backend`` / ``num_frames``. The array
        is read-only and valid until the watchdog's next request: copy it to keep it."""
        frames, self.backend, self.num_frames = self.watchdog.read(
            self.path, inds, backends, num_threads, self.deadline, self.source, self.number)
        return frames

    def get_frames(self, inds: Sequence[int]) -> np.ndarray:
        """Frames at sorted unique ``inds`` with this reader's backend only (a copy)."""
        return self.read(inds, backends=(self.backend, )).copy()


_WATCHDOGS = {}


def get_watchdog(timeout: float = DEFAULT_TIMEOUT) -> DecodeWatchdog:
    """The watchdog of this process for ``timeout`` (one helper per process and limit)."""
    key = (os.getpid(), float(timeout))
    if key not in _WATCHDOGS:
        _WATCHDOGS[key] = DecodeWatchdog(timeout)
    return _WATCHDOGS[key]
