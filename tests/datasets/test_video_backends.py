"""Every video backend against a sequential PyAV decode (the reference), on the real clips and on
generated clips with B-frames; the rules that keep a backend off where its frames are wrong;
sources given as paths, bytes and file objects (in process and through the decode watchdog)."""
import io
import os.path as osp

import av
import numpy as np
import pytest

from tests.datasets.fuzz_corpus import _frames
from vmae2.datasets import DecodeWatchdog, SampleClip, VideoDecode, VideoInit
from vmae2.datasets.video_readers import (
    OFF_RULES,
    BadVideoError,
    backend_status,
    open_video,
    read_frames,
    usable_backends,
)
from vmae2.datasets.video_sources import NamedBytes, stream_info

BACKENDS = ('torchcodec', 'decord', 'pyav')

# generated clips: (name, codec, B-frames); GOP 12, so that seeks land on several keyframes
GENERATED = [('h264_b.mp4', 'libx264', 3), ('h264_b.mkv', 'libx264', 3),
             ('h264_b.avi', 'libx264', 3), ('mpeg4_b.mp4', 'mpeg4', 2),
             ('mpeg4_b.avi', 'mpeg4', 2), ('mpeg4.avi', 'mpeg4', 0)]
# which backend reads each file when it is first in the order (the others: off by a rule)
READS = {
    'torchcodec': {'h264_b.avi': 'pyav', 'mpeg4_b.avi': 'pyav', 'eye_makeup.avi': 'pyav'},
    'decord': {'h264_b.avi': 'pyav', 'mpeg4_b.avi': 'pyav', 'mpeg4_b.mp4': 'pyav',
               'eye_makeup.avi': 'pyav'},
    'pyav': {},
}


def _need(backend):
    why = backend_status(backend)
    if why:
        pytest.skip(f'{backend} cannot be used here: {why}')


def _write(path, codec, b_frames, n=60):
    frames = _frames(n, 48, 64, 0)
    for t in range(n):  # a second bar moving down: every frame differs from its neighbours
        frames[t, (3 * t) % 44:(3 * t) % 44 + 4] = 250
    with av.open(path, 'w') as out:
        stream = out.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, 'yuv420p'
        stream.codec_context.gop_size = 12
        if codec == 'libx264':
            stream.options = {'preset': 'veryfast', 'bf': str(b_frames), 'keyint': '12',
                              'asm': '0'}
        else:
            stream.codec_context.max_b_frames = b_frames
        for img in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format='rgb24')):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


@pytest.fixture(scope='module')
def clips(tmp_path_factory, real_videos):
    """name -> (path, every frame of a sequential PyAV decode)."""
    root = tmp_path_factory.mktemp('bframes')
    paths = [_write(str(root / name), codec, bf) for name, codec, bf in GENERATED]
    out = {}
    for path in paths + sorted(real_videos):
        with av.open(path) as container:
            ref = [f.to_ndarray(format='rgb24') for f in container.decode(video=0)]
        out[osp.basename(path)] = (path, np.stack(ref))
    return out


