"""VideoViT: parameter counts, every arch built tiny, outputs, checkpointing, positions."""
import math

import pytest
import torch

import vmae2.models  # noqa: F401
from vmae2.models.backbones import ARCH_ZOO, VideoViT, resolve_arch
from vmae2.models.layers import get_sinusoid_encoding_table
from vmae2.registry import MODELS

ARCHS = ['s', 'b', 'l', 'h', 'g']
# fine-tuning parameters with a 400-class head (VideoMAE V2 paper / official models)
PARAMS_400 = {'s': 22.0, 'b': 86.5, 'l': 304.3, 'h': 632.1, 'g': 1012.2}


def tiny(arch: str, layers: int = 2) -> dict:
    """Same heads, patch and MLP ratio as ``arch``, 8 channels per head."""
    row = ARCH_ZOO[arch]
    dims = row['num_heads'] * 4
    return dict(embed_dims=dims, num_layers=layers, num_heads=row['num_heads'],
                feedforward_channels=dims * row['feedforward_channels'] // row['embed_dims'],
                patch_size=row['patch_size'])


def clip_for(arch_cfg, frames=4, batch=2, seed=0):
    p = arch_cfg['patch_size']
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, frames, 2 * p, 4 * p, generator=g)


@pytest.mark.parametrize('arch', ARCHS)
def test_param_count_matches_paper(arch):
    with torch.device('meta'):  # ViT-g has a billion parameters: count without allocating
        backbone = VideoViT(arch)
    dims = ARCH_ZOO[arch]['embed_dims']
    n = sum(p.numel() for p in backbone.parameters()) + dims * 400 + 400
    assert round(n / 1e6, 1) == PARAMS_400[arch]


@pytest.mark.parametrize('name', ['s', 'SMALL', 'Base', 'l', 'Huge', 'giant'])
def test_arch_aliases(name):
    assert resolve_arch(name) == ARCH_ZOO[name.lower()]


def test_bad_arch_names_the_choices():
    with pytest.raises(KeyError, match='giant'):
        resolve_arch('xl')
    with pytest.raises(KeyError, match='patch_size'):
        resolve_arch(dict(embed_dims=8, num_layers=1, num_heads=1, feedforward_channels=8))


@pytest.mark.parametrize('arch', ARCHS)
def test_every_arch_tiny_forward_backward(arch):
    torch.manual_seed(0)
    cfg = tiny(arch)
    model = MODELS.build(dict(type='VideoViT', arch=cfg, drop_path_rate=0.1, init_values=0.1))
    x = clip_for(cfg)
    model.train()
    out = model(x)
    assert out.shape == (2, cfg['embed_dims'])
    assert torch.isfinite(out).all()
    out.pow(2).sum().backward()
    no_grad = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum()]
    assert no_grad == []


@pytest.mark.parametrize('arch', ['s', 'g'])
def test_activation_checkpointing_identical(arch):
    torch.manual_seed(0)
    cfg = tiny(arch)
    ref = VideoViT(cfg, out_type='tokens', use_mean_pooling=False)
    ckpt = VideoViT(cfg, out_type='tokens', use_mean_pooling=False, with_cp=True)
    ckpt.load_state_dict(ref.state_dict())
    x = clip_for(cfg)
    outs, grads = [], []
    for m in (ref, ckpt):
        m.train()
        y = m(x)
        y.sum().backward()
        outs.append(y.detach())
        grads.append(torch.cat([p.grad.flatten() for p in m.parameters()]))
    assert torch.equal(outs[0], outs[1])
    torch.testing.assert_close(grads[0], grads[1], rtol=0, atol=1e-6)


def test_output_types_agree():
    torch.manual_seed(0)
    cfg = tiny('b')
    x = clip_for(cfg, frames=4)
    tokens_m = VideoViT(cfg, out_type='tokens').eval()
    sd = tokens_m.state_dict()
    pooled_m, map_m = VideoViT(cfg).eval(), VideoViT(cfg, out_type='featmap').eval()
    pooled_m.load_state_dict(sd)
    map_m.load_state_dict(sd)
    tokens, pooled, fmap = tokens_m(x), pooled_m(x), map_m(x)
    assert tokens.shape == (2, 2 * 2 * 4, cfg['embed_dims'])
    assert fmap.shape == (2, cfg['embed_dims'], 2, 2, 4)
    # the map is the token sequence in (t, h, w) order
    torch.testing.assert_close(fmap.flatten(2).transpose(1, 2), tokens)
    torch.testing.assert_close(pooled, pooled_m.fc_norm(tokens.mean(1)))
    # pooled output is LayerNormed: zero mean, unit variance per sample at init
    torch.testing.assert_close(pooled.mean(-1), torch.zeros(2), atol=1e-5, rtol=0)


def test_keep_idx_equals_boolean_masking():
    """Gathering kept tokens by index == the official x[~mask].reshape(B, -1, C)."""
    torch.manual_seed(0)
    cfg = tiny('s', layers=1)
    m = VideoViT(cfg, use_mean_pooling=False, out_type='tokens').eval()
    x = clip_for(cfg)
    mask = torch.zeros(2, 16, dtype=torch.bool)
    mask[0, [1, 4, 5, 9]] = True
    mask[1, [0, 2, 3, 15]] = True
    keep = (~mask).nonzero()[:, 1].view(2, -1)
    ours = m.forward_features(x, keep)
    emb = m.patch_embed(x).flatten(2).transpose(1, 2) + get_sinusoid_encoding_table(16, 24)
    vis = emb[~mask].reshape(2, -1, 24)
    for blk in m.blocks:
        vis = blk(vis)
    torch.testing.assert_close(ours, m.norm(vis), rtol=1e-5, atol=1e-5)


def test_position_table_golden_and_regenerated():
    table = get_sinusoid_encoding_table(4, 6)[0]
    # angle = pos / 10000^(2*(j//2)/6): sin on even j, cos on odd j
    expected = torch.tensor([[(math.sin if j % 2 == 0 else math.cos)(
        pos / 10000 ** (2 * (j // 2) / 6)) for j in range(6)] for pos in range(4)])
    assert table[1, 0] == pytest.approx(0.8414710, abs=1e-7)  # sin(1)
    assert table[2, 1] == pytest.approx(-0.4161468, abs=1e-7)  # cos(2)
    torch.testing.assert_close(table, expected, rtol=0, atol=1e-7)
    # no position weights in the state dict; a longer clip just gets a longer table
    m = VideoViT(tiny('s', layers=1), out_type='tokens')
    assert not any('pos' in k for k in m.state_dict())
    assert m(torch.randn(1, 3, 8, 32, 32)).shape == (1, 4 * 2 * 2, 24)


def test_layer_depth_for_layer_decay():
    m = VideoViT(tiny('s', layers=3))
    assert m.get_layer_depth('backbone.patch_embed.proj.weight', 'backbone.') == (0, 5)
    assert m.get_layer_depth('backbone.blocks.2.attn.qkv.weight', 'backbone.') == (3, 5)
    assert m.get_layer_depth('backbone.fc_norm.weight', 'backbone.') == (4, 5)
