"""VideoPretrainDataset: the multi-source mix, repeated augmentation (views of one decode, each
with its own mask seed), per-sample seeding independent of workers, bad files replaced and
counted. (List files: test_list_file.py; readers: test_video_loading.py.)"""
import os.path as osp

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from vmae2.datasets import (
    BadVideoError,
    EpochSeededSampler,
    ListFileError,
    SampleKey,
    TooManyBadSamplesError,
    VideoPretrainDataset,
    flatten_views_collate,
    open_video,
)

LOAD = [
    dict(type='VideoInit'),
    dict(type='SampleClip', clip_len=4, frame_interval=2),
    dict(type='VideoDecode'),
]
VIEWS = [
    dict(type='MultiScaleCrop', input_size=32, scales=(1, .875, .75, .66), max_wh_scale_gap=1,
         random_crop=False, num_fixed_crops=13),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),
    dict(type='PackActionInputs',
         meta_keys=('filename', 'frame_inds', 'view_idx', 'crop_bbox', 'mask_seed')),
]


def write_list(path, lines):
    path.write_text(''.join(f'{line}\n' for line in lines))
    return str(path)


def synthetic_videos(root, n):
    with open(osp.join(root, 'pretrain_list.txt')) as f:
        return [line.split()[0] for line in f][:n]


def _dataset(tmp_path, synthetic_root, n=4, **kwargs):
    ann = write_list(tmp_path / 'l.txt', [f'{v} 0 -1' for v in synthetic_videos(synthetic_root, n)])
    kwargs.setdefault('pipeline', LOAD)
    kwargs.setdefault('view_pipeline', VIEWS)
    return VideoPretrainDataset(sources=[dict(ann_file=ann, root=synthetic_root)], **kwargs)


# ----------------------------------------------------------------------------- the mix
def test_mix_without_weights_draws_each_video_once(tmp_path, synthetic_root):
    videos = synthetic_videos(synthetic_root, 24)
    a = write_list(tmp_path / 'a.txt', [f'{v} 0 -1' for v in videos[:18]])
    b = write_list(tmp_path / 'b.txt', [f'{v} 3' for v in videos[18:]])  # mmaction2 layout
    ds = VideoPretrainDataset(
        sources=[dict(ann_file=a, root=synthetic_root), dict(ann_file=b, root=synthetic_root,
                                                             frame_interval=3)],
        pipeline=[], seed=0)
    assert len(ds) == 24 and ds.source_ranges == [(0, 18), (18, 24)]
    sampler = EpochSeededSampler(ds, shuffle=True, seed=5)
    items = [ds[key] for key in sampler]
    assert sorted(it['sample_idx'] for it in items) == list(range(24))
    assert sum(it['source_idx'] == 0 for it in items) == 18
    assert all(it.get('frame_interval') == (3 if it['source_idx'] else None) for it in items)


