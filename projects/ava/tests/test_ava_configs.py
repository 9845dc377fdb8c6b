"""Every AVA config: the recipe's numbers, backbone settings from the core bases, one
forward/backward at tiny size; ViT-g on the meta device."""
import glob
import os.path as osp

import pytest
import torch
from ava_helpers import CONFIGS, TINY, samples
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from tests.helpers import REPO
from vmae2.registry import MODELS

LEAVES = sorted(glob.glob(osp.join(CONFIGS, '*.py')) +
                glob.glob(osp.join(CONFIGS, 'synthetic', '*.py')))
DETECTORS = [p for p in LEAVES if osp.basename(p).startswith('fastrcnn_')]
REAL = [p for p in DETECTORS if '_8xb8-' in p]
# lr per 64 clips and layer decay of the AVA recipe (README: B and L from mmaction2, the others
# by its rule)
RECIPE = {'s': (1.25e-4, 0.75), 'b': (1.25e-4, 0.75), 'l': (2.5e-4, 0.8),
          'h': (1.25e-4 * 32 / 12, 0.845), 'g': (1.25e-4 * 40 / 12, 0.873)}


def _name(path):
    return osp.relpath(path, CONFIGS)


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('vmae2')


def test_the_configs_are_all_there():
    names = {_name(p) for p in LEAVES}
    for arch, patch in (('s', 16), ('b', 16), ('l', 16), ('h', 16), ('g', 14)):
        for data in ('ava22', 'ava-kinetics'):
            assert f'fastrcnn_vit-{arch}-p{patch}_8xb8-16x4x1-20e_{data}.py' in names
    assert 'fastrcnn_vit-b-p16_8xb8-16x4x1-20e_ava22-video.py' in names
    assert len(DETECTORS) == 13  # 11 real + synthetic from scratch / pretrained


@pytest.mark.parametrize('path', REAL, ids=_name)
def test_recipe(path):
    cfg = Config.fromfile(path)
    arch = osp.basename(path).split('_')[1].split('-')[1]
    core = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'models',
                                    f'vit-{arch}-p{14 if arch == "g" else 16}_cls.py'))
    bb = cfg.model.backbone
    for key in ('arch', 'tubelet_size', 'drop_path_rate'):  # from the core base, not restated
        assert bb[key] == core.model.backbone[key], key
    assert (bb.type, bb.use_mean_pooling, bb.out_type) == ('AVAVideoViT', False, 'featmap')
    assert bb.pos_embed_mode == 'interpolate' and bb.init_cfg.type == 'Pretrained'
    lr, decay = RECIPE[arch]
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(lr)
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.05
    assert cfg.optim_wrapper.paramwise_cfg.layer_decay_rate == decay
    assert cfg.optim_wrapper.clip_grad.max_norm == 40
    assert cfg.optim_wrapper.constructor == 'LayerDecayOptimWrapperConstructor'
    warm, cos = cfg.param_scheduler
    assert (warm.start_factor, warm.end, cos.begin, cos.end) == (0.1, 5, 5, 20)
    assert cfg.train_cfg.max_epochs == 20 and cfg.train_cfg.val_interval == 1
    assert cfg.train_dataloader.batch_size == 8
    rcnn = cfg.model.train_cfg.rcnn
    assert (rcnn.assigner.pos_iou_thr, rcnn.assigner.neg_iou_thr, rcnn.assigner.min_pos_iou,
            rcnn.sampler.num, rcnn.sampler.pos_fraction,
            rcnn.sampler.add_gt_as_proposals) == (0.9, 0.9, 0.9, 32, 1, True)
    head = cfg.model.roi_head
    assert (head.bbox_roi_extractor.output_size, head.bbox_head.num_classes,
            head.bbox_head.background_class) == (8, 81, True)
    train = {t['type']: t for t in cfg.train_dataloader.dataset.pipeline}
    val = {t['type']: t for t in cfg.val_dataloader.dataset.pipeline}
    assert (train['SampleAVAClip']['clip_len'], train['SampleAVAClip']['frame_interval']) == (16, 4)
    patch = 14 if arch == 'g' else 16
    crop, short = train['RandomCrop']['size'], val['Resize']['scale'][1]
    assert crop % patch == 0 and short % patch == 0 and crop in (252, 256)
    assert 'Flip' in train and 'unreadable' in train['PackActionInputs']['meta_keys']
    assert cfg.val_evaluator.type == 'AVAFrameMAP'
    assert cfg.val_evaluator.label_file.endswith('ava_action_list_v2.2_for_activitynet_2019.pbtxt')
    assert osp.isfile(cfg.val_evaluator.label_file)


