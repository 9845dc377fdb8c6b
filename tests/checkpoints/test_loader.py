"""Official VideoMAE V2 / vmae2 checkpoint layouts, built here with the official key names and
shapes (no real files offline), load with exact missing / unexpected key reports."""
import pytest
import torch
from mmengine.registry import init_default_scope

import vmae2.models  # noqa: F401
from vmae2.checkpoints import load_checkpoint
from vmae2.label_maps import load_k710_index
from vmae2.models import VideoMAEV2, VideoViT
from vmae2.registry import MODELS

D, L, FFN, P, DD = 32, 2, 64, 8, 16
ARCH = dict(embed_dims=D, num_layers=L, num_heads=2, feedforward_channels=FFN, patch_size=P)


def block_keys(prefix, dim, ffn, depth):
    sd = {}
    for i in range(depth):
        b = f'{prefix}blocks.{i}.'
        sd.update({
            b + 'norm1.weight': torch.randn(dim), b + 'norm1.bias': torch.randn(dim),
            b + 'attn.q_bias': torch.randn(dim), b + 'attn.v_bias': torch.randn(dim),
            b + 'attn.qkv.weight': torch.randn(3 * dim, dim),
            b + 'attn.proj.weight': torch.randn(dim, dim), b + 'attn.proj.bias': torch.randn(dim),
            b + 'norm2.weight': torch.randn(dim), b + 'norm2.bias': torch.randn(dim),
            b + 'mlp.fc1.weight': torch.randn(ffn, dim), b + 'mlp.fc1.bias': torch.randn(ffn),
            b + 'mlp.fc2.weight': torch.randn(dim, ffn), b + 'mlp.fc2.bias': torch.randn(dim),
        })
    return sd


def official_pretrain_sd():
    """Keys of the official PretrainVisionTransformer (no pos_embed: it is a plain tensor)."""
    sd = {'encoder.patch_embed.proj.weight': torch.randn(D, 3, 2, P, P),
          'encoder.patch_embed.proj.bias': torch.randn(D),
          'encoder.norm.weight': torch.randn(D), 'encoder.norm.bias': torch.randn(D),
          'encoder_to_decoder.weight': torch.randn(DD, D), 'mask_token': torch.randn(1, 1, DD),
          'decoder.norm.weight': torch.randn(DD), 'decoder.norm.bias': torch.randn(DD),
          'decoder.head.weight': torch.randn(3 * 2 * P * P, DD),
          'decoder.head.bias': torch.randn(3 * 2 * P * P)}
    sd.update(block_keys('encoder.', D, FFN, L))
    sd.update(block_keys('decoder.', DD, DD * 2, 2))
    return sd


def official_finetune_sd(num_classes=400):
    sd = {'patch_embed.proj.weight': torch.randn(D, 3, 2, P, P),
          'patch_embed.proj.bias': torch.randn(D),
          'fc_norm.weight': torch.randn(D), 'fc_norm.bias': torch.randn(D),
          'head.weight': torch.randn(num_classes, D), 'head.bias': torch.randn(num_classes)}
    sd.update(block_keys('', D, FFN, L))
    return sd


def pretrain_model():
    return VideoMAEV2(dict(arch=ARCH), dict(embed_dims=DD, num_heads=2, num_layers=2))


def recognizer(num_classes=400):
    init_default_scope('vmae2')
    return MODELS.build(dict(
        type='Recognizer3D', backbone=dict(type='VideoViT', arch=ARCH),
        cls_head=dict(type='VideoMAEHead', num_classes=num_classes, in_channels=D)))


def test_official_pretrain_with_orig_mod_prefix_into_pretrain_model():
    sd = official_pretrain_sd()
    ckpt = {'model': {f'_orig_mod.{k}': v for k, v in sd.items()}, 'epoch': 799}
    model = pretrain_model()
    report = load_checkpoint(model, ckpt)
    assert report == ([], [], [])
    assert torch.equal(model.decoder.blocks[1].attn.v_bias, sd['decoder.blocks.1.attn.v_bias'])
    assert torch.equal(model.encoder.norm.weight, sd['encoder.norm.weight'])


def test_pretrained_encoder_into_classifier_reports_keys():
    sd = official_pretrain_sd()
    model = recognizer()
    report = load_checkpoint(model, {'model': sd})
    # as the official fine-tuning script: fc_norm and head start fresh, the encoder norm is unused
    assert report.missing_keys == ['backbone.fc_norm.bias', 'backbone.fc_norm.weight',
                                   'cls_head.fc_cls.bias', 'cls_head.fc_cls.weight']
    assert report.unexpected_keys == ['backbone.norm.bias', 'backbone.norm.weight']
    assert report.dropped_keys == sorted(k for k in sd if k.startswith(
        ('decoder.', 'encoder_to_decoder', 'mask_token')))
    assert torch.equal(model.backbone.blocks[0].attn.qkv.weight,
                       sd['encoder.blocks.0.attn.qkv.weight'])


