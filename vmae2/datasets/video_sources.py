"""Where a video comes from: a path, the file's bytes, or a seekable binary file object.

Shards (tar/litdata members) hand the data paths bytes rather than paths; the readers of
:mod:`vmae2.datasets.video_readers` accept all three through these helpers. A file object is
shared by the readers that try it in turn (the fallbacks), so each one rewinds it first.
"""
import io
import os
from typing import BinaryIO, NamedTuple, Optional, Union

#: What a video reader opens: a path, the file's bytes, or a seekable binary file object.
Source = Union[str, bytes, bytearray, memoryview, BinaryIO]


class NamedBytes(bytes):
    """A video's bytes with the name that messages give it (a shard member's file name), so a
    bad one is reported by name as a bad file is; survives pickling (the watchdog's pipe)."""

    def __new__(cls, data, name: str):
        obj = super().__new__(cls, data)
        obj.name = name
        return obj

    def __reduce__(self):
        return type(self), (bytes(self), self.name)


def source_label(source: Source) -> str:
    """How messages name ``source``: its path, its ``name`` (:class:`NamedBytes`, an open
    file), else ``<N bytes>`` / ``<BytesIO>``."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    name = getattr(source, 'name', None)
    if isinstance(name, str) and name:
        return name
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f'<{memoryview(source).nbytes} bytes>'
    return f'<{type(source).__name__}>'


def _fresh(source: Source):
    """``source`` as a decoder opens it: a path as it is, bytes as a new ``BytesIO``, a file
    object rewound (several readers - the fallbacks - read the same object in turn)."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(source)
    source.seek(0)
    return source


def _head(source: Source, size: int = 12) -> bytes:
    """The first ``size`` bytes of ``source`` (b'' when it cannot be read)."""
    try:
        if isinstance(source, (str, os.PathLike)):
            with open(source, 'rb') as f:
                return f.read(size)
        if isinstance(source, (bytes, bytearray, memoryview)):
            return bytes(source[:size])
        source.seek(0)
        return source.read(size)
    except OSError:
        return b''


def container_of(source: Source) -> Optional[str]:
    """``'avi'`` for a RIFF/AVI file (by its first 12 bytes, whatever its name), else None."""
    head = _head(source)
    return 'avi' if head[:4] == b'RIFF' and head[8:12] in (b'AVI ', b'AVIX') else None


class StreamInfo(NamedTuple):
    """What the rules of :data:`~vmae2.datasets.video_readers.OFF_RULES` look at."""
    container: str  # FFmpeg's demuxer name, first alias: 'avi', 'mov' (MP4), 'matroska'...
    codec: str  # 'h264', 'mpeg4' (MPEG-4 part 2: XviD, DivX), 'vp9'...
    b_frames: bool  # the decoder reorders frames (B-frames, packed or not)


def stream_info(source: Source) -> Optional[StreamInfo]:
    """The first video stream's container, codec and B-frame flag, from PyAV's probe of the
    headers (~3 ms, a few packets; no full decode); None when PyAV cannot read it (the
    backend then finds out for itself)."""
    import av
    try:
        with av.open(_fresh(source)) as container:
            stream = container.streams.video[0]
            return StreamInfo(container.format.name.split(',')[0], stream.codec_context.name,
                              bool(stream.codec_context.has_b_frames))
    except Exception:  # av.error.FFmpegError, IndexError (no video stream)
        return None
