"""SyntheticAVA generation and the AVA datasets: layout, determinism, frames vs videos, and the
bad-input rules (missing frames, unreadable videos, missing proposals, CSV errors)."""
import copy
import glob
import hashlib
import os
import os.path as osp
import pickle
import shutil

import numpy as np
import pytest
import torch
from ava_helpers import AVA_SAMPLE, CONFIGS, SMALL_SET, need_ava_sample, write
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from projects.ava.ava_vmae2 import (
    SYNTHETIC_AVA_ACTIONS,
    AVAAnnotationError,
    AVAVmae2Dataset,
    SyntheticAVADataset,
    generate_synthetic_ava,
    read_exclusions,
    read_label_map,
)
from vmae2.datasets import open_video
from vmae2.registry import DATASETS, FUNCTION, MODELS

SYNTHETIC = osp.join(CONFIGS, 'synthetic')
BASE = Config.fromfile(osp.join(CONFIGS, '_base_', 'datasets', 'synthetic_ava.py'))


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('vmae2')


@pytest.fixture(scope='module')
def small_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('ava') / 'synthetic_ava')
    generate_synthetic_ava(root, **SMALL_SET)
    return root


def _copy(small_root, tmp_path):
    root = str(tmp_path / 'synthetic_ava')
    shutil.copytree(small_root, root)
    return root


def _dataset(root, split='train', test_mode=False, pipeline='val', **kwargs):
    """A split of the set; the val pipeline (no random offsets) unless asked otherwise."""
    pipeline = BASE.val_pipeline if pipeline == 'val' else BASE.train_pipeline
    return SyntheticAVADataset(pipeline=copy.deepcopy(pipeline), root=root, split=split,
                               generator=SMALL_SET, test_mode=test_mode, **kwargs)


def _digest(root):
    out = {}
    for path in sorted(glob.glob(osp.join(root, '**', '*'), recursive=True)):
        if osp.isfile(path):
            out[osp.relpath(path, root)] = hashlib.md5(open(path, 'rb').read()).hexdigest()
    return out


def test_layout_and_determinism(small_root, tmp_path):
    again = str(tmp_path / 'again')
    generate_synthetic_ava(again, **SMALL_SET)
    assert _digest(again) == _digest(small_root)  # every frame, video and annotation byte
    ann = osp.join(small_root, 'annotations')
    assert read_label_map(osp.join(ann, 'action_list.pbtxt')) == SYNTHETIC_AVA_ACTIONS
    rows = [line.split(',') for line in open(osp.join(ann, 'train.csv'))]
    assert {r[0] for r in rows} == {'synT0000000', 'synT0000001'}
    assert {int(r[1]) for r in rows} == set(range(901, 908))  # every second from 901 s
    assert {int(r[6]) for r in rows} <= set(SYNTHETIC_AVA_ACTIONS)
    # the shot boundary at 904 s is excluded; its clip straddles two shots
    assert read_exclusions(osp.join(ann, 'train_excluded_timestamps.csv')) == {
        'synT0000000,0904', 'synT0000001,0904'}
    props = pickle.load(open(osp.join(ann, 'train_proposals.pkl'), 'rb'))
    assert set(props) == {f'{r[0]},{r[1]}' for r in rows}
    assert all(p.shape[1] == 5 and len(p) > 0 for p in props.values())
    frames = sorted(os.listdir(osp.join(small_root, 'frames', 'synT0000000')))
    assert frames[0] == 'img_00001.jpg' and len(frames) == 8 * 8
    video = open_video(osp.join(small_root, 'videos', 'synT0000000.mp4'))
    assert (video.num_frames, video.fps) == (64, 8.0)
    with pytest.raises(FileExistsError, match='generated with'):
        generate_synthetic_ava(small_root, **dict(SMALL_SET, seed=1))