def test_official_finetuned_module_layout_loads_exactly():
    sd = official_finetune_sd(400)
    model = recognizer(400)
    report = load_checkpoint(model, {'module': sd})
    assert report == ([], [], [])
    assert torch.equal(model.cls_head.fc_cls.weight, sd['head.weight'])
    assert torch.equal(model.backbone.fc_norm.bias, sd['fc_norm.bias'])


@pytest.mark.parametrize('num_classes', [400, 600, 700])
def test_k710_head_mapped_through_index_list(num_classes):
    sd = official_finetune_sd(710)
    model = recognizer(num_classes)
    report = load_checkpoint(model, {'model': sd})
    assert report == ([], [], [])
    idx = load_k710_index(f'k{num_classes}')
    assert len(idx) == num_classes
    assert torch.equal(model.cls_head.fc_cls.weight, sd['head.weight'][idx])
    assert torch.equal(model.cls_head.fc_cls.bias, sd['head.bias'][idx])


def test_head_of_other_size_is_dropped_and_reported():
    model = recognizer(5)
    report = load_checkpoint(model, {'model': official_finetune_sd(174)})
    assert report.missing_keys == ['cls_head.fc_cls.bias', 'cls_head.fc_cls.weight']
    assert report.unexpected_keys == []
    assert report.dropped_keys == ['head.bias', 'head.weight']


def test_backbone_init_cfg_pretrained_from_file(tmp_path):
    sd = official_pretrain_sd()
    path = str(tmp_path / 'pretrain.pth')
    torch.save({'model': sd}, path)
    backbone = VideoViT(ARCH, init_cfg=dict(type='Pretrained', checkpoint=path))
    backbone.init_weights()
    assert torch.equal(backbone.patch_embed.proj.weight, sd['encoder.patch_embed.proj.weight'])
    report = load_checkpoint(backbone, path)
    assert report.missing_keys == ['fc_norm.bias', 'fc_norm.weight']
    assert report.unexpected_keys == ['norm.bias', 'norm.weight']


def test_vmae2_state_dict_and_prefix():
    src = recognizer(400)
    model = recognizer(400)
    report = load_checkpoint(model, {'state_dict': src.state_dict(), 'meta': {}})
    assert report == ([], [], [])
    backbone = VideoViT(ARCH)
    report = load_checkpoint(backbone, {'state_dict': src.state_dict()},
                                      prefix='backbone.')
    assert report == ([], [], [])
    assert torch.equal(backbone.blocks[1].mlp.fc2.weight, src.backbone.blocks[1].mlp.fc2.weight)


def test_wrong_arch_names_the_keys():
    sd = official_finetune_sd(400)
    sd['blocks.0.mlp.fc1.weight'] = torch.randn(FFN * 2, D)
    with pytest.raises(ValueError, match=r'backbone\.blocks\.0\.mlp\.fc1\.weight: checkpoint '
                                         r'\(128, 32\) vs model \(64, 32\)'):
        load_checkpoint(recognizer(400), sd)


def test_unknown_layout_names_the_keys():
    with pytest.raises(ValueError, match="no patch embedding.*'conv1.weight'"):
        load_checkpoint(recognizer(400), {'model': {'conv1.weight': torch.zeros(1)}})


def test_strict_raises_with_keys():
    with pytest.raises(RuntimeError, match='backbone.fc_norm.weight'):
        load_checkpoint(recognizer(), official_pretrain_sd(), strict=True)


def test_converter_tool_roundtrip(tmp_path):
    import os.path as osp
    import subprocess
    import sys
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    tool = osp.join(repo, 'tools', 'model_converters', 'convert_official.py')
    src, dst = tmp_path / 'ft.pth', tmp_path / 'ft_vmae2.pth'
    sd = official_finetune_sd(710)
    torch.save({'module': sd}, src)
    out = subprocess.run([sys.executable, tool, str(src), str(dst), '--to', 'recognizer',
                          '--num-classes', '400'], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    ckpt = torch.load(dst, weights_only=True)
    assert ckpt['meta']['converted_to'] == 'recognizer'
    model = recognizer(400)
    missing, unexpected = model.load_state_dict(ckpt['state_dict'], strict=True)
    assert torch.equal(model.cls_head.fc_cls.weight, sd['head.weight'][load_k710_index('k400')])


def test_distilled_student_checkpoint_into_recognizer():
    src = recognizer(400)
    sd = {f'student.{k}': v for k, v in src.state_dict().items()}
    model = recognizer(400)
    assert load_checkpoint(model, {'state_dict': sd}) == ([], [], [])
    assert torch.equal(model.backbone.patch_embed.proj.weight, src.backbone.patch_embed.proj.weight)
