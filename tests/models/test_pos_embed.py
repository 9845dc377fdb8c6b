"""Position tables: the 3-D table's layout, and why the toy configs use it — a tiny VideoMAE
learns *where* things are with it, and not with the official 1-D table at toy width."""
import pytest
import torch

from vmae2.checkpoints import check_pos_embed_type, load_checkpoint, model_pos_embed_type
from vmae2.engine.hooks import SafeCheckpointHook
from vmae2.masking import RunningCellMaskGenerator, TubeMaskGenerator
from vmae2.models import VideoMAEV2, VideoViT
from vmae2.models.layers import position_table, sinusoid_table, sinusoid_table_3d
from vmae2.models.losses import pixel_target
from vmae2.models.selfsup.videomae import mask_to_index


def test_3d_table_layout():
    grid, dim = (2, 3, 4), 16  # h and w get 2 * (16 // 6) = 4 channels each, t the other 8
    table = sinusoid_table_3d(grid, dim)
    assert table.shape == (24, 16)
    t, h, w = torch.meshgrid(*(torch.arange(g) for g in grid), indexing='ij')
    t, h, w = t.flatten(), h.flatten(), w.flatten()
    # the w block: sin(w), sin(w / 100), cos(w), cos(w / 100)
    expected_w = torch.stack([w.sin(), (w / 100.).sin(), w.cos(), (w / 100.).cos()], 1)
    torch.testing.assert_close(table[:, 12:], expected_w.float())
    expected_t0 = t.float().sin()  # first t channel: sin(t * 1)
    torch.testing.assert_close(table[:, 0], expected_t0)
    # tokens in the same column share the w block, and no two tokens share a row
    assert torch.equal(table[w == 1, 12:], table[w == 1, 12:][:1].expand(6, -1))
    assert torch.unique(table, dim=0).shape[0] == 24


def test_position_table_kinds():
    assert torch.equal(position_table('1d', (2, 3, 4), 16), sinusoid_table(24, 16))
    assert torch.equal(position_table('3d', (2, 3, 4), 16), sinusoid_table_3d((2, 3, 4), 16))
    with pytest.raises(ValueError, match='1d'):
        position_table('2d', (2, 3, 4), 16)
    with pytest.raises(ValueError, match='pos_embed_type'):
        VideoViT(arch='s', pos_embed_type='learned')
    with pytest.raises(ValueError, match='even width'):
        sinusoid_table_3d((2, 3, 4), 5)


_TINY = dict(embed_dims=32, num_layers=1, num_heads=2, feedforward_channels=64, patch_size=8)


def test_checkpoints_record_and_check_the_pos_embed_type():
    """The table is not in the weights, so the kind travels in ``meta`` and loads compare it."""
    class FakeRunner:  # what the hook reads of a runner
        def __init__(self, model):
            self.model = model

    model_3d = VideoMAEV2(dict(arch=_TINY, pos_embed_type='3d'),
                          dict(embed_dims=16, num_heads=2, num_layers=1))
    assert model_pos_embed_type(model_3d) == '3d'
    hook = SafeCheckpointHook()
    ckpt = {'meta': {'epoch': 1}, 'state_dict': model_3d.state_dict()}
    hook.before_save_checkpoint(FakeRunner(model_3d), ckpt)
    assert ckpt['meta'] == {'epoch': 1, 'pos_embed_type': '3d'}
    hook.after_load_checkpoint(FakeRunner(model_3d), ckpt)  # same kind: loads

    model_1d = VideoMAEV2(dict(arch=_TINY), dict(embed_dims=16, num_heads=2, num_layers=1))
    with pytest.raises(ValueError, match="pos_embed_type='3d' but this model uses '1d'"):
        hook.after_load_checkpoint(FakeRunner(model_1d), ckpt)
    # the loader behind load_from, init_cfg, init_recognizer and the tools refuses it too,
    # before it changes any weight
    before = {k: v.clone() for k, v in model_1d.state_dict().items()}
    with pytest.raises(ValueError, match='model.backbone.pos_embed_type=3d'):
        load_checkpoint(model_1d, ckpt)
    assert all(torch.equal(v, model_1d.state_dict()[k]) for k, v in before.items())
    # official / HF / older checkpoints carry no record and load as before
    check_pos_embed_type(model_1d, {'model': {}})
    assert load_checkpoint(model_1d, {'state_dict': ckpt['state_dict']}).missing_keys == []


def _halves(B, g):
    """Clips whose left and right halves each have a random colour: ``(B, 3, 4, 32, 32)``,
    normalised, with a tube mask (4 of 16 positions visible) and a running-cell mask."""
    left, right = torch.rand(B, 3, 1, 1, 1, generator=g), torch.rand(B, 3, 1, 1, 1, generator=g)
    x = torch.cat([left.expand(-1, -1, 4, 32, 16), right.expand(-1, -1, 4, 32, 16)], -1)
    enc = TubeMaskGenerator((2, 4, 4), 0.75).batch(B, g)
    dec = RunningCellMaskGenerator((2, 4, 4), 0.5).batch(B, g)
    return (x - 0.45) / 0.225, enc, dec


def _train_halves(pos_embed_type, steps=500):
    torch.manual_seed(0)
    arch = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64, patch_size=8)
    model = VideoMAEV2(dict(arch=arch, pos_embed_type=pos_embed_type),
                       dict(embed_dims=16, num_heads=2, num_layers=2), norm_pix_loss=False)
    g = torch.Generator().manual_seed(0)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(steps):
        _, loss = model.forward_mae(*_halves(32, g))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    x, enc, dec = _halves(256, torch.Generator().manual_seed(1))
    with torch.no_grad():
        _, loss = model.forward_mae(x, enc, dec)
    # position-blind reference: every hidden token gets the mean colour of the visible ones
    target = pixel_target(x, 8, 2, False, model.target_mean, model.target_std)  # (B, 32, 384)
    visible = (~enc).float()[..., None]
    blind = ((target * visible).sum(1, keepdim=True) / visible.sum(1, keepdim=True))
    query = mask_to_index(~dec)
    weight = enc.gather(1, query).float()
    err = ((blind - target).pow(2).mean(-1)).gather(1, query)
    return float(loss), float((err * weight).sum() / weight.sum())


@pytest.mark.slow
def test_3d_table_learns_where_the_colours_are():
    loss_3d, blind = _train_halves('3d')
    loss_1d, _ = _train_halves('1d')
    # 3-D: hidden tokens take the colour of their own half (well below the blind copy);
    # 1-D at this width: barely better than copying the mean visible colour everywhere
    assert loss_3d < 0.4 * blind, (loss_3d, blind)
    assert loss_1d > 0.7 * blind, (loss_1d, blind)