def test_unlabelled_videos_join_the_pretraining_list(tmp_path):
    root = str(tmp_path / 'set')
    generate_synthetic_ava(root, **dict(SMALL_SET, num_videos=(1, 1), num_unlabelled=1,
                                        duration=4))
    assert open(osp.join(root, 'pretrain_list.txt')).read().split() == [
        'videos/synT0000000.mp4', '0', '-1', 'videos/synU0000000.mp4', '0', '-1']
    assert open_video(osp.join(root, 'videos', 'synU0000000.mp4')).num_frames == 32
    assert not osp.exists(osp.join(root, 'frames', 'synU0000000'))  # videos only
    csv_text = open(osp.join(root, 'annotations', 'train.csv')).read()
    assert 'synU' not in csv_text and 'synT0000000' in csv_text


def test_frames_and_videos_give_the_same_clip(small_root):
    frames = _dataset(small_root, 'val')
    videos = _dataset(small_root, 'val', use_frames=False)
    assert len(frames) == len(videos) == 6  # 7 keyframes, one excluded
    a, b = frames[2], videos[2]
    assert a['data_samples'].metainfo['img_key'] == b['data_samples'].metainfo['img_key']
    assert tuple(a['inputs'].shape) == (3, 8, 64, 80)
    diff = (a['inputs'].float() - b['inputs'].float()).abs().mean()
    assert diff < 3  # JPEG q95 vs near-lossless H.264 of the same frames
    torch.testing.assert_close(a['data_samples'].gt_instances.bboxes,
                               b['data_samples'].gt_instances.bboxes)
    info = frames.get_data_info(2)
    boxes = a['data_samples'].gt_instances.bboxes.numpy()
    np.testing.assert_allclose(boxes, info['gt_bboxes'] * [80, 64, 80, 64], atol=1e-4)
    assert (a['data_samples'].proposals.bboxes.numpy() <= [80, 64, 80, 64]).all()


def test_keyframe_is_the_centre_of_the_clip(small_root):
    data = _dataset(small_root, 'val')
    info = data.get_data_info(0)
    out = data.pipeline.transforms[1](data.pipeline.transforms[0](copy.copy(info)))
    centre = (info['timestamp'] - 900) * 8
    np.testing.assert_array_equal(out['frame_inds'], np.clip(centre + np.arange(-8, 8, 2), 0, 63))


def test_missing_frame_is_replaced_in_training_and_listed_in_evaluation(small_root, tmp_path):
    root = _copy(small_root, tmp_path)
    # 902 s is frame 16 (img_00017.jpg), in the clips of 902 s and 903 s
    os.remove(osp.join(root, 'frames', 'synT0000000', 'img_00017.jpg'))
    train = _dataset(root)
    bad = next(i for i in range(len(train)) if train.get_data_info(i)['img_key'] ==
               'synT0000000,0902')
    np.random.seed(0)
    item = train[bad]
    assert item['data_samples'].metainfo['img_key'] != 'synT0000000,0902'
    assert train.tracker.num_bad >= 1 and 'img_00017.jpg' in train.tracker.examples[0]

    test = _dataset(root, 'train', test_mode=True, placeholder_shape=(64, 80))
    item = test[bad]
    meta = item['data_samples'].metainfo
    assert meta['img_key'] == 'synT0000000,0902' and 'img_00017.jpg' in meta['unreadable']
    assert item['inputs'].abs().sum() == 0 and tuple(item['inputs'].shape) == (3, 8, 64, 80)
    assert [k for k, _ in test.unreadable] == ['synT0000000,0902']
    assert test[bad - 1]['data_samples'].metainfo['unreadable'] == ''


def test_unreadable_video_and_a_wrong_frame_rate(small_root, tmp_path):
    root = _copy(small_root, tmp_path)
    path = osp.join(root, 'videos', 'synT0000000.mp4')
    with open(path, 'r+b') as f:
        f.truncate(300)  # the header only
    test = _dataset(root, 'train', test_mode=True, use_frames=False)
    reasons = [test[i]['data_samples'].metainfo['unreadable'] for i in range(len(test))]
    assert sum(bool(r) for r in reasons) == 6 and all(path in r for r in reasons if r)
    ann = osp.join(small_root, 'annotations')
    wrong = AVAVmae2Dataset(
        ann_file=osp.join(ann, 'val.csv'), pipeline=copy.deepcopy(BASE.val_pipeline),
        label_file=osp.join(ann, 'action_list.pbtxt'), num_classes=9,
        proposal_file=osp.join(ann, 'val_proposals.pkl'), use_frames=False, fps=10,
        data_prefix=dict(img=osp.join(small_root, 'videos')), timestamp_end=908, test_mode=True)
    with pytest.raises(ValueError, match='runs at 8.000 fps but the dataset maps timestamps at'):
        wrong[0]


