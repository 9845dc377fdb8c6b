"""StreamingPretrainDataset and ShardAwareSampler: a packed clip gives exactly what the list-file
dataset gives for it, ranks get disjoint blocks of equal size, the order resumes from a saved
position (StreamingResumeHook: on --resume, not on load_from), and a corrupt or truncated
member is a bad sample (counted, replaced). (Packing and the
kill-and-resume training run: tests/tools/test_pack_shards.py.)"""
import os.path as osp
import runpy
import shutil
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
from torch.utils.data import DataLoader

from tests.helpers import REPO
from vmae2.datasets import (
    SampleKey,
    ShardAwareSampler,
    StreamingPretrainDataset,
    StreamingResumeHook,
    TooManyBadSamplesError,
    VideoPretrainDataset,
    flatten_views_collate,
)
from vmae2.datasets.streaming_dataset import read_index

TOOL = runpy.run_path(osp.join(REPO, 'tools', 'data', 'pack_shards.py'))
LOAD = [
    dict(type='VideoInit', timeout=None),
    dict(type='SampleClip', clip_len=4, frame_interval=2),
    dict(type='VideoDecode'),
]
VIEWS = [
    dict(type='MultiScaleCrop', input_size=32, scales=(1, .875, .75, .66), max_wh_scale_gap=1,
         random_crop=False, num_fixed_crops=13),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),
    dict(type='PackActionInputs',
         meta_keys=('filename', 'frame_inds', 'view_idx', 'source_idx', 'mask_seed')),
]


def list_sources(tmp_path, synthetic_root, n_a=8, n_b=4):
    """Two list-file sources over the synthetic clips (b with its own frame interval)."""
    with open(osp.join(synthetic_root, 'pretrain_list.txt')) as f:
        videos = [line.split()[0] for line in f][:n_a + n_b]
    (tmp_path / 'a.txt').write_text(''.join(f'{v} 0 -1\n' for v in videos[:n_a]))
    (tmp_path / 'b.txt').write_text(''.join(f'{v}\n' for v in videos[n_a:]))
    return [dict(name='a', ann_file=str(tmp_path / 'a.txt'), root=synthetic_root),
            dict(name='b', ann_file=str(tmp_path / 'b.txt'), root=synthetic_root,
                 frame_interval=3)]


def pack_sources(sources, out, **kwargs):
    ds = VideoPretrainDataset(sources=sources, pipeline=[], lazy_init=True)
    specs = [dict(name=n, frame_interval=s.get('frame_interval'))
             for n, s in zip(ds.source_names, ds.sources)]
    return TOOL['pack'](specs, ds.load_data_list(), str(out), **kwargs)


@pytest.fixture(scope='module')
def packed(tmp_path_factory, synthetic_root):
    """(list sources, pack folder): 12 clips, in list order, ~4 clips per shard."""
    tmp = tmp_path_factory.mktemp('streaming')
    sources = list_sources(tmp, synthetic_root)
    size = osp.getsize(osp.join(synthetic_root, 'videos', 'c0_0000.mp4'))
    pack_sources(sources, tmp / 'pack', shard_size_mb=3.5 * size / 2**20, shuffle=False)
    return sources, str(tmp / 'pack')


def test_a_packed_clip_gives_what_the_list_file_dataset_gives(packed):
    sources, pack = packed
    ds = StreamingPretrainDataset(pack, LOAD, VIEWS, num_sample=2)
    ref = VideoPretrainDataset(sources, LOAD, VIEWS, num_sample=2)
    assert len(ds) == len(ref) == 12 and ds.source_names == ['a', 'b']
    ranges = ds.shard_ranges  # ~3.5 clips per shard, consecutive, covering the 12
    assert len(ranges) >= 3 and ranges[0][0] == 0 and ranges[-1][1] == 12
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
    for i in (0, 9):  # unshuffled pack: the same index is the same clip
        got, want = ds[SampleKey(i, 2, 7)], ref[SampleKey(i, 2, 7)]
        assert [v['data_samples'].view_idx for v in got] == [0, 1]
        for g, w in zip(got, want):
            assert g['inputs'].shape == (3, 4, 32, 32)  # (C, T, H, W) uint8
            assert torch.equal(g['inputs'], w['inputs'])
            gm, wm = g['data_samples'].metainfo, w['data_samples'].metainfo
            for key in ('filename', 'source_idx', 'mask_seed'):
                assert gm[key] == wm[key], key
            assert np.array_equal(gm['frame_inds'], wm['frame_inds'])
    # the source's packed frame interval reaches SampleClip (3 for b, the default 2 for a)
    assert np.diff(ds[SampleKey(9, 0, 1)][0]['data_samples'].frame_inds).tolist() == [3] * 3
    assert np.diff(ds[SampleKey(0, 0, 1)][0]['data_samples'].frame_inds).tolist() == [2] * 3


