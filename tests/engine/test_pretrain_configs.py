"""Every pretraining config: the masks its pipeline draws fit its model's token grid, and the
model builds (ViT-g on the meta device)."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from vmae2.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'pretrain', '*.py')))


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_pipeline_masks_fit_the_model(path):
    cfg = Config.fromfile(path)
    views = cfg.train_dataloader.dataset.view_pipeline
    gen = [t for t in views if t['type'] == 'GenerateMasks']
    assert len(gen) == 1, 'masks are drawn once per view, in the pipeline'
    gen = gen[0]
    arch = cfg.model.backbone.arch
    from vmae2.models.backbones.vit_videomae import resolve_arch
    patch = resolve_arch(arch)['patch_size']
    assert gen['patch_size'] == patch
    assert gen['tubelet_size'] == cfg.model.backbone.get('tubelet_size', 2)
    # the clip the pipeline produces is the one the masks are drawn for
    T, H, W = gen['input_size']
    crop = [t for t in views if t['type'] == 'Resize'][0]['scale']
    assert (H, W) == tuple(crop)
    sampler = [t for t in cfg.train_dataloader.dataset.pipeline if t['type'] == 'SampleClip'][0]
    assert sampler['clip_len'] == T
    assert gen['encoder'] == cfg.model.encoder_mask
    if cfg.model.decoder_mask is not None:
        assert gen['decoder'] == cfg.model.decoder_mask


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_model_builds_on_meta(path):
    cfg = Config.fromfile(path)
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    n = sum(p.numel() for p in model.parameters())
    assert n > 0
