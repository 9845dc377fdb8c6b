"""A generated corpus of broken files and unusual encodes, for the data-path fuzz tests.

Every file is written with PyAV in a fraction of a second (tiny frames, few frames), so the
corpus is made in the test session rather than shipped. ``KINDS`` says for each file whether
the data paths must treat it as *bad* (no readable video frame: the rule of
``vmae2.datasets``) or decode it (at least one frame, whatever its size, codec or rate).

Broken kinds are derived from one ordinary H.264 MP4 (``base.mp4``, index at the end as
FFmpeg writes it by default): truncations lose the index, the header-only file keeps the
``ftyp``/``moov`` boxes of a fast-start copy without its frames, the bit-flipped one has one
bit of every 7 bytes flipped from offset 0 on (its boxes no longer parse).
"""
import fractions
import os
import os.path as osp
from typing import Dict, List, NamedTuple

import av
import numpy as np


class Kind(NamedTuple):
    """One corpus file: its name, whether it is bad, and what it tests."""
    name: str
    bad: bool
    why: str


KINDS: List[Kind] = [
    # ---- broken: no readable video frame
    Kind('empty.mp4', True, '0 bytes'),
    Kind('truncated_10.mp4', True, 'first 10 % of the file'),
    Kind('truncated_50.mp4', True, 'first 50 %'),
    Kind('truncated_95.mp4', True, 'first 95 % (the index at the end is lost)'),
    Kind('header_only.mp4', True, 'ftyp + moov of a fast-start file, no frame data'),
    Kind('text.mp4', True, 'a text file with a video name'),
    Kind('random.mp4', True, 'random bytes'),
    Kind('bitflip.mp4', True, 'one bit of every 7 bytes flipped'),
    Kind('zero_header.mp4', True, 'first 4 KiB zeroed'),
    Kind('folder.mp4', True, 'a folder named like a video'),
    Kind('dangling.mp4', True, 'a symbolic link to nothing'),
    Kind('missing.mp4', True, 'listed, not on disk'),
    Kind('audio_only.mp4', True, 'AAC audio, no video stream'),
    # ---- unusual but valid: must be decoded
    Kind('one_frame.mp4', False, 'a single frame'),
    Kind('three_frames.mp4', False, 'fewer frames than a clip (looped)'),
    Kind('tiny_16x16.mp4', False, '16 x 16 pixels'),
    Kind('odd_33x17.mkv', False, 'odd sizes (4:4:4 H.264 in Matroska)'),
    Kind('tall_32x96.mp4', False, 'portrait, 32 wide x 96 high'),
    Kind('narrow_48x320.mp4', False, "48 wide H.264: decord's from_size == to_size failure"),
    Kind('mpeg4.avi', False, 'MPEG-4 part 2 in AVI'),
    Kind('yuv444.mp4', False, 'H.264 High 4:4:4'),
    Kind('vfr.mkv', False, 'variable frame rate (irregular timestamps)'),
    Kind('overcount.mp4', False, 'fast-start file cut at 60 %: the index counts more frames '
         'than the data holds (first frames readable)'),
]
NUM_BAD = sum(k.bad for k in KINDS)