def test_source_overrides_and_weights(packed):
    _, pack = packed
    ds = StreamingPretrainDataset(
        pack, [], sources=[dict(name='a', weight=1.0), dict(name='b', weight=3.0,
                                                            frame_interval=5)], seed=0)
    picks = [ds._pick(i, 0, 0, 0) for i in range(2000)]
    share_b = np.mean([ds.get_data_info(p)['source_idx'] == 1 for p in picks])
    assert abs(share_b - 0.75) < 0.03  # weights, not the 8:4 sizes
    assert ds.get_data_info(9)['frame_interval'] == 5
    with pytest.raises(ValueError, match=r"sources \['c'\] are not in the packs"):
        StreamingPretrainDataset(pack, [], sources=[dict(name='c', weight=1.0)])
    with pytest.raises(FileNotFoundError, match='pack the sources first'):
        StreamingPretrainDataset(osp.join(pack, 'nowhere'), [])


def test_two_ranks_get_disjoint_equal_blocks_of_whole_shards(packed):
    _, pack = packed
    ds = StreamingPretrainDataset(pack, [])
    ds.shard_ranges = [(0, 4), (4, 8), (8, 11), (11, 12)]  # 11 + 1: an odd total
    ranks = [ShardAwareSampler(ds, seed=3, rank=r, world_size=2) for r in (0, 1)]
    blocks = [[k.index for k in s] for s in ranks]
    assert [len(b) for b in blocks] == [len(s) for s in ranks] == [6, 6]
    assert not set(blocks[0]) & set(blocks[1])  # disjoint; 12 = 2 x 6, nothing dropped
    order = ranks[0].epoch_order(0)
    shard_of = np.searchsorted([hi for _, hi in ds.shard_ranges], order, side='right')
    assert (np.diff(shard_of) != 0).sum() == 3  # shard after shard: one change per boundary
    again = [k.index for k in ShardAwareSampler(ds, seed=3, rank=0, world_size=2)]
    assert again == blocks[0]  # a pure function of (seed, epoch, world size)
    ranks[0].set_epoch(1)
    assert [k.index for k in ranks[0]] != blocks[0]
    assert {k.epoch for k in ranks[0]} == {1} and {k.seed for k in ranks[0]} == {3}
    three = [ShardAwareSampler(ds, seed=3, rank=r, world_size=5) for r in range(5)]
    assert [len(s) for s in three] == [2] * 5  # 12 // 5: the last 2 of the epoch dropped
    assert len({k.index for s in three for k in s}) == 10


def test_sampler_resumes_at_its_saved_position(packed):
    _, pack = packed
    ds = StreamingPretrainDataset(pack, [])
    sampler = ShardAwareSampler(ds, seed=1, rank=1, world_size=2)
    sampler.set_epoch(4)
    full = list(sampler)
    sampler.position = 4
    state = sampler.state_dict()
    fresh = ShardAwareSampler(ds, seed=1, rank=1, world_size=2)
    fresh.load_state_dict(state)
    fresh.set_epoch(4)  # DistSamplerSeedHook at the resumed epoch: the start is kept
    assert list(fresh) == full[4:] and len(fresh) == 2
    fresh.set_epoch(5)
    assert len(fresh) == 6 and fresh.start == 0
    other = ShardAwareSampler(ds, seed=1, rank=0, world_size=3)
    with pytest.raises(ValueError, match='its position means other clips here'):
        other.load_state_dict(state)


