"""The detector: the issue's shapes, the background slot, the position tables, padding, the
stride/width checks, layer decay under ``backbone.`` and checkpoint initialisation."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from ava_helpers import CONFIGS, TINY, samples
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from projects.ava.ava_vmae2 import AVAVideoViT, interpolated_position_table
from vmae2.models.layers import position_table
from vmae2.registry import MODELS

VIT_B = osp.join(CONFIGS, 'fastrcnn_vit-b-p16_8xb8-16x4x1-20e_ava22.py')
SYNTHETIC = osp.join(CONFIGS, 'synthetic', 'fastrcnn_vit-t-p8_1xb8-8x2x1-20e_synthetic-ava.py')


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('vmae2')


def test_vit_b_feature_map_roi_features_and_81_logits():
    """16x256x256 -> ViT-B map (B, 768, 8, 16, 16); RoIs (N, 768, 1, 8, 8); 81 logits."""
    cfg = Config.fromfile(VIT_B)
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    # outside the device context: it would also create (and cache) the sine tables on 'meta'
    feat = model.backbone(torch.zeros(2, 3, 16, 256, 256, device='meta'))
    assert tuple(feat.shape) == (2, 768, 8, 16, 16)
    assert model.roi_head.bbox_roi_extractor.featmap_stride == 16
    head_cfg = copy.deepcopy(cfg.model.roi_head)
    head_cfg.bbox_roi_extractor.featmap_stride = 16
    head_cfg.bbox_head.in_channels = 768
    head = MODELS.build(dict(head_cfg, train_cfg=cfg.model.train_cfg.rcnn)).eval()
    feat = torch.randn(2, 768, 8, 16, 16)
    rois = torch.tensor([[0, 10., 20., 120., 250.], [1, 0., 0., 255., 255.],
                         [1, 130., 40., 200., 230.]])
    out = head._bbox_forward(feat, rois, [{}, {}])
    assert tuple(out['bbox_feats'].shape) == (3, 768, 1, 8, 8)
    assert tuple(out['cls_score'].shape) == (3, 81)
    # the temporal average comes before RoIAlign: a clip whose frames differ only in time order
    # gives the same RoI features
    flipped = head._bbox_forward(feat.flip(2), rois, [{}, {}])['bbox_feats']
    torch.testing.assert_close(flipped, out['bbox_feats'], rtol=1e-5, atol=1e-5)


def test_background_slot_is_out_of_the_loss():
    cfg = Config.fromfile(SYNTHETIC)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.manual_seed(0)
    inputs = torch.randn(2, 3, 8, 64, 64)
    batch = samples(2, (64, 64), 9)
    batch[0].gt_instances.labels[:, 0] = 1  # a label in slot 0 must change nothing
    fc = model.roi_head.bbox_head.fc_cls
    losses = []
    for row0 in (0., 5.):
        with torch.no_grad():
            fc.weight[0] = row0
            fc.bias[0] = row0
        model.zero_grad()
        torch.manual_seed(1)  # same dropout, drop path and proposal sampling
        loss = model(inputs, copy.deepcopy(batch), mode='loss')['loss_action_cls']
        loss.backward()
        losses.append(loss.item())
        assert fc.weight.grad[0].abs().max() == 0 and fc.bias.grad[0] == 0
        assert fc.weight.grad[1:].abs().max() > 0
    assert losses[0] == pytest.approx(losses[1], rel=1e-6)


def test_position_tables_at_a_new_grid():
    """'interpolate' keeps each place's (interpolated) pretrained code; 'regenerate' with the
    1-D table gives another position's code; both equal the pretrained table on its grid."""
    src, grid, dim = (8, 14, 14), (8, 16, 16), 384
    table = interpolated_position_table('1d', src, grid, dim)
    assert table.shape == (8 * 16 * 16, dim)
    torch.testing.assert_close(interpolated_position_table('1d', src, src, dim),
                               position_table('1d', src, dim))
    old = position_table('1d', src, dim).reshape(8, 14, 14, dim)
    new = table.reshape(8, 16, 16, dim)
    regen = position_table('1d', grid, dim).reshape(8, 16, 16, dim)

    def cos(a, b):
        return torch.nn.functional.cosine_similarity(a, b, dim=-1).mean().item()

    # token (t, h, w) of the new grid keeps the code of its place in the old one (measured:
    # cosine 0.97 for interpolation, 0.38 for the regenerated table)
    near = old[:, (np.arange(16) * 13 / 15).round()][:, :, (np.arange(16) * 13 / 15).round()]
    assert cos(new, near) > 0.95
    assert cos(regen, near) < 0.5
    # t is interpolated too when the clip length changes
    assert interpolated_position_table('1d', src, (4, 16, 16), dim).shape == (4 * 256, dim)


