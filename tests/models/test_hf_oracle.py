"""Independent oracle: HF transformers' VideoMAE (same encoder, V1 decoder and loss).

Tiny configs built from ``VideoMAEConfig`` (no hub access). Weights go both ways through the
converters; HF's decoder ``norm`` and ``fc_norm`` use LayerNorm's default eps 1e-5 where the
official code uses 1e-6, so the oracle's eps is set to the official value.
"""
import pytest
import torch
from mmengine.registry import init_default_scope

import vmae2.models  # noqa: F401
from vmae2.checkpoints import load_checkpoint, official_to_hf
from vmae2.masking import TubeMaskGenerator
from vmae2.models import VideoMAEV2
from vmae2.registry import MODELS

transformers = pytest.importorskip('transformers')

ARCH = dict(embed_dims=64, num_layers=2, num_heads=2, feedforward_channels=128, patch_size=16)


def hf_config(**kw):
    cfg = dict(image_size=32, patch_size=16, num_channels=3, num_frames=8, tubelet_size=2,
               hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128,
               hidden_act='gelu', layer_norm_eps=1e-6, qkv_bias=True,
               decoder_hidden_size=32, decoder_num_hidden_layers=2,
               decoder_num_attention_heads=2, decoder_intermediate_size=64, norm_pix_loss=True)
    cfg.update(kw)
    return transformers.VideoMAEConfig(**cfg)


def clip_and_mask(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 3, 8, 32, 32, generator=g)  # (B, C, T, H, W), normalised
    mask = TubeMaskGenerator((4, 2, 2), 0.5).batch(2, g)  # 16 tokens, 8 masked
    return x, mask


def test_pretraining_v1_matches_hf():
    torch.manual_seed(0)
    ours = VideoMAEV2(dict(arch=ARCH), dict(embed_dims=32, num_heads=2, num_layers=2),
                      decoder_mask=None).eval()
    with torch.no_grad():  # non-trivial biases and norms so that every weight matters
        for p in ours.parameters():
            p.add_(0.02 * torch.randn_like(p))
    hf = transformers.VideoMAEForPreTraining(hf_config(use_mean_pooling=False)).eval()
    hf.load_state_dict(official_to_hf(ours.state_dict()), strict=True)
    hf.decoder.norm.eps = 1e-6
    x, mask = clip_and_mask()
    pred, loss = ours.forward_mae(x, mask, None)
    with torch.no_grad():
        out = hf(pixel_values=x.transpose(1, 2), bool_masked_pos=mask)
    assert pred.shape == out.logits.shape == (2, 8, 1536)
    torch.testing.assert_close(pred, out.logits, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(loss, out.loss, rtol=1e-5, atol=1e-5)

    # and back: HF weights into a fresh vmae2 model through the checkpoint loader
    fresh = VideoMAEV2(dict(arch=ARCH), dict(embed_dims=32, num_heads=2, num_layers=2),
                       decoder_mask=None).eval()
    report = load_checkpoint(fresh, hf.state_dict())
    assert report.missing_keys == [] and report.unexpected_keys == []
    torch.testing.assert_close(fresh.forward_mae(x, mask, None)[0], pred, rtol=1e-6, atol=1e-6)


def test_classifier_logits_match_hf():
    init_default_scope('vmae2')
    torch.manual_seed(0)
    ours = MODELS.build(dict(
        type='Recognizer3D', backbone=dict(type='VideoViT', arch=ARCH),
        cls_head=dict(type='VideoMAEHead', num_classes=5, in_channels=64, init_scale=1.0),
        data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW'))).eval()
    with torch.no_grad():
        for p in ours.parameters():
            p.add_(0.02 * torch.randn_like(p))
    hf = transformers.VideoMAEForVideoClassification(hf_config(use_mean_pooling=True, num_labels=5))
    hf.eval()
    hf.fc_norm.eps = 1e-6
    hf_sd = official_to_hf({k.replace('backbone.', '').replace('cls_head.fc_cls.', 'head.'): v
                            for k, v in ours.state_dict().items()})
    hf.load_state_dict(hf_sd, strict=True)
    x, _ = clip_and_mask(1)
    with torch.no_grad():
        logits = ours(x[:, None], mode='tensor', stage='head')  # (B, clips=1, C, T, H, W)
        ref = hf(pixel_values=x.transpose(1, 2)).logits
    torch.testing.assert_close(logits, ref, rtol=1e-5, atol=1e-5)

    # HF classification weights load into a fresh recognizer through the checkpoint loader
    fresh = MODELS.build(dict(
        type='Recognizer3D', backbone=dict(type='VideoViT', arch=ARCH),
        cls_head=dict(type='VideoMAEHead', num_classes=5, in_channels=64))).eval()
    report = load_checkpoint(fresh, hf.state_dict())
    assert report.missing_keys == [] and report.unexpected_keys == []
    with torch.no_grad():
        torch.testing.assert_close(fresh(x[:, None], mode='tensor', stage='head'), ref,
                                   rtol=1e-5, atol=1e-5)
