"""The project's configs build, and one training step runs on random features of the right
shape through each config's own training pipeline."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from tal_helpers import CONFIGS

from vmae2.registry import MODELS, TRANSFORMS

# config -> (feature dim, classes of the head, feature steps of the fake videos, fps, stride);
# one THUMOS14 video (cropped to 2304 steps) keeps the full-size step to a few seconds
CASES = {
    'actionformer_vit-g-feat_1xb2-35e_thumos14.py': (1408, 20, (3000, ), 30.0, 4),
    'actionformer_vit-g-feat_1xb16-15e_fineaction.py': (1408, 1, (700, 150), 30.0, 16),
    'actionformer_vit-t-feat_1xb8-25e_synthetic-tal.py': (96, 4, (117, 80), 16.0, 4),
}


def fake_item(tmp_path, i, dim, steps, fps, stride, num_classes):
    path = tmp_path / f'v{i}.npy'
    np.save(path, np.random.rand(steps, dim).astype(np.float32))
    duration = ((steps - 1) * stride + 16) / fps
    rng = np.random.default_rng(i)
    starts = np.sort(rng.uniform(0, duration * 0.9, 4))
    segs = np.stack([starts, np.minimum(starts + rng.uniform(1, 20, 4), duration)], -1)
    return dict(video_id=f'v{i}', feat_path=str(path), fps=fps, duration=duration,
                feat_stride=float(stride), feat_offset=8.0, num_feats=steps, window=16,
                segments=segs.astype(np.float32),
                labels=rng.integers(0, num_classes, 4).astype(np.int64))


@pytest.mark.slow  # the THUMOS14 model at full size on 2304 steps: tens of seconds
@pytest.mark.parametrize('name', sorted(CASES))
def test_config_trains_one_step(name, tmp_path):
    dim, num_classes, lengths, fps, stride = CASES[name]
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    init_default_scope('vmae2')
    import projects.tal.tal_vmae2  # noqa: F401  (custom_imports of the config)
    assert cfg.model.backbone.in_channels == dim
    assert cfg.model.head.num_classes == num_classes
    torch.manual_seed(0)
    np.random.seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    pipeline = [TRANSFORMS.build(t) for t in cfg.train_dataloader.dataset.pipeline]
    inputs, samples = [], []
    for i, steps in enumerate(lengths):
        res = fake_item(tmp_path, i, dim, steps, fps, stride, num_classes)
        for t in pipeline:
            res = t(res)
        inputs.append(res['inputs'])
        samples.append(res['data_samples'])
    max_len = cfg.model.data_preprocessor.max_seq_len
    assert all(x.shape[0] == dim and x.shape[1] <= max_len for x in inputs)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    before = model.head.cls_tower.out.weight.detach().clone()
    model.train()
    log = model.train_step(dict(inputs=inputs, data_samples=samples), optim)
    assert torch.isfinite(log['loss']) and log['loss'] > 0
    assert log['num_pos'] > 0
    assert not torch.equal(before, model.head.cls_tower.out.weight)
    # and the test path: segments in seconds inside the video
    model.eval()
    with torch.no_grad():
        out = model.test_step(dict(inputs=inputs[:1], data_samples=samples[:1]))
    pred = out[0].pred_instances
    assert pred.segments.shape[1] == 2 and len(pred.scores) <= \
        cfg.model.head.test_cfg.max_per_video
    assert (pred.segments >= 0).all() and (pred.segments <= samples[0].duration + 1e-4).all()
