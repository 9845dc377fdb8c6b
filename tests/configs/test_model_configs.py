"""The model and pretraining configs: load, build (tiny arch override) and train a few steps
through MMEngine's ``train_step`` with uint8 clips, mask seeds in the data samples."""
import glob
import os.path as osp
import shutil

from tests.helpers import REPO
import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import vmae2.models  # noqa: F401
from vmae2.registry import MODELS

# the paper's ten recipes (the toy main job has tests of its own in tests/engine)
PRETRAIN = sorted(glob.glob(osp.join(REPO, 'configs', 'pretrain', '*_8xb32-800e_k400.py')))
CLS = sorted(glob.glob(osp.join(REPO, 'configs', '_base_', 'models', '*_cls.py')))


def tiny_arch(patch):
    return dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64,
                patch_size=patch)


def test_ten_pretrain_configs_exist():
    names = {osp.basename(p) for p in PRETRAIN}
    for a in ('s-p16', 'b-p16', 'l-p16', 'h-p16', 'g-p14'):
        assert f'videomaev2_vit-{a}_dual-mask_8xb32-800e_k400.py' in names
        assert f'videomae_vit-{a}_tube-mask_8xb32-800e_k400.py' in names


@pytest.mark.parametrize('path', PRETRAIN, ids=osp.basename)
def test_pretrain_config_fields(path):
    cfg = Config.fromfile(path)
    m = cfg.model
    assert m.type == 'VideoMAEV2' and m.encoder_mask == dict(type='TubeMaskGenerator', ratio=0.9)
    dual = osp.basename(path).startswith('videomaev2')
    assert (m.decoder_mask == dict(type='RunningCellMaskGenerator', ratio=0.5)) if dual \
        else m.decoder_mask is None
    big = '-h-' in path or '-g-' in path
    assert m.backbone.with_cp == big and m.decoder.with_cp == big
    if '-g-' in path:
        assert cfg.optim_wrapper.optimizer.lr == pytest.approx(6e-4 * 256 / 256)
        assert cfg.optim_wrapper.clip_grad == dict(max_norm=0.02)
        assert m.decoder.embed_dims == 512 and m.backbone.arch == 'g'
    else:
        assert cfg.optim_wrapper.optimizer.lr == pytest.approx(1e-3)


def _batch(B=2, T=4, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    samples = []
    for b in range(B):  # the model draws every view's masks from its mask_seed
        ds = ActionDataSample()
        ds.set_metainfo(dict(mask_seed=seed * 100 + b))
        samples.append(ds)
    inputs = [torch.randint(0, 256, (3, T, size, size), generator=g, dtype=torch.uint8)
              for _ in range(B)]
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('name', ['videomaev2_vit-b-p16_dual-mask_8xb32-800e_k400.py',
                                  'videomae_vit-g-p14_tube-mask_8xb32-800e_k400.py'])
def test_pretrain_config_trains(name):
    init_default_scope('vmae2')
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'pretrain', name))
    patch = 14 if '-g-' in name else 16
    cfg.model.backbone.arch = tiny_arch(patch)
    cfg.model.decoder.update(embed_dims=16, num_heads=2)
    cfg.optim_wrapper.optimizer.lr = 3e-3
    if cfg.optim_wrapper.clip_grad:
        cfg.optim_wrapper.clip_grad.max_norm = 1.0
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    data = _batch(size=2 * patch)
    # every trainable parameter gets a gradient through the data preprocessor path
    model(**model.data_preprocessor(data, True), mode='loss')['loss'].backward()
    assert [n for n, p in model.named_parameters()
            if p.grad is None or float(p.grad.abs().sum()) == 0] == []
    optim.zero_grad()
    losses = [float(model.train_step(data, optim)['loss'].detach()) for _ in range(12)]
    assert all(map(lambda v: v == v, losses))  # no NaN
    assert losses[-1] < 0.9 * losses[0]


@pytest.mark.parametrize('path', CLS, ids=osp.basename)
def test_classifier_configs_build_and_predict(path):
    init_default_scope('vmae2')
    cfg = Config.fromfile(path)
    patch = 14 if '-g-' in path else 16
    cfg.model.backbone.arch = tiny_arch(patch)
    cfg.model.cls_head.update(num_classes=7)  # in_channels follows the arch
    model = MODELS.build(cfg.model).eval()
    ds = ActionDataSample().set_gt_label(3)
    data = dict(inputs=[torch.randint(0, 256, (1, 3, 4, 2 * patch, 2 * patch), dtype=torch.uint8)],
                data_samples=[ds])
    with torch.no_grad():
        out = model.test_step(data)[0]
    scores = out.pred_score
    assert scores.shape == (7, ) and float(scores.sum()) == pytest.approx(1.0, abs=1e-5)
    # the small head init (x 0.001) starts near-uniform
    assert float(scores.max() - scores.min()) < 1e-2