def test_backbone_modes_and_padding():
    vit = AVAVideoViT(arch=dict(TINY, patch_size=8), use_mean_pooling=False, out_type='featmap',
                      pos_embed_type='1d', pretrain_size=(4, 64, 64))
    x = torch.randn(1, 3, 4, 60, 70)
    out = vit(x)
    assert tuple(out.shape) == (1, 32, 2, 8, 9)  # padded to 64 x 72
    assert vit.grid_size(x) == (2, 8, 9)
    regen = AVAVideoViT(arch=dict(TINY, patch_size=8), use_mean_pooling=False,
                        out_type='featmap', pos_embed_type='1d', pos_embed_mode='regenerate')
    regen.load_state_dict(vit.state_dict())
    y = torch.randn(1, 3, 4, 64, 64)  # the pretraining grid: the two modes agree
    torch.testing.assert_close(regen.eval()(y), vit.eval()(y))
    assert not torch.allclose(regen(x), vit(x))
    with pytest.raises(ValueError, match='pos_embed_mode'):
        AVAVideoViT(arch=dict(TINY, patch_size=8), pos_embed_mode='resize')


def test_head_follows_the_backbone_or_refuses():
    cfg = Config.fromfile(osp.join(CONFIGS, 'fastrcnn_vit-g-p14_8xb8-16x4x1-20e_ava22.py'))
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    assert model.roi_head.bbox_roi_extractor.featmap_stride == 14
    assert model.roi_head.bbox_roi_extractor.roi_layer.spatial_scale == pytest.approx(1 / 14)
    assert model.roi_head.bbox_head.fc_cls.in_features == 1408
    cfg.model.roi_head.bbox_roi_extractor.featmap_stride = 16
    with pytest.raises(ValueError, match='featmap_stride=16 does not match the backbone'):
        with torch.device('meta'):
            MODELS.build(cfg.model)


def test_layer_decay_under_the_detector_prefix():
    cfg = Config.fromfile(SYNTHETIC)
    L, ld = 4, 0.75  # the AVA recipe's rate (the synthetic config itself uses 1.0)
    cfg.optim_wrapper.paramwise_cfg.layer_decay_rate = ld
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    scale = {n: g['lr_scale'] for g in wrapper.optimizer.param_groups for n in g['param_names']}
    decay = {n: g['weight_decay'] for g in wrapper.optimizer.param_groups
             for n in g['param_names']}
    assert scale['backbone.patch_embed.proj.weight'] == pytest.approx(ld ** (L + 1))
    assert scale['backbone.blocks.0.attn.qkv.weight'] == pytest.approx(ld ** L)
    assert scale['backbone.blocks.3.mlp.fc1.weight'] == pytest.approx(ld)
    assert scale['backbone.norm.weight'] == 1.0
    assert scale['roi_head.bbox_head.fc_cls.weight'] == 1.0
    assert decay['roi_head.bbox_head.fc_cls.weight'] == 0.05
    assert decay['roi_head.bbox_head.fc_cls.bias'] == decay['backbone.blocks.0.norm1.weight'] == 0
    assert len(scale) == sum(1 for p in model.parameters() if p.requires_grad)


def test_init_from_a_pretraining_checkpoint_and_a_wrong_width(tmp_path):
    pre_cfg = Config.fromfile(osp.join(
        CONFIGS, 'synthetic', 'videomaev2_vit-t-p8_dual-mask_1xb8-120e_synthetic-ava.py'))
    pre = MODELS.build(pre_cfg.model)
    path = str(tmp_path / 'pre.pth')
    torch.save(dict(state_dict=pre.state_dict(), meta=dict(pos_embed_type='3d')), path)
    cfg = Config.fromfile(SYNTHETIC)
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=path)
    det = MODELS.build(cfg.model)
    det.init_weights()
    for key in ('patch_embed.proj.weight', 'blocks.3.mlp.fc2.weight', 'norm.weight'):
        torch.testing.assert_close(det.backbone.state_dict()[key],
                                   pre.state_dict()['encoder.' + key])

    narrow = copy.deepcopy(pre_cfg.model)
    narrow.backbone.arch = dict(TINY, patch_size=8)
    torch.save(dict(state_dict=MODELS.build(narrow).state_dict()), path)
    det = MODELS.build(cfg.model)
    with pytest.raises(ValueError, match=r'(?s)does not fit the model.*patch_embed.proj.weight: '
                       r'checkpoint \(32, 3, 2, 8, 8\) vs model \(128, 3, 2, 8, 8\)'):
        det.init_weights()
