"""Every fine-tuning / distillation recipe: the paper's numbers, one train step and one
multi-view test step with the model shrunk, and ViT-g at full size on the meta device."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import FUNCTIONS, init_default_scope

import vmae2  # noqa: F401
import vmae2.models.distillers  # noqa: F401  (not yet imported by vmae2.models)
from vmae2.registry import DATASETS, MODELS
from tests.helpers.recipes import DISTILL_CONFIGS, FINETUNE_CONFIGS, make_video_list, shrink_config

# name -> (lr per 256 clips, layer decay, drop path, epochs); VideoMAE V2 recipes
RECIPES = {
    'vit-b-p16_ft-16x4_8xb8-90e_k400': (7e-4, .75, .1, 90),
    'vit-b-p16_ft-16x1_8xb8-25e_ssv2': (2e-3, .65, .1, 25),
    'vit-l-p16_ft-16x4_8xb8-35e_k400': (2e-3, .75, .2, 35),
    'vit-l-p16_ft-16x1_8xb8-20e_ssv2': (5e-4, .75, .2, 20),
    'vit-h-p16_ft-16x4_8xb4-40e_k400': (1e-3, .8, .2, 40),
    'vit-h-p16_ft-16x1_8xb4-20e_ssv2': (5e-4, .8, .2, 20),
    'vit-g-p14_ft-16x4_8xb4-35e_k710': (1e-3, .9, .3, 35),
    'vit-g-p14_ft-16x4_8xb4-3e_k400': (1e-5, .9, .25, 3),
    'vit-g-p14_ft-16x4_8xb4-3e_k600': (1e-5, .9, .25, 3),
    'vit-g-p14_ft-16x1_8xb4-20e_ssv2': (3e-4, .9, .25, 20),
    'vit-g-p14_ft-16x4_8xb4-50e_ucf101': (1e-3, .9, .35, 50),
    'vit-g-p14_ft-16x4_8xb4-15e_hmdb51': (5e-4, .9, .35, 15),
}
NUM_CLASSES = dict(k400=400, k600=600, k710=710, ssv2=174, ucf101=101, hmdb51=51)


def _name(path):
    return osp.basename(path)[:-3]


def test_every_recipe_has_a_config():
    names = {_name(p).replace('videomaev2_', '') for p in FINETUNE_CONFIGS}
    assert names == set(RECIPES)


@pytest.mark.parametrize('path', FINETUNE_CONFIGS, ids=_name)
def test_recipe_numbers(path):
    cfg = Config.fromfile(path)
    base_lr, ld, dp, epochs = RECIPES[_name(path).replace('videomaev2_', '')]
    total_batch = cfg.train_dataloader.batch_size * cfg.num_gpus
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(base_lr * total_batch / 256)
    assert cfg.optim_wrapper.optimizer.betas == (0.9, 0.999)
    assert cfg.optim_wrapper.optimizer.weight_decay == (0.1 if 'k710' in path else 0.05)
    assert cfg.optim_wrapper.constructor == 'LayerDecayOptimWrapperConstructor'
    assert cfg.optim_wrapper.paramwise_cfg.layer_decay_rate == ld
    assert cfg.model.backbone.drop_path_rate == dp
    assert cfg.train_cfg.max_epochs == epochs
    # one warmup + cosine scheduler, ending with the train loop (MMEngine fills its `end`)
    sched = cfg.param_scheduler
    assert sched.type == 'WarmupCosineLR' and 'end' not in sched and sched.eta_min == 1e-6
    assert sched.warmup == (0 if epochs == 3 else 5) and sched.start_factor == 1e-3
    dataset = _name(path).rsplit('_', 1)[1]
    assert cfg.model.cls_head.num_classes == NUM_CLASSES[dataset]
    assert cfg.model.cls_head.label_smooth_eps == 0.1
    mix, cut = cfg.model.data_preprocessor.blending.augments
    assert (mix.type, mix.alpha, cut.type, cut.alpha) == ('MixupBlending', .8, 'CutmixBlending', 1.)
    train = cfg.train_dataloader.dataset
    assert (train.type, train.num_repeats) == ('RepeatAugDataset', 2)
    steps = {s['type']: s for s in train.pipeline}
    assert steps['VideoRandAugment']['config_str'] == 'rand-m7-n4-mstd0.5-inc1'
    assert steps['RandomErasing']['erase_prob'] == 0.25
    assert ('Flip' in steps) == (dataset != 'ssv2')
    test = {s['type']: s for s in cfg.test_dataloader.dataset.pipeline}
    assert 'ThreeCrop' in test
    sampler = test['UniformSample'] if dataset == 'ssv2' else test['SampleFrames']
    assert sampler['num_clips'] == (2 if dataset == 'ssv2' else 5) and sampler['test_mode']
    assert cfg.model.cls_head.average_clips == 'prob'


@pytest.mark.parametrize('path', FINETUNE_CONFIGS + DISTILL_CONFIGS, ids=_name)
def test_recipe_one_train_and_one_test_iteration(path, tmp_path):
    torch.manual_seed(0)
    cfg = Config.fromfile(path)
    ann = make_video_list(str(tmp_path), num_videos=2)
    shrink_config(cfg, str(tmp_path), ann)
    init_default_scope('vmae2')
    model = MODELS.build(cfg.model)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)

    train_set = DATASETS.build(cfg.train_dataloader.dataset)
    collate = FUNCTIONS.get(cfg.train_dataloader.collate_fn.type)
    batch = collate([train_set[0], train_set[1]])
    assert len(batch['inputs']) == 4  # 2 videos x 2 repeated-augmentation views
    assert batch['inputs'][0].shape == (1, 3, 4, 16, 16)
    model.train()
    before = [p.detach().clone() for p in model.parameters() if p.requires_grad]
    log_vars = model.train_step(batch, optim)
    loss_key = 'loss_kd' if cfg.model.type == 'KDRecognizer' else 'loss_cls'
    assert torch.isfinite(torch.as_tensor(log_vars[loss_key]))
    after = [p.detach() for p in model.parameters() if p.requires_grad]
    assert sum(not torch.equal(a, b) for a, b in zip(before, after)) == len(before)

    test_set = DATASETS.build(cfg.test_dataloader.dataset)
    data = pseudo_collate([test_set[0]])
    views = 2 * 3 if 'ssv2' in path else 5 * 3
    assert data['inputs'][0].shape == (views, 3, 4, 16, 16)
    model.eval()
    with torch.no_grad():
        out = model.test_step(data)
    score = out[0].pred_score
    assert score.shape == (cfg.model.get('student', cfg.model)['cls_head']['num_classes'], )
    assert float(score.sum()) == pytest.approx(1.0, abs=1e-5)  # an average of softmaxes


@pytest.mark.parametrize('path', [p for p in FINETUNE_CONFIGS if 'vit-g' in p], ids=_name)
def test_vit_g_full_size_on_meta(path):
    cfg = Config.fromfile(path)
    cfg.model.data_preprocessor.pop('blending')  # torch.distributions validates on the device
    init_default_scope('vmae2')
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    backbone = sum(p.numel() for p in model.backbone.parameters())
    # ViT-g/14: 40 blocks of width 1408, MLP 6144 -> 1.011 B parameters with the patch embedding
    assert backbone == pytest.approx(1.011e9, rel=2e-3)
    assert model.cls_head.fc_cls.weight.shape == (cfg.model.cls_head.num_classes, 1408)
    assert all(p.is_meta for p in model.parameters())
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    groups = [g for g in optim.param_groups if 'layer_id' in g]
    assert sum(len(g['params']) for g in groups) == len(list(model.parameters()))
    scales = {g['layer_id']: g['lr_scale'] for g in groups}
    assert sorted(scales) == list(range(42))  # embedding, 40 blocks, head
    assert scales[0] == pytest.approx(0.9**41) and scales[41] == 1.0