@pytest.mark.parametrize('path', DETECTORS, ids=_name)
def test_one_step_at_tiny_size(path):
    """The config's detector with a 2-block 32-wide ViT of the same patch size: a loss step
    with its optimizer (layer decay) moves every trainable weight, and a prediction."""
    cfg = Config.fromfile(path)
    patch = 14 if '-p14' in path else (8 if '-p8' in path else 16)
    cfg.model.backbone.arch = dict(TINY, patch_size=patch)
    cfg.model.backbone.pop('init_cfg', None)
    model = MODELS.build(cfg.model)
    model.init_weights()
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    num_classes = cfg.model.roi_head.bbox_head.num_classes
    size = (4 * patch, 4 * patch)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    torch.manual_seed(0)
    data = dict(inputs=[torch.randint(0, 255, (3, 4) + size, dtype=torch.uint8)] * 2,
                data_samples=samples(2, size, num_classes))
    log = model.train_step(data, wrapper)
    assert torch.isfinite(log['loss']) and log['loss'] > 0
    for n, p in model.named_parameters():
        assert not torch.equal(p, before[n]), f'{n} did not move'
    model.eval()
    wide = (4 * patch, 4 * patch + 5)  # a val width that is no multiple of the patch
    out = model.test_step(dict(inputs=[torch.randint(0, 255, (3, 4) + wide, dtype=torch.uint8)],
                               data_samples=samples(1, wide, num_classes)))[0]
    assert tuple(out.pred_instances.scores.shape) == (3, num_classes)
    assert out.pred_instances.bboxes.max() <= 1  # normalised back by the head


def test_vit_g_on_the_meta_device():
    cfg = Config.fromfile(osp.join(CONFIGS, 'fastrcnn_vit-g-p14_8xb8-16x4x1-20e_ava22.py'))
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(1011.7e6, rel=1e-3)
    feat = model.backbone(torch.zeros(1, 3, 16, 252, 252, device='meta'))
    assert tuple(feat.shape) == (1, 1408, 8, 18, 18)


def test_synthetic_pretrained_and_scratch_detectors_differ_only_in_the_init():
    """The README's pretrained-vs-scratch comparison: the pretrained detector reads the last
    checkpoint of the synthetic pretraining config's default work dir, and trains with the
    from-scratch config's recipe (layer decay 1.0: every layer of the 4-block ViT at the lr)."""
    synthetic = osp.join(CONFIGS, 'synthetic')
    pre_name = 'videomaev2_vit-t-p8_dual-mask_1xb8-120e_synthetic-ava'
    pre = Config.fromfile(osp.join(synthetic, f'{pre_name}.py'))
    scratch = Config.fromfile(
        osp.join(synthetic, 'fastrcnn_vit-t-p8_1xb8-8x2x1-20e_synthetic-ava.py'))
    pretrained = Config.fromfile(
        osp.join(synthetic, 'fastrcnn_vit-t-p8_1xb8-8x2x1-20e_synthetic-ava-pretrained.py'))
    assert pre.train_cfg.max_epochs == 120 and pre.model.encoder_mask.ratio == 0.75
    # normalised targets: with raw pixels the pretrained detector lost to scratch (README)
    assert pre.model.norm_pix_loss is True
    assert pre.default_hooks.checkpoint.interval in (40, 120)  # the last epoch is saved
    assert pretrained.model.backbone.init_cfg == dict(
        type='Pretrained', checkpoint=f'work_dirs/{pre_name}/epoch_120.pth')
    assert 'init_cfg' not in scratch.model.backbone or not scratch.model.backbone.init_cfg
    assert pretrained.model.backbone.arch == scratch.model.backbone.arch == pre.model.backbone.arch
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg', 'train_dataloader',
                'val_dataloader', 'val_evaluator', 'randomness'):
        assert pretrained[key] == scratch[key], key
    pretrained.model.backbone.pop('init_cfg')
    assert pretrained.model == scratch.model
    assert scratch.optim_wrapper.paramwise_cfg.layer_decay_rate == 1.0