def test_missing_proposals_are_counted_and_get_the_whole_frame(small_root, tmp_path):
    root = _copy(small_root, tmp_path)
    path = osp.join(root, 'annotations', 'val_proposals.pkl')
    props = pickle.load(open(path, 'rb'))
    del props['synV0000000,0902']
    props['synV0000000,0903'] = np.zeros((0, 5))
    pickle.dump(props, open(path, 'wb'))
    data = _dataset(root, 'val')
    assert sorted(data.missing_proposals) == ['synV0000000,0902', 'synV0000000,0903']
    i = next(i for i in range(len(data)) if data.get_data_info(i)['img_key'] ==
             'synV0000000,0902')
    np.testing.assert_allclose(data[i]['data_samples'].proposals.bboxes.numpy(),
                               [[0, 0, 80, 64]])


def test_csv_errors_through_the_dataset(small_root, tmp_path):
    root = _copy(small_root, tmp_path)
    ann = osp.join(root, 'annotations', 'val.csv')
    lines = open(ann).read().splitlines()
    lines[3] = ','.join(lines[3].split(',')[:7])
    write(ann, '\n'.join(lines) + '\n')
    with pytest.raises(AVAAnnotationError, match=r'val.csv:4: expected 8 columns'):
        _dataset(root, 'val')
    lines[3] = 'synV0000000,0902,0.1,0.1,0.5,0.5,9,0'  # not in the label list
    write(ann, '\n'.join(lines) + '\n')
    data = _dataset(root, 'val')
    assert data.annotation_report.counts == {'dropped: action id not in the label list': 1}
    with pytest.raises(AVAAnnotationError, match='action id 9 is not in the label list'):
        _dataset(root, 'val', on_unknown='error')


def test_the_shared_ava_sample_through_the_dataset():
    root = need_ava_sample()
    data = AVAVmae2Dataset(
        ann_file=osp.join(root, 'ava_sample.csv'), pipeline=[],
        exclude_file=osp.join(root, 'ava_excluded_timestamps_sample.csv'),
        label_file=osp.join(AVA_SAMPLE, 'action_list.txt'),
        proposal_file=osp.join(root, 'ava_proposals_sample.pkl'), data_prefix=dict(img=''))
    assert len(data) == 1  # 3 keyframes, 2 excluded
    info = data.get_data_info(0)
    assert info['img_key'] == '0f39OWEqJ24,0902'
    assert np.nonzero(info['gt_labels'][0])[0].tolist() == [12, 17, 79]
    assert data.annotation_report.counts == {'dropped: action id not in the label list': 1}
    np.testing.assert_allclose(info['proposals'], [[0.011, 0.157, 0.655, 0.983]], atol=1e-6)


def test_synthetic_configs_take_one_step_on_their_own_data(small_root):
    """The synthetic detection and pretraining configs, each on its own dataset and pipeline
    (the small set), through a train step of their model and optimizer."""
    for name, collate in (('fastrcnn_vit-t-p8_1xb8-8x2x1-20e_synthetic-ava.py', pseudo_collate),
                          ('videomaev2_vit-t-p8_dual-mask_1xb8-120e_synthetic-ava.py',
                           FUNCTION.get('flatten_views_collate'))):
        cfg = Config.fromfile(osp.join(SYNTHETIC, name))
        dataset = DATASETS.build(dict(cfg.train_dataloader.dataset, root=small_root,
                                      generator=SMALL_SET))
        model = MODELS.build(cfg.model)
        model.init_weights()
        wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
        np.random.seed(0)
        log = model.train_step(collate([dataset[0], dataset[1]]), wrapper)
        assert torch.isfinite(log['loss']), name
