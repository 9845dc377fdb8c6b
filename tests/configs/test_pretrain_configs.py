"""Every pretraining config: the masks its model draws fit the clips its pipeline produces (the
pipeline draws none, it records a `mask_seed` per view), the model builds (ViT-g on the meta
device), and ViT-g's patch size is one line."""
import glob
import os.path as osp

import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.config import Config

from tests.helpers import REPO
from vmae2.registry import MODELS

CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'pretrain', '*.py')))


def _clip(cfg) -> tuple:
    """(T, H, W) of the clips the pipeline hands the model."""
    ds = cfg.train_dataloader.dataset
    sampler = [t for t in ds.pipeline if t['type'] == 'SampleClip'][0]
    H, W = [t for t in ds.view_pipeline if t['type'] == 'Resize'][0]['scale']
    return sampler['clip_len'], H, W


def _check_masks(cfg):
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    T, H, W = _clip(cfg)
    p, q = model.encoder.patch_size, model.encoder.tubelet_size
    grid = (T // q, H // p, W // p)
    x = torch.zeros(2, 3, T, H, W, device='meta')
    samples = [ActionDataSample(metainfo=dict(mask_seed=s)) for s in (1, 2)]
    enc, dec = model.get_masks(x, samples)
    n = grid[0] * grid[1] * grid[2]
    assert enc.shape == (2, n) and bool((enc.sum(1) == grid[0] * int(0.9 * grid[1] * grid[2])).all())
    if cfg.model.decoder_mask is None:
        assert dec is None
    else:
        assert dec.shape == (2, n) and bool((dec.sum(1) == n // 2).all())
    assert model.decoder.head.out_features == 3 * q * p * p
    return model, grid


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_model_masks_fit_the_pipeline_clips(path):
    cfg = Config.fromfile(path)
    views = cfg.train_dataloader.dataset.view_pipeline
    assert not [t for t in views if 'Mask' in t['type']], 'the model owns the masks'
    pack = [t for t in views if t['type'] == 'PackActionInputs'][0]
    assert 'mask_seed' in pack['meta_keys']
    _check_masks(cfg)


def test_vit_g_patch_size_is_one_line():
    cfg = Config.fromfile(osp.join(
        REPO, 'configs', 'pretrain', 'videomaev2_vit-g-p14_dual-mask_8xb32-800e_k400.py'))
    assert _check_masks(cfg)[1] == (8, 16, 16)
    cfg.merge_from_dict({'model.backbone.patch_size': 16})  # the one line
    model, grid = _check_masks(cfg)
    assert grid == (8, 14, 14) and model.encoder.patch_embed.proj.kernel_size == (2, 16, 16)


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_model_builds_on_meta(path):
    cfg = Config.fromfile(path)
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    n = sum(p.numel() for p in model.parameters())
    assert n > 0