def test_mix_with_weights_follows_weights_not_sizes(tmp_path, synthetic_root):
    videos = synthetic_videos(synthetic_root, 24)
    a = write_list(tmp_path / 'a.txt', [f'{v} 0 -1' for v in videos[:20]])
    b = write_list(tmp_path / 'b.txt', [f'{v} 0 -1' for v in videos[20:]])
    ds = VideoPretrainDataset(
        sources=[dict(ann_file=a, root=synthetic_root, weight=1.0),
                 dict(ann_file=b, root=synthetic_root, weight=3.0)],
        pipeline=[], seed=0)
    draws = [ds[SampleKey(i % len(ds), i // len(ds), 0)] for i in range(4000)]
    share_b = np.mean([d['source_idx'] == 1 for d in draws])
    assert abs(share_b - 0.75) < 0.03  # 3 / (1 + 3), although b holds 4 of 24 videos
    in_b = {d['sample_idx'] for d in draws if d['source_idx'] == 1}
    assert in_b == set(range(20, 24))  # uniform inside the source: all its videos drawn
    with pytest.raises(ValueError, match='every source or to none'):
        VideoPretrainDataset(sources=[dict(ann_file=a, weight=1.0), dict(ann_file=b)],
                             pipeline=[])


def test_unknown_source_key_and_malformed_list_fail_at_startup(tmp_path, synthetic_root):
    with pytest.raises(ValueError, match="unknown keys \\['frame_intreval'\\]"):
        VideoPretrainDataset(sources=[dict(ann_file='a.txt', frame_intreval=2)], pipeline=[])
    f = tmp_path / 'broken.txt'
    f.write_text('videos/a.mp4 0 -1\nvideos/b.mp4 0\n')  # 2 columns after 3: still valid
    ds = VideoPretrainDataset(sources=[dict(ann_file=str(f), layout='official')], pipeline=LOAD,
                              lazy_init=True)
    with pytest.raises(ListFileError, match='broken.txt:2'):
        ds.full_init()


def test_source_frame_interval_reaches_the_sampler(tmp_path, synthetic_root):
    ann = write_list(tmp_path / 'l.txt', [f'{v} 0 -1' for v in synthetic_videos(synthetic_root, 2)])
    ds = VideoPretrainDataset(sources=[dict(ann_file=ann, root=synthetic_root, frame_interval=1)],
                              pipeline=LOAD, num_sample=1, seed=0)
    out = ds[0]
    assert out['frame_interval'] == 1
    assert np.all(np.diff(out['frame_inds']) == 1)


# ----------------------------------------------------------------------------- num_sample
def test_num_sample_views_share_one_decode(tmp_path, synthetic_root, monkeypatch):
    from vmae2.datasets.transforms import loading
    calls = []
    real = loading.VideoDecode.transform

    def counting(self, results):
        calls.append(1)
        return real(self, results)

    monkeypatch.setattr(loading.VideoDecode, 'transform', counting)
    ds = _dataset(tmp_path, synthetic_root, num_sample=3)
    views = ds[SampleKey(1, 0, 0)]
    assert len(views) == 3 and len(calls) == 1  # one decode for the three views
    metas = [v['data_samples'].metainfo for v in views]
    assert [m['view_idx'] for m in metas] == [0, 1, 2]
    assert all(np.array_equal(m['frame_inds'], metas[0]['frame_inds']) for m in metas)
    assert all(m['filename'] == metas[0]['filename'] for m in metas)
    inputs = [v['inputs'] for v in views]
    assert all(x.dtype == torch.uint8 and x.shape == (3, 4, 32, 32) for x in inputs)
    boxes = {tuple(m['crop_bbox']) for m in metas}
    assert len(boxes) >= 2  # independent crops
    # every view has its own mask seed: the seed of its own augmentation stream
    seeds = [m['mask_seed'] for m in metas]
    assert len(set(seeds)) == 3 and all(isinstance(s, int) for s in seeds)
    again = ds[SampleKey(1, 0, 0)]  # same key, same views and mask seeds
    assert all(torch.equal(x, y['inputs']) for x, y in zip(inputs, again))
    assert [v['data_samples'].mask_seed for v in again] == seeds
    other_epoch = ds[SampleKey(1, 1, 0)]
    assert not all(torch.equal(x, y['inputs']) for x, y in zip(inputs, other_epoch))
    assert not {v['data_samples'].mask_seed for v in other_epoch} & set(seeds)
    batch = flatten_views_collate([views, again])
    assert len(batch['inputs']) == 6
    assert [s.view_idx for s in batch['data_samples']] == [0, 1, 2, 0, 1, 2]


# ----------------------------------------------------------------------------- seeding
def test_same_key_same_sample_any_process_state(tmp_path, synthetic_root):
    ds = _dataset(tmp_path, synthetic_root, num_sample=2, seed=0)
    a = ds[SampleKey(3, 1, 7)]
    torch.manual_seed(123)
    np.random.seed(123)
    b = ds[SampleKey(3, 1, 7)]
    for va, vb in zip(a, b):
        assert torch.equal(va['inputs'], vb['inputs'])
        assert va['data_samples'].mask_seed == vb['data_samples'].mask_seed
    # unseeded (bare index, no dataset seed): the mask seed comes from the worker's generator
    unseeded = _dataset(tmp_path, synthetic_root, num_sample=2)
    np.random.seed(1)
    s1 = [v['data_samples'].mask_seed for v in unseeded[0]]
    np.random.seed(1)
    assert [v['data_samples'].mask_seed for v in unseeded[0]] == s1 and s1[0] != s1[1]


def _batches(ds, num_workers, epoch):
    sampler = EpochSeededSampler(ds, shuffle=True, seed=7)
    sampler.set_epoch(epoch)
    loader = DataLoader(ds, batch_size=2, sampler=sampler, num_workers=num_workers,
                        collate_fn=flatten_views_collate)
    return [(torch.stack(b['inputs']), [s.mask_seed for s in b['data_samples']])
            for b in loader]


def test_seeded_results_do_not_depend_on_worker_count(tmp_path, synthetic_root):
    ds = _dataset(tmp_path, synthetic_root, n=6, num_sample=2)
    torch.manual_seed(123)  # the global state must not matter either
    single = _batches(ds, 0, epoch=0)
    torch.manual_seed(456)
    two = _batches(ds, 2, epoch=0)
    assert len(single) == 3 and single[0][0].shape == (4, 3, 4, 32, 32)
    for (x1, m1), (x2, m2) in zip(single, two):
        assert torch.equal(x1, x2) and m1 == m2
    next_epoch = _batches(ds, 0, epoch=1)
    assert not all(torch.equal(a[0], b[0]) for a, b in zip(single, next_epoch))


# ----------------------------------------------------------------------------- bad files
def _bad_files(tmp_path, synthetic_root):
    good = osp.join(synthetic_root, synthetic_videos(synthetic_root, 1)[0])
    corrupt = tmp_path / 'corrupt.mp4'
    corrupt.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, np.uint8).tobytes())
    fake_header = tmp_path / 'fake_header.mp4'
    fake_header.write_bytes(b'\x00\x00\x00 ftypisom' + bytes(range(256)) * 20)
    truncated = tmp_path / 'truncated.mp4'
    data = open(good, 'rb').read()
    truncated.write_bytes(data[:len(data) // 3])
    empty = tmp_path / 'zero_frames.mp4'
    from vmae2.datasets.synthetic_motion import write_video
    write_video(str(empty), np.zeros((0, 64, 64, 3), np.uint8))
    return [str(corrupt), str(fake_header), str(truncated), str(empty),
            str(tmp_path / 'missing.mp4')]


def test_bad_files_are_skipped_and_counted(tmp_path, synthetic_root):
    bad = _bad_files(tmp_path, synthetic_root)
    good = [osp.join(synthetic_root, v) for v in synthetic_videos(synthetic_root, 8)]
    ann = write_list(tmp_path / 'l.txt', [f'{p} 0 -1' for p in good + bad])
    ds = VideoPretrainDataset(sources=[dict(ann_file=ann)], pipeline=LOAD, view_pipeline=VIEWS,
                              num_sample=1, max_bad_ratio=0.9, min_tried=1)
    ds.tracker.num_examples = 50  # keep every bad event (replacements may repeat bad files)
    out = [ds[SampleKey(i, 0, 0)] for i in range(len(ds))]
    # each bad item is replaced by a readable one of the same source
    assert all(o['data_samples'].filename in good for o in out)
    assert all(o['inputs'].shape == (3, 4, 32, 32) for o in out)
    tracker = ds.tracker
    assert tracker.num_good == 13  # one success per item
    assert tracker.num_bad >= 5  # each bad file at least once (replacements may hit bad ones)
    seen_bad = {e.split(' (')[0] for e in tracker.examples}
    assert seen_bad == set(bad)
    with pytest.raises(BadVideoError, match='file not found'):
        open_video(bad[-1])


def test_too_many_bad_files_stop_with_examples(tmp_path, synthetic_root):
    bad = _bad_files(tmp_path, synthetic_root)
    good = [osp.join(synthetic_root, v) for v in synthetic_videos(synthetic_root, 2)]
    ann = write_list(tmp_path / 'l.txt', [f'{p} 0 -1' for p in good + bad])
    ds = VideoPretrainDataset(sources=[dict(ann_file=ann)], pipeline=LOAD, view_pipeline=VIEWS,
                              max_bad_ratio=0.3, min_tried=4)
    with pytest.raises(TooManyBadSamplesError) as info:
        for i in range(len(ds)):
            ds[SampleKey(i, 0, 0)]
    msg = str(info.value)
    assert 'max_bad_ratio=30.0%' in msg and 'could not be read' in msg
    assert any(p in msg for p in bad)
    # a source made only of bad files gives up after max_retries, naming them
    ann = write_list(tmp_path / 'all_bad.txt', [f'{p} 0 -1' for p in bad])
    ds = VideoPretrainDataset(sources=[dict(ann_file=ann)], pipeline=LOAD, max_retries=3,
                              min_tried=100)
    with pytest.raises(TooManyBadSamplesError, match='4 samples in a row'):
        ds[0]
