"""LayerDecayOptimWrapperConstructor: lr = base * ld^(L+1-i), no weight decay on 1-D / bias."""
import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.optim.scheduler import CosineAnnealingLR
from mmengine.registry import init_default_scope

import vmae2  # noqa: F401
from vmae2.registry import MODELS

L = 3  # blocks
ARCH = dict(embed_dims=16, num_layers=L, num_heads=2, feedforward_channels=32, patch_size=8)


def _recognizer():
    init_default_scope('vmae2')
    return MODELS.build(dict(
        type='Recognizer3D',
        backbone=dict(type='VideoViT', arch=ARCH, use_mean_pooling=True),
        cls_head=dict(type='VideoMAEHead', num_classes=5, in_channels=16),
        data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW')))


def _expected_layer(name: str) -> int:
    """The formula's layer index, written out independently of the constructor."""
    if name.startswith('backbone.patch_embed'):
        return 0
    if name.startswith('backbone.blocks.'):
        return int(name.split('.')[2]) + 1
    return L + 1  # fc_norm, cls_head


def test_layer_decay_multipliers_follow_the_formula():
    model = _recognizer()
    base_lr, base_wd, ld = 1e-3, 0.05, 0.65
    optim = build_optim_wrapper(model, dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=base_lr, betas=(0.9, 0.999), weight_decay=base_wd),
        constructor='LayerDecayOptimWrapperConstructor',
        paramwise_cfg=dict(layer_decay_rate=ld)))
    names = {id(p): n for n, p in model.named_parameters()}
    seen = set()
    # MMEngine adds one group of its own (a 0-d dummy holding the base lr, for logging)
    groups = [g for g in optim.param_groups if 'layer_id' in g]
    assert len(groups) == len(optim.param_groups) - 1
    for group in groups:
        for p in group['params']:
            name = names[id(p)]
            seen.add(name)
            i = _expected_layer(name)
            assert group['lr'] == pytest.approx(base_lr * ld**(L + 1 - i)), name
            no_wd = p.ndim == 1 or name.endswith('.bias')
            assert group['weight_decay'] == (0. if no_wd else base_wd), name
    assert seen == set(names.values())
    # spot checks with the numbers: patch embedding ld^4, block 0 ld^3, last block ld, head 1
    lr_of = {names[id(p)]: g['lr'] for g in groups for p in g['params']}
    assert lr_of['backbone.patch_embed.proj.weight'] == pytest.approx(1e-3 * 0.65**4)
    assert lr_of['backbone.blocks.0.attn.qkv.weight'] == pytest.approx(1e-3 * 0.65**3)
    assert lr_of['backbone.blocks.2.mlp.fc2.weight'] == pytest.approx(1e-3 * 0.65)
    assert lr_of['backbone.fc_norm.weight'] == lr_of['cls_head.fc_cls.weight'] == 1e-3


def test_cosine_keeps_layer_ratios_to_the_end():
    model = _recognizer()
    optim = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
        constructor='LayerDecayOptimWrapperConstructor', paramwise_cfg=dict(layer_decay_rate=0.5)))
    sched = CosineAnnealingLR(optim, T_max=10, eta_min_ratio=1e-6 / 1e-3, by_epoch=False)
    for _ in range(10):
        optim.step()
        sched.step()
    for g in optim.param_groups:
        if 'lr_scale' in g:
            assert g['lr'] == pytest.approx(1e-6 * g['lr_scale'])


def test_frozen_parameters_are_left_out_and_unknown_keys_refused():
    model = _recognizer()
    model.backbone.patch_embed.requires_grad_(False)
    optim = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1),
        constructor='LayerDecayOptimWrapperConstructor', paramwise_cfg=dict(layer_decay_rate=.9)))
    in_optim = {id(p) for g in optim.param_groups if 'layer_id' in g for p in g['params']}
    assert id(model.backbone.patch_embed.proj.weight) not in in_optim
    assert len(in_optim) == sum(p.requires_grad for p in model.parameters())
    with pytest.raises(KeyError, match='layer_decay'):
        build_optim_wrapper(model, dict(
            type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1),
            constructor='LayerDecayOptimWrapperConstructor', paramwise_cfg=dict(decay_rate=.9)))


def test_mmaction_constructor_does_not_fit_videovit():
    """Why vmae2 has its own: mmaction2's picks layer ids by backbone class name."""
    import mmaction.engine.optimizers  # noqa: F401  (registers it)
    model = _recognizer()
    with pytest.raises(NotImplementedError):
        build_optim_wrapper(model, dict(
            type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3),
            constructor='LearningRateDecayOptimizerConstructor',
            paramwise_cfg=dict(num_layers=L, decay_rate=0.65)))
    assert torch.is_tensor(model.backbone.patch_embed.proj.weight)
