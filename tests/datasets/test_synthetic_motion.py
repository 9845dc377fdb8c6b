import filecmp
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from tests.helpers import SMALL_SYNTHETIC
from vmae2.datasets import (
    SYNTHETIC_MOTION_CLASSES,
    DecordReader,
    SyntheticMotionDataset,
    generate_synthetic_motion,
    render_clip,
)
from vmae2.registry import DATASETS

CONFIGS = osp.join(osp.dirname(__file__), '..', '..', 'configs', '_base_', 'datasets')


def motion_stats(frames):
    """Per frame: centroid x, y, area and orientation (deg) of the bright shape."""
    stats = []
    for frame in frames:
        ys, xs = np.nonzero(frame.min(-1) >= 128)  # shape channels >= 140, background <= 115
        cx, cy = xs.mean(), ys.mean()
        mu20, mu02 = ((xs - cx)**2).mean(), ((ys - cy)**2).mean()
        mu11 = ((xs - cx) * (ys - cy)).mean()
        stats.append((cx, cy, len(xs), 0.5 * np.degrees(np.arctan2(2 * mu11, mu20 - mu02))))
    return np.array(stats)


@pytest.mark.parametrize('label', range(8))
def test_class_is_defined_by_motion(label):
    name = SYNTHETIC_MOTION_CLASSES[label]
    for clip in range(3):
        s = motion_stats(render_clip(label, np.random.default_rng([0, label, clip]), 32, 64))
        dx, dy = s[-1, 0] - s[0, 0], s[-1, 1] - s[0, 1]
        area_ratio = s[-1, 2] / s[0, 2]
        # orientation change per frame, unwrapped over the 180-degree period of the moments
        turn = np.degrees(np.unwrap(np.radians(2 * s[:, 3]))) / 2
        dturn = np.median(np.diff(turn))
        expected = {
            'moving_right': dx > 15 and abs(dy) < 2,
            'moving_left': dx < -15 and abs(dy) < 2,
            'moving_down': dy > 15 and abs(dx) < 2,
            'moving_up': dy < -15 and abs(dx) < 2,
            # these turn or scale about a fixed point: the centroid drifts a little only (the
            # L shape is not centred on its pivot), well below the >15 px of the moving classes
            'rotating_clockwise': dturn > 3 and abs(dx) + abs(dy) < 10,
            'rotating_counterclockwise': dturn < -3 and abs(dx) + abs(dy) < 10,
            'growing': area_ratio > 2 and abs(dx) + abs(dy) < 10,
            'shrinking': area_ratio < 0.5 and abs(dx) + abs(dy) < 10,
        }[name]
        assert expected, (name, clip, dx, dy, area_ratio, dturn)


def test_single_frames_do_not_reveal_the_class():
    # classes come in time-reversed pairs drawn from the same ranges: the mean position and
    # size over all frames of 'right' and 'left' (or 'growing' and 'shrinking') clips match
    def mean_stats(label):
        return np.mean([motion_stats(render_clip(label, np.random.default_rng([9, label, c])))
                        .mean(0)[:3] for c in range(30)], 0)
    right, left = mean_stats(0), mean_stats(1)
    assert abs(right[0] - left[0]) < 2.5 and abs(right[2] - left[2]) / right[2] < 0.15
    grow, shrink = mean_stats(6), mean_stats(7)
    assert abs(grow[2] - shrink[2]) / grow[2] < 0.15


def test_generation_is_deterministic_idempotent_and_checked(tmp_path, synthetic_root):
    root = str(tmp_path / 'again')
    paths = generate_synthetic_motion(root, **SMALL_SYNTHETIC)
    for name in ('pretrain_list', 'train_list', 'val_list', 'classes'):
        assert filecmp.cmp(paths[name], osp.join(synthetic_root, f'{name}.txt'), shallow=False)
    # same bytes, every file (x264 runs without its assembly for this; see write_video)
    videos = sorted(os.listdir(osp.join(root, 'videos')))
    assert len(videos) == 32
    assert all(filecmp.cmp(osp.join(root, 'videos', v), osp.join(synthetic_root, 'videos', v),
                           shallow=False) for v in videos)
    for video in ('videos/c0_0000.mp4', 'videos/c5_0003.mp4'):
        a = DecordReader(osp.join(root, video)).get_frames(range(32))
        b = DecordReader(osp.join(synthetic_root, video)).get_frames(range(32))
        assert np.array_equal(a, b)
    other = render_clip(0, np.random.default_rng([1, 0, 0]))  # another seed, another clip
    assert not np.array_equal(other, render_clip(0, np.random.default_rng([0, 0, 0])))

    mtime = os.stat(osp.join(root, 'videos', 'c0_0000.mp4')).st_mtime_ns
    generate_synthetic_motion(root, **SMALL_SYNTHETIC)  # already there: nothing rewritten
    assert os.stat(osp.join(root, 'videos', 'c0_0000.mp4')).st_mtime_ns == mtime
    with pytest.raises(FileExistsError, match='remove it or choose another root'):
        generate_synthetic_motion(root, **dict(SMALL_SYNTHETIC, seed=1))


def test_splits_and_classification_dataset(synthetic_root):
    with open(osp.join(synthetic_root, 'train_list.txt')) as f:
        train = [line.split() for line in f]
    with open(osp.join(synthetic_root, 'val_list.txt')) as f:
        val = [line.split() for line in f]
    assert len(train) == 24 and len(val) == 8  # 3 + 1 clips of each of 8 classes
    assert sorted(int(label) for _, label in val) == list(range(8))
    assert not {p for p, _ in train} & {p for p, _ in val}

    cfg = Config.fromfile(osp.join(CONFIGS, 'synthetic_motion_cls.py'))
    ds_cfg = cfg.val_dataloader.dataset
    ds_cfg.update(root=synthetic_root, generator=SMALL_SYNTHETIC)
    ds = DATASETS.build(ds_cfg)
    assert isinstance(ds, SyntheticMotionDataset) and len(ds) == 8
    assert ds.metainfo['classes'] == SYNTHETIC_MOTION_CLASSES
    item = ds[3]
    assert item['inputs'].shape == (1, 3, 16, 64, 64) and item['inputs'].dtype == torch.uint8
    assert int(item['data_samples'].gt_label) == 3


def test_pretrain_config_on_synthetic(synthetic_root):
    cfg = Config.fromfile(osp.join(CONFIGS, 'synthetic_motion_pretrain.py'))
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.update(root=synthetic_root, generator=SMALL_SYNTHETIC, seed=0)
    ds = DATASETS.build(ds_cfg)
    assert len(ds) == 24  # the train split only
    views = ds[5]
    assert len(views) == 2
    for view in views:
        assert view['inputs'].shape == (3, 16, 64, 64) and view['inputs'].dtype == torch.uint8
        sample = view['data_samples']
        assert np.array_equal(sample.frame_inds, np.arange(0, 32, 2))  # 16 x 2 of 32 frames
        assert isinstance(sample.mask_seed, int)  # the model draws this view's masks from it
    assert views[0]['data_samples'].mask_seed != views[1]['data_samples'].mask_seed
