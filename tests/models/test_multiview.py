"""Multi-view testing on real clips equals the per-view softmax average computed by hand,
and AccMetric's top-1 / top-5 / mean class accuracy on known numbers."""
import os.path as osp

import decord
import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope

import vmae2  # noqa: F401
from tests.helpers.recipes import FINETUNE_CONFIGS, TINY_ARCH
from vmae2.registry import METRICS, MODELS

CLIPS = ['arm_wrestling_k400.mp4', 'pool_cleaning.mp4', 'eye_makeup.avi']
CLIP_LEN, INTERVAL, SIZE = 4, 8, 32
MEAN = np.array([123.675, 116.28, 103.53])
STD = np.array([58.395, 57.12, 57.375])


def _config(dataset: str) -> Config:
    path = next(p for p in FINETUNE_CONFIGS if 'vit-b' in p and p.endswith(f'_{dataset}.py'))
    cfg = Config.fromfile(path)
    cfg.model.backbone.update(arch=TINY_ARCH, drop_path_rate=0.)
    cfg.model.cls_head.update(in_channels=TINY_ARCH['embed_dims'], num_classes=7)
    for step in cfg.test_pipeline:
        if step['type'] in ('SampleFrames', 'UniformSample'):
            step['clip_len'] = CLIP_LEN
        if step['type'] == 'SampleFrames':
            step['frame_interval'] = INTERVAL
        if step['type'] == 'Resize':
            step['scale'] = (-1, SIZE)
        if step['type'] == 'ThreeCrop':
            step['crop_size'] = SIZE
    return cfg


def _kinetics_indices(total: int, num_clips: int = 5) -> list:
    # evenly spaced clips, each centred in its 1/num_clips share of the valid starts
    span = CLIP_LEN * INTERVAL
    avg = (total - span + 1) / num_clips
    starts = [int(avg * k + avg / 2) for k in range(num_clips)]
    return [[min(s + i * INTERVAL, total - 1) for i in range(CLIP_LEN)] for s in starts]


def _ssv2_indices(total: int, num_clips: int = 2) -> list:
    # CLIP_LEN segments; view k takes the frame at (k + 1) / (num_clips + 1) of each segment
    seg = (total - 1) / CLIP_LEN
    return [[int(round(seg * i)) + int(seg / (num_clips + 1) * (k + 1)) for i in range(CLIP_LEN)]
            for k in range(num_clips)]


def _views_by_hand(path: str, indices: list) -> torch.Tensor:
    """``(clips x 3, 3, T, S, S)``: decode, short side -> SIZE, left / right / centre crops."""
    vr = decord.VideoReader(path)
    views = []
    for inds in indices:
        frames = vr.get_batch(inds).asnumpy()  # (T, H, W, 3) RGB
        h, w = frames.shape[1:3]
        new_w, new_h = ((int(round(w * SIZE / h)), SIZE) if h < w else
                        (SIZE, int(round(h * SIZE / w))))
        frames = np.stack([mmcv.imresize(f, (new_w, new_h)) for f in frames])
        step = (new_w - SIZE) // 2
        views.append([frames[:, :, x:x + SIZE] for x in (0, 2 * step, step)])
    views = [v for crops in zip(*views) for v in crops]  # crop-major order, as ThreeCrop
    x = (np.stack(views).astype(np.float64) - MEAN) / STD  # (V, T, S, S, 3)
    return torch.from_numpy(x).float().permute(0, 4, 1, 2, 3)


@pytest.mark.parametrize('dataset', ['k400', 'ssv2'])
def test_multiview_equals_softmax_average_by_hand(dataset, test_data_root):
    cfg = _config(dataset)
    init_default_scope('vmae2')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    pipeline = Compose(cfg.test_pipeline)
    for name in CLIPS:
        path = osp.join(test_data_root, 'videos', name)
        data = pipeline(dict(filename=path, label=0, start_index=0, modality='RGB'))
        total = len(decord.VideoReader(path))
        indices = _kinetics_indices(total) if dataset == 'k400' else _ssv2_indices(total)
        views = _views_by_hand(path, indices)
        assert data['inputs'].shape == (len(indices) * 3, 3, CLIP_LEN, SIZE, SIZE)
        with torch.no_grad():
            pred = model.test_step(pseudo_collate([data]))[0].pred_score
            # by hand: every view alone through backbone + head, softmax, mean over views
            per_view = [torch.softmax(model.cls_head(model.backbone(v[None])), -1)[0]
                        for v in views]
        expected = torch.stack(per_view).mean(0)
        assert torch.allclose(pred, expected, atol=2e-5), (name, pred, expected)
        assert float(pred.sum()) == pytest.approx(1.0, abs=1e-5)


def test_acc_metric_top1_top5_mean_class():
    metric = METRICS.build(dict(type='AccMetric',
                                metric_list=('top_k_accuracy', 'mean_class_accuracy')))
    scores = torch.tensor([[.9, .05, .05, 0, 0, 0],   # label 0: top-1 hit
                           [.5, .4, .1, 0, 0, 0],      # label 1: top-5 hit only
                           [.1, .2, .7, 0, 0, 0],      # label 2: top-1 hit
                           [.6, .3, .1, 0, 0, 0]])     # label 2: top-5 hit only
    labels = [0, 1, 2, 2]
    samples = [dict(pred_score=s, gt_label=torch.tensor([lb])) for s, lb in zip(scores, labels)]
    metric.process(None, samples)
    out = metric.compute_metrics(metric.results)
    assert out['top1'] == pytest.approx(0.5)
    assert out['top5'] == pytest.approx(1.0)
    # per class: class 0 1/1, class 1 0/1, class 2 1/2 -> mean 0.5
    assert out['mean1'] == pytest.approx((1 + 0 + .5) / 3)
