"""The ActionFormer localizer's parts: pyramid shapes, masking, local attention, targets,
losses and Soft-NMS, against hand-computed or brute-force values."""
import math

import pytest
import torch

from projects.tal.tal_vmae2.models import (
    ActionFormer,
    ActionFormerHead,
    ConvTransformerBackbone,
    IdentityFPN,
    TALDataPreprocessor,
    batched_soft_nms,
    gaussian_soft_nms,
)
from projects.tal.tal_vmae2.models.blocks import LocalSelfAttention
from projects.tal.tal_vmae2.models.losses import diou_loss_1d
from projects.tal.tal_vmae2.models.point_targets import assign_targets, make_points


def tiny_localizer(in_channels=8, width=16, num_classes=3, window=19):
    model = ActionFormer(
        backbone=dict(type='ConvTransformerBackbone', in_channels=in_channels, embed_dims=width,
                      window=window, drop_path=0.0, proj_drop=0.0),
        neck=dict(type='IdentityFPN', in_channels=width),
        head=dict(type='ActionFormerHead', num_classes=num_classes, in_channels=width,
                  feat_channels=width))
    model.init_weights()
    return model.eval()


def test_pyramid_of_a_2304_step_input():
    torch.manual_seed(0)
    model = tiny_localizer()
    x = torch.randn(2, 8, 2304)
    mask = torch.ones(2, 2304, dtype=torch.bool)
    mask[1, 1500:] = False
    with torch.no_grad():
        logits, offsets = model(x, mask)
    assert [t.shape[1] for t in logits] == [2304, 1152, 576, 288, 144, 72]
    for level, (lg, off) in enumerate(zip(logits, offsets)):
        assert lg.shape == (2, 2304 // 2 ** level, 3)
        assert off.shape == (2, 2304 // 2 ** level, 2)
        assert (off >= 0).all() and torch.isfinite(lg).all()
    # the classifier starts at the prior probability 0.01 everywhere (up to the conv's input)
    assert model.head.cls_tower.out.bias.sigmoid().allclose(torch.tensor(0.01))
    with pytest.raises(ValueError, match='divisible by 32'):
        model(torch.randn(1, 8, 100), torch.ones(1, 100, dtype=torch.bool))


def test_padding_never_leaks_into_real_steps():
    torch.manual_seed(0)
    model = tiny_localizer(window=5)
    x = torch.randn(1, 8, 100)
    outs = []
    for length in (128, 192):
        padded = torch.zeros(1, 8, length)
        padded[..., :100] = x
        padded[..., 100:] = 7.0  # garbage, must not matter
        mask = torch.zeros(1, length, dtype=torch.bool)
        mask[:, :100] = True
        with torch.no_grad():
            logits, offsets = model(padded, mask)
        outs.append([lg[0, :math.ceil(100 / 2 ** i)] for i, lg in enumerate(logits)])
    for a, b in zip(*outs):
        assert torch.allclose(a, b, atol=1e-5)


def test_local_attention_equals_banded_full_attention():
    torch.manual_seed(0)
    attn = LocalSelfAttention(16, num_heads=4, window=5).eval()
    x = torch.randn(2, 16, 12)
    mask = torch.ones(2, 12, dtype=torch.bool)
    mask[1, 9:] = False
    out = attn(x, mask)
    # brute force: full attention with keys restricted to |t - s| <= 2 and to real steps
    q, k, v = attn.qkv(x.transpose(1, 2)).transpose(1, 2).reshape(2, 3, 4, 4, 12).unbind(1)
    scores = torch.einsum('bhdt,bhds->bhts', q * attn.scale, k)
    t = torch.arange(12)
    allowed = ((t[:, None] - t[None]).abs() <= 2)[None, None] & mask[:, None, None, :]
    scores = scores.masked_fill(~allowed, float('-inf')).softmax(-1)
    ref = attn.proj(torch.einsum('bhts,bhds->bhdt', scores, v).reshape(2, 16, 12)
                    .transpose(1, 2)).transpose(1, 2)
    # a padded step whose window holds no real step has no reference (nan): compare real steps
    real = mask[:, None].expand_as(out)
    assert torch.allclose(out[real], ref[real], atol=1e-5)
    assert (out[~real] == 0).all()


def test_targets_centre_sampling_ranges_and_shortest_action():
    # level 0 only (stride 1), range (0, 4): an action [10, 16] (centre 13, reach <= 4 for
    # points 12..14); radius 1.5 -> centre region [11.5, 14.5] -> points 12, 13, 14
    points, strides, ranges = make_points([32], [(0, 4)])
    cls_t, reg_t = assign_targets(points, strides, ranges, torch.tensor([[10., 16.]]),
                                  torch.tensor([1]), num_classes=3, center_radius=1.5)
    positive = cls_t.sum(-1).nonzero().flatten().tolist()
    assert positive == [12, 13, 14]
    assert cls_t[13].tolist() == [0., 1., 0.]
    assert reg_t[12].tolist() == [2., 4.] and reg_t[14].tolist() == [4., 2.]
    # the same segment with two labels (THUMOS14 CliffDiving / Diving) sets both classes, and a
    # point inside a longer action too takes the shorter one
    segs = torch.tensor([[10., 16.], [10., 16.], [4., 22.]])
    cls_t, reg_t = assign_targets(points, strides, torch.tensor([[0., 100.]]).expand(32, 2),
                                  segs, torch.tensor([0, 2, 1]), num_classes=3)
    assert cls_t[13].tolist() == [1., 0., 1.]
    assert reg_t[13].tolist() == [3., 3.]
    # level 1 (stride 2): targets are divided by the stride
    points, strides, ranges = make_points([16, 8], [(0, 1), (0, 100)])
    _, reg_t = assign_targets(points, strides, ranges, torch.tensor([[10., 16.]]),
                              torch.tensor([0]), num_classes=1)
    level1 = torch.nonzero(reg_t[16:].sum(-1)).flatten() + 16
    assert points[level1].tolist() == [12., 14.]
    assert reg_t[level1].tolist() == [[1., 2.], [2., 1.]]


def test_diou_loss_hand_values():
    t = torch.tensor([[2., 4.]])
    assert diou_loss_1d(t, t).item() == pytest.approx(0.0, abs=1e-7)
    # pred (1, 1) vs target (2, 4): inter 2, union 6, enclosing 6, centres 0 vs 1
    assert diou_loss_1d(torch.tensor([[1., 1.]]), t).item() == pytest.approx(
        1 - 2 / 6 + (1 / 6) ** 2)


def test_gaussian_soft_nms_hand_example():
    segs = torch.tensor([[0., 10.], [1., 11.], [20., 30.], [0., 5.]])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    kept, idx = gaussian_soft_nms(segs, scores, sigma=0.5, min_score=0.001)
    # pick 0 (0.9); decay 1 by iou 9/11, 2 by 0, 3 by iou 5/10
    s1 = 0.8 * math.exp(-(9 / 11) ** 2 / 0.5)
    s3 = 0.6 * math.exp(-0.5 ** 2 / 0.5)
    # next: 2 (0.7, untouched), then 3 (0.364 > s1 = 0.210) decays 1 by iou([0,5],[1,11]) = 4/11
    s1b = s1 * math.exp(-(4 / 11) ** 2 / 0.5)
    assert idx.tolist() == [0, 2, 3, 1]
    assert kept.tolist() == pytest.approx([0.9, 0.7, s3, s1b], rel=1e-6)
    kept, idx = gaussian_soft_nms(segs, scores, sigma=0.5, min_score=0.3, max_num=3)
    assert idx.tolist() == [0, 2, 3]  # s1b < 0.3: dropped
    # per class: segment 1 in another class is not decayed by segment 0
    score, idx = batched_soft_nms(segs, scores, torch.tensor([0, 1, 0, 0]), max_num=3)
    assert idx.tolist() == [0, 1, 2] and score[1].item() == pytest.approx(0.8)


def test_loss_normalised_by_positive_ema_and_trainable():
    torch.manual_seed(0)
    head = ActionFormerHead(num_classes=2, in_channels=8, feat_channels=8, num_levels=2,
                            regression_ranges=[(0, 4), (4, 100)], init_loss_norm=100)
    head.init_weights()
    head.train()
    feats = [torch.randn(1, 8, 32), torch.randn(1, 8, 16)]
    masks = [torch.ones(1, 32, dtype=torch.bool), torch.ones(1, 16, dtype=torch.bool)]
    logits, offsets = head(feats, masks)
    losses = head.loss(logits, offsets, masks, [torch.tensor([[10., 16.]])], [torch.tensor([1])])
    # level 0: points 12, 13, 14 (reach 4, 3, 4 <= 4); level 1 (stride 2, radius 3): points 12
    # and 14 (reach 4 >= 4): both range ends are inclusive. The EMA moves from 100 towards 5
    assert losses['num_pos'].item() == 5
    assert head.loss_normalizer.item() == pytest.approx(0.9 * 100 + 0.1 * 5)
    (losses['loss_cls'] + losses['loss_reg']).backward()
    assert head.scales.grad is not None and head.cls_tower.out.weight.grad.abs().sum() > 0


def test_preprocessor_pads_to_max_in_training_and_to_divisor_in_test():
    pre = TALDataPreprocessor(max_seq_len=128, pad_divisor=32)
    data = dict(inputs=[torch.ones(4, 70), torch.ones(4, 100)], data_samples=None)
    out = pre(data, training=True)
    assert out['inputs'].shape == (2, 4, 128) and out['masks'].sum(1).tolist() == [70, 100]
    out = pre(dict(inputs=[torch.ones(4, 70)], data_samples=None), training=False)
    assert out['inputs'].shape == (1, 4, 96)
    with pytest.raises(ValueError, match='RandomTruncateFeats'):
        pre(dict(inputs=[torch.ones(4, 200)], data_samples=None), training=True)


def test_modules_are_registered():
    from vmae2.registry import MODELS
    for cls in (ActionFormer, ConvTransformerBackbone, IdentityFPN, ActionFormerHead,
                TALDataPreprocessor):
        assert MODELS.get(cls.__name__) is cls