def _index_sets(n, seed=0):
    """Sorted index sets as the samplers ask: 16 x 4 and 16 x 2 clips at random starts (repeat
    last when short), dense runs, the first and last frames."""
    rng = np.random.default_rng(seed)
    sets = [[0, 1, n // 2, n - 2, n - 1], list(range(min(n, 20))), list(range(n - 6, n))]
    for interval in (4, 2):
        for _ in range(2):
            start = int(rng.integers(0, max(1, n - 16 * interval)))
            sets.append(sorted({min(start + k * interval, n - 1) for k in range(16)}))
    return sets


def test_generated_clips_have_b_frames(clips):
    for name, codec, bf in GENERATED:
        info = stream_info(clips[name][0])
        assert info.b_frames == (bf > 0), name
        assert info.container == ('avi' if name.endswith('.avi') else
                                  'matroska' if name.endswith('.mkv') else 'mov')
    assert stream_info(clips['eye_makeup.avi'][0]) == ('avi', 'mpeg4', True)  # packed B-frames


@pytest.mark.parametrize('backend', BACKENDS)
def test_every_backend_gives_the_sequential_frames(clips, backend):
    """Frames equal to the sequential decode on every clip and index set; files the backend is
    off for are read by the next backend of the order (PyAV here)."""
    _need(backend)
    used = {}
    for name, (path, ref) in clips.items():
        for inds in _index_sets(len(ref)):
            reader = open_video(path, (backend, 'pyav'))
            frames, reader = read_frames(reader, inds, (backend, 'pyav'))
            assert np.array_equal(frames, ref[inds]), (name, backend, reader.backend, inds)
            used.setdefault(name, set()).add(reader.backend)
    assert used == {name: {READS[backend].get(name, backend)} for name in clips}


@pytest.mark.parametrize('backend,name', [('torchcodec', 'eye_makeup.avi'),
                                          ('torchcodec', 'h264_b.avi'),
                                          ('decord', 'mpeg4_b.avi'),
                                          ('decord', 'mpeg4_b.mp4')])
def test_the_rules_keep_off_real_errors(clips, backend, name):
    """What the rules guard against: the decoder itself, asked directly, gives frames of the
    wrong index (or fails) on these files. If this fails, a new release fixed it: drop the
    rule from OFF_RULES."""
    _need(backend)
    path, ref = clips[name]
    inds = list(range(0, len(ref), 4)) + [len(ref) - 1]
    try:
        if backend == 'torchcodec':
            from torchcodec.decoders import VideoDecoder
            got = VideoDecoder(path, dimension_order='NHWC').get_frames_at(inds).data.numpy()
        else:
            import decord
            got = decord.VideoReader(path, num_threads=1).get_batch(inds).asnumpy()
    except RuntimeError:  # torchcodec: "no more frames left to decode" at the last index
        return
    assert not np.array_equal(got, ref[inds])
    with pytest.raises(BadVideoError, match=f'{backend} is off for'):
        open_video(path, (backend, ))


def test_rules_name_only_known_backends():
    assert set(OFF_RULES) <= set(BACKENDS) and 'pyav' not in OFF_RULES


@pytest.mark.parametrize('backend', BACKENDS)
def test_sources_path_bytes_file_object(clips, backend):
    """A shard member given as bytes or a file object reads the same frames as its path; a
    file object shared by the fallbacks is rewound by each."""
    _need(backend)
    path, ref = clips['arm_wrestling_k400.mp4']
    inds = [3, 7, 100, 279]
    data = open(path, 'rb').read()
    buf = io.BytesIO(data)
    buf.read(1000)  # left mid-file: the reader rewinds it
    for source in (path, data, NamedBytes(data, 'shard/0001.mp4'), buf):
        reader = open_video(source, (backend, ))
        frames, reader = read_frames(reader, inds, (backend, ))
        assert reader.backend == backend and reader.num_frames == 280
        assert np.array_equal(frames, ref[inds])
    assert open_video(NamedBytes(data, 'shard/0001.mp4'), (backend, )).path == 'shard/0001.mp4'
    with pytest.raises(BadVideoError, match='^shard/bad.mp4: '):
        open_video(NamedBytes(data[:3000], 'shard/bad.mp4'), (backend, ))


def test_watchdog_reads_bytes_and_falls_back(clips):
    """Bytes go down to the helper once; a broken member is bad by its name; the helper's
    torchcodec (after a fork, one torch thread) decodes."""
    order = usable_backends(BACKENDS)
    watchdog = DecodeWatchdog(timeout=60)
    try:
        for name in ('pool_cleaning.mp4', 'eye_makeup.avi', 'mpeg4_b.mp4'):
            path, ref = clips[name]
            source = NamedBytes(open(path, 'rb').read(), name)
            reader = watchdog.open(source, order)
            frames = reader.read([0, 5, len(ref) - 1], order)
            assert np.array_equal(frames, ref[[0, 5, len(ref) - 1]]) and reader.path == name
            assert reader.backend == READS[order[0]].get(name, order[0])
        with pytest.raises(BadVideoError, match='^cut.mp4: '):
            watchdog.open(NamedBytes(open(path, 'rb').read()[:2000], 'cut.mp4'), order)
        assert watchdog.num_killed == 0
    finally:
        watchdog.close()


def test_video_init_reads_video_bytes(clips):
    """The loading transforms take ``video_bytes`` (shards): same frames, messages name it."""
    order = usable_backends(BACKENDS)
    path, ref = clips['arm_wrestling_k400.mp4']
    data = open(path, 'rb').read()
    for timeout in (None, 30):
        for source in (data, io.BytesIO(data)):
            steps = [VideoInit(backends=order, timeout=timeout),
                     SampleClip(clip_len=4, frame_interval=4), VideoDecode(backends=order)]
            np.random.seed(1)
            results = dict(filename='shard/a.mp4', video_bytes=source)
            for t in steps:
                results = t(results)
            assert results['decoder'] == order[0]
            assert np.array_equal(np.stack(results['imgs']), ref[results['frame_inds']])
        with pytest.raises(BadVideoError, match='^shard/b.mp4: '):
            VideoInit(backends=order, timeout=timeout)(dict(filename='shard/b.mp4',
                                                            video_bytes=b'not a video'))


def test_backend_names_are_checked():
    with pytest.raises(ValueError, match="unknown video backend 'torchcodek'"):
        VideoInit(backends=('torchcodek', 'pyav'))
    with pytest.raises(ValueError, match='sequence of names'):
        VideoDecode(backends='pyav')


def test_a_backend_that_cannot_load_is_skipped(monkeypatch, clips, recwarn):
    from vmae2.datasets import video_readers
    monkeypatch.setitem(video_readers._STATUS, 'torchcodec', 'RuntimeError: no FFmpeg (fix)')
    monkeypatch.setattr(video_readers, '_WARNED', set())
    path, ref = clips['pool_cleaning.mp4']
    reader = open_video(path, ('torchcodec', 'pyav'))
    assert reader.backend == 'pyav'
    assert any("'torchcodec' is skipped: RuntimeError: no FFmpeg" in str(w.message)
               for w in recwarn)
    with pytest.raises(RuntimeError, match='none of the video backends'):
        VideoInit(backends=('torchcodec', ))
