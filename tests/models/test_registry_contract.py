"""Every model component vmae2 registers, timm-style: it builds from a (tiny) config, runs one
forward and backward pass without NaN, and every trainable parameter gets a gradient. A new
registered component fails ``test_every_registered_model_has_a_contract`` until it has an
entry here."""
import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.registry import init_default_scope

import vmae2.models  # noqa: F401  (registers the models)
from vmae2.registry import MODELS

TINY = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64, patch_size=8)
PREPROCESSOR = dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                    std=[58.395, 57.12, 57.375], format_shape='NCTHW')
CLASSIFIER = dict(type='VideoMAERecognizer',
                  backbone=dict(type='VideoViT', arch=TINY, drop_path_rate=0.1),
                  cls_head=dict(type='VideoMAEHead', num_classes=5, dropout_ratio=0.5,
                                average_clips='prob'),
                  data_preprocessor=PREPROCESSOR)


def _clips(B=2):
    g = torch.Generator().manual_seed(0)
    return torch.randn(B, 3, 4, 16, 16, generator=g)  # token grid (2, 2, 2)


def _uint8_batch(num_clips=1, B=2):
    g = torch.Generator().manual_seed(1)
    inputs = [torch.randint(0, 256, (num_clips, 3, 4, 16, 16), generator=g, dtype=torch.uint8)
              for _ in range(B)]
    samples = [ActionDataSample(metainfo=dict(mask_seed=10 + b)).set_gt_label(b % 5)
               for b in range(B)]
    return dict(inputs=inputs, data_samples=samples)


def _recognizer_loss(model):
    data = model.data_preprocessor(_uint8_batch(), True)
    losses = model(**data, mode='loss')
    return sum(v for k, v in losses.items() if k.startswith('loss'))


def _pretrain_loss(model):
    data = model.data_preprocessor(
        {k: [x[0] for x in v] if k == 'inputs' else v for k, v in _uint8_batch().items()}, True)
    return model(**data, mode='loss')['loss']


#: name -> (config, function of the built module giving a scalar to back-propagate)
CONTRACTS = {
    'VideoViT': (dict(type='VideoViT', arch=TINY, drop_path_rate=0.1),
                 lambda m: m(_clips()).square().mean()),
    'VideoMAEDecoder': (dict(type='VideoMAEDecoder', embed_dims=16, num_heads=2, num_layers=2,
                             feedforward_channels=32, out_channels=3 * 2 * 8 * 8),
                        lambda m: m(torch.randn(2, 8, 16), 3).square().mean()),
    'VideoMAEHead': (dict(type='VideoMAEHead', num_classes=5, in_channels=32),
                     lambda m: m(torch.randn(2, 32)).logsumexp(-1).mean()),
    'MaskedMSELoss': (dict(type='MaskedMSELoss'),
                      lambda m: m(torch.randn(2, 3, 4, requires_grad=True), torch.randn(2, 3, 4),
                                  torch.tensor([[1., 0, 1], [1, 1, 0]]))),
    'VideoMAEV2': (dict(type='VideoMAEV2', backbone=dict(arch=TINY),
                        decoder=dict(embed_dims=16, num_heads=2, num_layers=1),
                        encoder_mask=dict(type='TubeMaskGenerator', ratio=0.5)),
                   _pretrain_loss),
    'VideoMAERecognizer': (CLASSIFIER, _recognizer_loss),
    'KDRecognizer': (dict(type='KDRecognizer', student=CLASSIFIER, teacher=CLASSIFIER,
                          hard_weight=0.5, data_preprocessor=PREPROCESSOR), _recognizer_loss),
}


def _own_models():
    return sorted(k for k, v in MODELS.module_dict.items() if v.__module__.startswith('vmae2.'))


def test_every_registered_model_has_a_contract():
    assert _own_models() == sorted(CONTRACTS)


@pytest.mark.parametrize('name', sorted(CONTRACTS))
def test_builds_runs_and_every_parameter_learns(name):
    init_default_scope('vmae2')
    torch.manual_seed(0)
    cfg, objective = CONTRACTS[name]
    model = MODELS.build(cfg)
    assert type(model).__name__ == name
    model.train()
    value = objective(model)
    assert value.ndim == 0 and bool(torch.isfinite(value))
    value.backward()
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    no_grad = [n for n, p in trainable if p.grad is None or not bool(p.grad.abs().sum() > 0)]
    assert no_grad == []
    assert all(bool(torch.isfinite(p.grad).all()) for _, p in trainable)
