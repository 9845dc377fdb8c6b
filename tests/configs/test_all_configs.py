"""Every config of the repository (core and projects) loads, and every one with a model builds
it (on the meta device: ViT-g too, in no time)."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tests.helpers import REPO
from vmae2.registry import MODELS

CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True) +
                 glob.glob(osp.join(REPO, 'projects', '*', 'configs', '**', '*.py'),
                           recursive=True))


def _name(path):
    return osp.relpath(path, REPO)


def test_configs_are_found():
    names = {_name(p) for p in CONFIGS}
    assert 'configs/pretrain/videomaev2_vit-t-p8_dual-mask_1xb8-60e_synthetic-motion.py' in names
    assert len([n for n in names if n.startswith('configs/finetune/')]) == 12


@pytest.mark.parametrize('path', CONFIGS, ids=_name)
def test_config_loads_and_builds(path):
    cfg = Config.fromfile(path)
    if 'model' not in cfg:
        assert '_base_' in path, f'{_name(path)}: a leaf config without a model'
        return
    model_cfg = cfg.model
    for part in (model_cfg, model_cfg.get('student', {})):
        # batch blending draws from torch.distributions, which cannot live on 'meta'
        part.get('data_preprocessor', {}).pop('blending', None)
    init_default_scope(cfg.get('default_scope', 'vmae2'))
    if model_cfg.get('type') == 'KDRecognizer':
        model_cfg.teacher = model_cfg.student  # the ViT-g teacher file needs its checkpoint
        model_cfg.teacher_ckpt = None
    with torch.device('meta'):
        model = MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters()) > 0