def _frames(n: int, h: int, w: int, seed: int) -> np.ndarray:
    """``(n, h, w, 3)`` uint8: a texture with a bar moving one column a frame."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 200, (h, w, 3), dtype=np.uint8)
    out = np.repeat(base[None], n, 0)
    for t in range(n):
        out[t, :, t % w] = 255
    return out


def write_clip(path: str, frames: np.ndarray, codec: str = 'libx264', pix_fmt: str = 'yuv420p',
               rate: int = 10, pts: List[int] = None, options: Dict[str, str] = None) -> str:
    """Encodes ``frames`` (``(T, H, W, 3)`` RGB) to ``path``; ``pts`` in 1/1000 s gives
    irregular timestamps."""
    with av.open(path, 'w', options=options or {}) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = pix_fmt
        if codec == 'libx264':
            stream.options = {'preset': 'ultrafast', 'asm': '0'}
        if pts is not None:
            stream.codec_context.time_base = fractions.Fraction(1, 1000)
        for t, img in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(img, format='rgb24')
            if pts is not None:
                frame.pts, frame.time_base = pts[t], fractions.Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def _write_audio_only(path: str) -> None:
    with av.open(path, 'w') as out:
        stream = out.add_stream('aac', rate=16000)
        samples = (np.sin(np.arange(16000) / 8) * 0.3).astype(np.float32)[None]
        frame_len = stream.codec_context.frame_size or 1024
        for i in range(0, samples.shape[1] - frame_len, frame_len):
            frame = av.AudioFrame.from_ndarray(samples[:, i:i + frame_len], format='fltp',
                                               layout='mono')
            frame.sample_rate, frame.pts = 16000, i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def make_corpus(root: str) -> Dict[str, str]:
    """Writes the corpus into ``root`` (once: a finished corpus is reused) and returns
    ``{kind name: path}`` for every entry of ``KINDS`` (``missing.mp4``'s path does not exist).
    """
    paths = {k.name: osp.join(root, k.name) for k in KINDS}
    done = osp.join(root, '.complete')
    if osp.isfile(done):
        return paths
    os.makedirs(root, exist_ok=True)
    base = write_clip(osp.join(root, 'base.mp4'), _frames(24, 32, 64, 0))
    fast = write_clip(osp.join(root, 'base_faststart.mp4'), _frames(40, 32, 64, 1),
                      options={'movflags': 'faststart'})
    data = open(base, 'rb').read()
    fast_data = open(fast, 'rb').read()
    mdat = fast_data.index(b'mdat') - 4  # start of the frame data box in the fast-start copy

    def put(name: str, payload: bytes) -> None:
        with open(paths[name], 'wb') as f:
            f.write(payload)

    put('empty.mp4', b'')
    for share in (10, 50, 95):
        put(f'truncated_{share}.mp4', data[:len(data) * share // 100])
    put('header_only.mp4', fast_data[:mdat])
    put('text.mp4', b'this is not a video\n' * 40)
    put('random.mp4', np.random.default_rng(0).integers(0, 256, 6000, np.uint8).tobytes())
    flipped = bytearray(data)
    for i in range(0, len(flipped), 7):
        flipped[i] ^= 1 << (i % 8)
    put('bitflip.mp4', bytes(flipped))
    put('zero_header.mp4', bytes(4096) + data[4096:])
    os.makedirs(paths['folder.mp4'], exist_ok=True)
    if not osp.lexists(paths['dangling.mp4']):
        os.symlink(osp.join(root, 'no_such_target.mp4'), paths['dangling.mp4'])
    _write_audio_only(paths['audio_only.mp4'])

    write_clip(paths['one_frame.mp4'], _frames(1, 32, 64, 2))
    write_clip(paths['three_frames.mp4'], _frames(3, 32, 64, 3))
    write_clip(paths['tiny_16x16.mp4'], _frames(8, 16, 16, 4))
    write_clip(paths['odd_33x17.mkv'], _frames(8, 17, 33, 5), pix_fmt='yuv444p')
    write_clip(paths['tall_32x96.mp4'], _frames(8, 96, 32, 6))
    write_clip(paths['narrow_48x320.mp4'], _frames(8, 320, 48, 7))
    write_clip(paths['mpeg4.avi'], _frames(12, 32, 64, 8), codec='mpeg4')
    write_clip(paths['yuv444.mp4'], _frames(8, 32, 64, 9), pix_fmt='yuv444p')
    write_clip(paths['vfr.mkv'], _frames(10, 32, 64, 10),
               pts=[0, 40, 60, 200, 210, 400, 450, 700, 720, 1000])
    put('overcount.mp4', fast_data[:len(fast_data) * 60 // 100])
    open(done, 'w').close()
    return paths
