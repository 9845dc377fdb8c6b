"""Feature datasets: the feature <-> time conversion, the bad-input rules, the timeline-keeping
transforms, and the SyntheticTAL generator."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from tal_helpers import need_data

from projects.tal.tal_vmae2.datasets import (
    PackTALInputs,
    RandomTruncateFeats,
    ResizeFeats,
    TALFeatureDataset,
    expected_num_features,
    generate_synthetic_tal,
    seconds_to_steps,
)
from projects.tal.tal_vmae2.datasets.synthetic_tal import render_video

PIPELINE = [dict(type='LoadTALFeatures'), dict(type='PackTALInputs')]


def make_features(folder, videos, window=16, stride=4, dim=8, fix=None):
    """Feature files + a manifest as tools/extract_features.py writes them.

    ``videos``: ``{vid: (frames, fps)}``; ``fix``: ``{vid: num_features}`` to write a file of
    another length than the manifest says.
    """
    folder.mkdir(exist_ok=True)
    entries = {}
    for vid, (frames, fps) in videos.items():
        T = expected_num_features(frames, window, stride)
        n = (fix or {}).get(vid, T)
        np.save(folder / f'{vid}.npy', np.random.rand(n, dim).astype(np.float32))
        entries[vid] = dict(fps=fps, frames=frames, num_features=T,
                            padded_frames=max(window - frames, 0))
    (folder / 'manifest.json').write_text(json.dumps(dict(window=window, stride=stride,
                                                          videos=entries)))
    return str(folder)


def make_ann(path, videos):
    """``{vid: (duration, fps, [(s, e, label)])}`` -> ActionFormer JSON (subset 'test')."""
    ids = {'a': 0, 'b': 1}
    db = {v: dict(subset='test', duration=d, fps=fps, annotations=[
        dict(label=lab, label_id=ids.get(lab, 9), segment=[s, e]) for s, e, lab in anns])
        for v, (d, fps, anns) in videos.items()}
    path.write_text(json.dumps(dict(database=db)))
    return str(path)


def test_time_of_feature_steps_and_back(tmp_path):
    # 30 fps, window 16, stride 4: step g is centred at (4 g + 8) / 30 s
    feats = make_features(tmp_path / 'f', dict(v=(300, 30.0)))
    ann = make_ann(tmp_path / 'a.json', dict(v=(10.0, 30.0, [((4 * 10 + 8) / 30,
                                                              (4 * 20 + 8) / 30, 'a')])))
    ds = TALFeatureDataset(ann, feats, PIPELINE, test_mode=True)
    item = ds[0]
    assert item['inputs'].shape == (8, expected_num_features(300, 16, 4)) == (8, 72)
    assert item['data_samples'].gt_instances.segments.tolist() == [pytest.approx([10., 20.])]
    meta = item['data_samples'].metainfo
    assert (meta['feat_stride'], meta['feat_offset'], meta['fps']) == (4.0, 8.0, 30.0)
    assert ds.metainfo['classes'] == ('a', )


def test_bad_inputs_are_named(tmp_path):
    # a 10-frame video (padded window), a segment past the end, one entirely outside
    feats = make_features(tmp_path / 'f', dict(short=(10, 25.0), long=(250, 25.0)))
    ann = make_ann(tmp_path / 'a.json', dict(
        short=(0.4, 25.0, [(0.0, 0.4, 'a')]),
        long=(10.0, 25.0, [(8.0, 12.0, 'a'), (11.0, 13.0, 'b'), (1.0, 2.0, 'b')])))
    with pytest.warns(UserWarning) as record:
        ds = TALFeatureDataset(ann, feats, PIPELINE, test_mode=True)
    text = ' '.join(str(w.message) for w in record)
    segs = {ds.get_data_info(i)['video_id']: ds.get_data_info(i)['segments'] for i in range(2)}
    assert segs['long'].tolist() == [[8.0, 10.0], [1.0, 2.0]]
    assert 'long: segment [8.0, 12.0] extends outside the video' in text
    assert 'long: segment [11.0, 13.0] lies outside the video' in text
    assert 'short: 10 frames, shorter than one window' in text

    # the file is shorter than the manifest says (a partial or foreign file)
    feats = make_features(tmp_path / 'g', dict(long=(250, 25.0)), fix=dict(long=50))
    with pytest.raises(ValueError, match='long: the feature file has 50 steps, the manifest 59'):
        TALFeatureDataset(ann, feats, PIPELINE, test_mode=True)
    # the video is 2 s longer than the annotation says (more than one window of 16 frames)
    feats = make_features(tmp_path / 'h', dict(long=(300, 25.0)))
    with pytest.raises(ValueError, match=r'long: the video has 300 frames but .* 250: more than '
                                         r'one window'):
        TALFeatureDataset(ann, feats, PIPELINE, test_mode=True)
    # an unknown label, with the classes fixed by the config
    feats = make_features(tmp_path / 'i', dict(long=(250, 25.0)))
    with pytest.raises(ValueError, match="long: unknown label 'b'"):
        TALFeatureDataset(ann, feats, PIPELINE, test_mode=True, metainfo=dict(classes=['a']))


def test_missing_features_and_empty_videos_left_out(tmp_path):
    feats = make_features(tmp_path / 'f', dict(v1=(250, 25.0), v2=(250, 25.0)))
    ann = make_ann(tmp_path / 'a.json', dict(v1=(10.0, 25.0, [(1.0, 2.0, 'a')]),
                                             v2=(10.0, 25.0, []),
                                             v3=(10.0, 25.0, [(1.0, 2.0, 'a')])))
    with pytest.warns(UserWarning) as record:
        train = TALFeatureDataset(ann, feats, PIPELINE)  # training: v2 (no annotations) out
        test = TALFeatureDataset(ann, feats, PIPELINE, test_mode=True)
    assert [train.get_data_info(i)['video_id'] for i in range(len(train))] == ['v1']
    assert len(test) == 2
    text = ' '.join(str(w.message) for w in record)
    assert "have no features" in text and "['v3']" in text and "['v2']" in text


def _results(T=100, segs=((10.0, 20.0), (90.0, 98.0))):
    fps, stride, offset = 30.0, 4.0, 8.0
    seconds = (np.array(segs) * stride + offset) / fps
    return dict(video_id='v', feats=np.random.rand(8, T).astype(np.float32), fps=fps,
                feat_stride=stride, feat_offset=offset, duration=(T * 4 + 16) / fps,
                segments=seconds.astype(np.float32), labels=np.array([0, 1]), num_feats=T)


def test_random_truncation_keeps_the_timeline():
    np.random.seed(0)
    for _ in range(20):
        res = RandomTruncateFeats(max_seq_len=40, trunc_thresh=0.5)(_results())
        out = PackTALInputs()(res)
        steps = out['data_samples'].gt_instances.segments
        start = int(round((res['feat_offset'] - 8.0) / 4.0))
        assert out['inputs'].shape[1] == 40
        # each kept action is the original one shifted by the crop start, clipped to the crop
        kept = [(10.0, 20.0), (90.0, 98.0)]
        for (s, e), lab in zip(steps.tolist(), out['data_samples'].gt_instances.labels.tolist()):
            s0, e0 = kept[lab]
            assert s == pytest.approx(max(s0, start) - start, abs=1e-4)
            assert e == pytest.approx(min(e0, start + 40) - start, abs=1e-4)
        assert len(steps) == 1  # the two actions are 80 steps apart: one crop holds one


def test_resize_keeps_the_timeline():
    res = ResizeFeats(length=50)(_results(T=100))
    assert res['feats'].shape == (8, 50)
    # new step j is centred on old step 2 j + 0.5: stride 8, offset 8 + 4 * 0.5
    assert (res['feat_stride'], res['feat_offset']) == (8.0, 10.0)
    steps = seconds_to_steps(res['segments'], res['fps'], res['feat_stride'], res['feat_offset'])
    assert steps.tolist()[0] == pytest.approx([(10 - 0.5) / 2, (20 - 0.5) / 2])
    # a linear ramp stays a ramp at the new centres
    ramp = _results(T=100)
    ramp['feats'] = np.tile(np.arange(100, dtype=np.float32), (8, 1))
    out = ResizeFeats(length=50)(ramp)['feats'][0]
    np.testing.assert_allclose(out[1:-1], 2 * np.arange(1, 49) + 0.5, atol=1e-5)


def test_synthetic_tal_is_deterministic_and_annotated(tmp_path):
    a = generate_synthetic_tal(str(tmp_path / 'a'), num_train=2, num_test=1, frames=(96, 128))
    b = generate_synthetic_tal(str(tmp_path / 'b'), num_train=2, num_test=1, frames=(96, 128))
    db = json.loads(open(a['annotations']).read())['database']
    assert sorted(db) == ['test_0000', 'train_0000', 'train_0001']
    for vid, info in db.items():
        with open(osp.join(a['videos'], f'{vid}.mp4'), 'rb') as f1, \
                open(osp.join(b['videos'], f'{vid}.mp4'), 'rb') as f2:
            assert f1.read() == f2.read()
        for ann in info['annotations']:
            s, e = ann['segment']
            assert 0 <= s < e <= info['duration']
    # idempotent; another setting in the same folder is refused
    assert generate_synthetic_tal(str(tmp_path / 'a'), num_train=2, num_test=1,
                                  frames=(96, 128)) == a
    with pytest.raises(FileExistsError):
        generate_synthetic_tal(str(tmp_path / 'a'), num_train=3, num_test=1, frames=(96, 128))


def test_synthetic_actions_move_and_background_stays_still():
    rng = np.random.default_rng(3)
    frames, actions = render_video(rng, 300, 64, 4, 24, 96)
    # diff[i] compares frames i and i + 1; an action moves the shape from frame s - 1 to s
    # at the earliest and from e - 2 to e - 1 at the latest
    moving = np.zeros(299, bool)
    for s, e, _ in actions:
        moving[s - 1:e - 1] = True
    diff = np.abs(np.diff(frames.astype(np.int16), axis=0)).sum(axis=(1, 2, 3))
    assert actions and (diff[~moving] == 0).all()  # still between actions
    assert (diff[moving] > 0).mean() > 0.9


def test_thumos_subset_loads_with_its_own_fps(tmp_path):
    path = need_data('localization', 'thumos14_subset.json')
    db = json.loads(open(path).read())['database']
    videos = {v: (int(round(info['duration'] * info['fps'])), info['fps'])
              for v, info in db.items()}
    feats = make_features(tmp_path / 'f', videos, dim=4)
    ds = TALFeatureDataset(path, feats, PIPELINE, subset='test', test_mode=True)
    assert len(ds) == 3 and len(ds.metainfo['classes']) == 5  # the label ids of the file
    sample = ds[0]['data_samples']
    first = db[sample.metainfo['video_id']]['annotations'][0]['segment']
    steps = sample.gt_instances.segments[0]
    assert ((steps * 4 + 8) / 30).tolist() == pytest.approx(first, abs=1e-4)
    assert isinstance(steps, torch.Tensor)