def _member(pack, i):
    index = read_index(pack)
    rows = [(shard['file'], row) for shard in index['shards'] for row in shard['members']]
    return osp.join(pack, rows[i][0]), rows[i][1]


def test_a_corrupt_member_is_a_bad_video_counted_and_replaced(packed, tmp_path):
    _, pack = packed
    bad = str(tmp_path / 'pack')
    shutil.copytree(pack, bad)
    shard, (offset, size, _, source, path, _) = _member(bad, 5)
    with open(shard, 'r+b') as f:  # garbage over the middle of member 5's bytes
        f.seek(offset + size // 3)
        f.write(b'\x00' * 64)
    ds = StreamingPretrainDataset(bad, LOAD, VIEWS)
    item = ds[SampleKey(5, 0, 0)]
    assert ds.tracker.num_bad == 1 and ds.tracker.num_good == 1
    assert path in ds.tracker.examples[0] and 'checksum mismatch' in ds.tracker.examples[0]
    assert item['data_samples'].filename != path  # replaced by another clip of its source
    assert item['data_samples'].source_idx == source == 0
    # a shard cut short: its last members are short reads, also bad samples
    last = osp.join(bad, read_index(bad)['shards'][-1]['file'])
    with open(last, 'r+b') as f:
        f.truncate(512)
    ds = StreamingPretrainDataset(bad, LOAD, VIEWS, max_bad_ratio=0.0, min_tried=1)
    with pytest.raises(TooManyBadSamplesError, match='truncated shard'):
        ds[SampleKey(11, 0, 0)]


def test_resume_hook_saves_the_position_and_restores_it_on_resume_only(packed):
    ds = StreamingPretrainDataset(packed[1], [])
    sampler = ShardAwareSampler(ds, seed=2)
    loader = SimpleNamespace(sampler=sampler, batch_size=3)
    runner = SimpleNamespace(train_dataloader=loader, iter=7, epoch=1,
                             train_loop=object.__new__(EpochBasedTrainLoop))
    hook = StreamingResumeHook()
    sampler.set_epoch(1)
    hook.after_train_iter(runner, batch_idx=1)  # 2 batches of 3 clips into epoch 2
    ckpt = dict(meta=dict(epoch=1, iter=8))
    hook.before_save_checkpoint(runner, ckpt)
    assert ckpt['meta']['streaming_sampler']['position'] == 6

    def restarted(iter_, epoch):
        fresh = ShardAwareSampler(ds, seed=2)
        run = SimpleNamespace(train_dataloader=SimpleNamespace(sampler=fresh, batch_size=3),
                              iter=iter_, epoch=epoch, train_loop=runner.train_loop)
        new = StreamingResumeHook()
        new.after_load_checkpoint(run, ckpt)
        new.before_train(run)
        return fresh
    assert restarted(8, 1).start == 6 and len(restarted(8, 1)) == 6  # --resume
    assert restarted(0, 0).start == 0  # load_from: the weights only, a fresh epoch
    runner.train_loop = object.__new__(IterBasedTrainLoop)
    with pytest.raises(ValueError, match='needs train_cfg type EpochBasedTrainLoop'):
        hook.before_train(runner)


def test_worker_processes_read_the_same_items(packed):
    """Forked DataLoader workers (after the main process has read the same shards) read the
    members by offset and seed each sample by its key: 2 workers give what 0 workers give."""
    ds = StreamingPretrainDataset(packed[1], LOAD, VIEWS, num_sample=2)
    batches = {}
    for workers in (0, 2):
        sampler = ShardAwareSampler(ds, seed=4, rank=1, world_size=2)
        loader = DataLoader(ds, batch_size=2, sampler=sampler, num_workers=workers,
                            collate_fn=flatten_views_collate)
        batches[workers] = [(b['inputs'], [s.filename for s in b['data_samples']])
                            for b in loader]
    assert len(batches[0]) == 3  # 6 clips of this rank, 2 views each
    for (x0, f0), (x2, f2) in zip(batches[0], batches[2]):
        assert f0 == f2 and all(torch.equal(a, b) for a, b in zip(x0, x2))
