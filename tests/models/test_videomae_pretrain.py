"""VideoMAEV2: the official forward and loss recomputed independently, query order and loss
weights for dual and V1 masking, masks from data samples, training."""
import pytest
import torch
import torch.nn as nn
from einops import rearrange
from mmaction.structures import ActionDataSample

import vmae2.models  # noqa: F401
from vmae2.masking import RunningCellMaskGenerator, TubeMaskGenerator
from vmae2.models import VideoMAEV2
from vmae2.models.layers import get_sinusoid_encoding_table

TINY = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64, patch_size=8)
DEC = dict(embed_dims=16, num_heads=2, num_layers=2)
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def tiny_model(decoder_mask=dict(type='RunningCellMaskGenerator', ratio=0.5), **kw):
    torch.manual_seed(0)
    return VideoMAEV2(dict(arch=TINY), dict(DEC), decoder_mask=decoder_mask, **kw)


def tiny_batch(B=2, seed=0):
    """Normalised clip (B, 3, 4, 32, 32): grid (2, 4, 4) = 32 tokens; tube 0.75 and cell 0.5."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, 3, 4, 32, 32, generator=g)
    enc = TubeMaskGenerator((2, 4, 4), 0.75).batch(B, g)
    dec = RunningCellMaskGenerator((2, 4, 4), 0.5).batch(B, g)
    return x, enc, dec


def official_forward(model, x, mask, decode_mask=None):
    """The official PretrainVisionTransformer.forward, with boolean indexing as written there."""
    enc = model.encoder
    emb = enc.patch_embed(x).flatten(2).transpose(1, 2)
    B, N, C = emb.shape
    emb = emb + get_sinusoid_encoding_table(N, C)
    x_vis = emb[~mask].reshape(B, -1, C)
    for blk in enc.blocks:
        x_vis = blk(x_vis)
    x_vis = model.encoder_to_decoder(enc.norm(x_vis))
    Cd = x_vis.shape[-1]
    decode_vis = mask if decode_mask is None else ~decode_mask
    pos = get_sinusoid_encoding_table(N, Cd).expand(B, -1, -1)
    pos_vis = pos[~mask].reshape(B, -1, Cd)
    pos_mask = pos[decode_vis].reshape(B, -1, Cd)
    x_full = torch.cat([x_vis + pos_vis, model.mask_token + pos_mask], dim=1)
    for blk in model.decoder.blocks:
        x_full = blk(x_full)
    n = pos_mask.shape[1]
    return model.decoder.head(model.decoder.norm(x_full[:, -n:]))


def official_loss(x, outputs, mask, decode_mask, p=8, normalize=True):
    """engine_for_pretraining.py: target, labels = patch[~decode_masked_pos], weighted loss."""
    mean = torch.as_tensor(MEAN)[None, :, None, None, None]
    std = torch.as_tensor(STD)[None, :, None, None, None]
    unnorm = x * std + mean
    if normalize:
        sq = rearrange(unnorm, 'b c (t p0) (h p1) (w p2) -> b (t h w) (p0 p1 p2) c',
                       p0=2, p1=p, p2=p)
        norm = (sq - sq.mean(dim=-2, keepdim=True)) / (
            sq.var(dim=-2, unbiased=True, keepdim=True).sqrt() + 1e-6)
        patch = rearrange(norm, 'b n p c -> b n (p c)')
    else:
        patch = rearrange(unnorm, 'b c (t p0) (h p1) (w p2) -> b (t h w) (p0 p1 p2 c)',
                          p0=2, p1=p, p2=p)
    B, N, C = patch.shape
    if decode_mask is None:  # VideoMAE V1: labels are the masked tokens, all weighted
        labels = patch[mask].reshape(B, -1, C)
        return ((outputs - labels) ** 2).mean()
    labels = patch[~decode_mask].reshape(B, -1, C)
    loss = ((outputs - labels) ** 2).mean(dim=-1)
    cal_loss_mask = mask[~decode_mask].reshape(B, -1)
    return (loss * cal_loss_mask).sum() / cal_loss_mask.sum()


@pytest.mark.parametrize('dual', [True, False])
@pytest.mark.parametrize('normalize', [True, False])
def test_matches_official_forward_and_loss(dual, normalize):
    model = tiny_model(None if not dual else dict(type='RunningCellMaskGenerator', ratio=0.5),
                       norm_pix_loss=normalize).eval()
    x, enc, dec = tiny_batch()
    dec = dec if dual else None
    pred, loss = model.forward_mae(x, enc, dec)
    ref = official_forward(model, x, enc, dec)
    torch.testing.assert_close(pred, ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(loss, official_loss(x, ref, enc, dec, normalize=normalize),
                               rtol=1e-5, atol=1e-6)
    # dual: 16 queries (cell 0.5 of 32), V1: the 24 tube-masked tokens
    assert pred.shape == (2, 16 if dual else 24, 3 * 2 * 8 * 8)


def test_loss_hand_built_example():
    """A clip whose target is known in closed form: loss = mean of pred^2 ... computed by hand.

    One 2x8x8 tubelet per token (grid (1, 1, 1) needs patch 8, 2 frames, 8x8): with a linear
    ramp in pixels, every channel of the normalised tubelet is (v - mean) / std_unbiased.
    """
    model = tiny_model(decoder_mask=None)
    ramp = torch.arange(128, dtype=torch.float64).reshape(2, 8, 8) / 127.  # (t, y, x) in [0, 1]
    pix = torch.stack([ramp, 1 - ramp, ramp ** 2])  # (3, 2, 8, 8)
    clip = torch.cat([pix, pix], dim=-1)  # (3, 2, 8, 16): two tokens side by side, same pixels
    x = ((clip - torch.tensor(MEAN, dtype=torch.float64)[:, None, None, None])
         / torch.tensor(STD, dtype=torch.float64)[:, None, None, None]).float()[None]
    # by hand: per channel, normalise the 128 values, order (t, y, x, c)
    vals = pix.reshape(3, 128)
    target = (vals - vals.mean(1, keepdim=True)) / (vals.std(1, unbiased=True, keepdim=True) + 1e-6)
    target = target.t().reshape(-1)  # (128 * 3,), channel fastest
    pred = torch.zeros(1, 1, 384)
    pred[0, 0, :] = 0.5
    expected = ((0.5 - target) ** 2).mean()
    # call the loss parts directly with token 1 masked, token 0 visible
    from vmae2.models.losses import pixel_target
    tgt = pixel_target(x, 8, 2)
    assert tgt.shape == (1, 2, 384)
    torch.testing.assert_close(tgt[0, 1].double(), target, rtol=1e-5, atol=1e-5)
    loss = model.loss_fn(pred, tgt[:, 1:], torch.ones(1, 1))
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)
    # the un-normalised target is the pixels themselves
    raw = pixel_target(x, 8, 2, normalize=False)
    torch.testing.assert_close(raw[0, 0].double(), pix.reshape(3, 128).t().reshape(-1),
                               rtol=0, atol=1e-6)


class EchoDecoder(nn.Module):
    """Returns the decoder input of the queries (to read the order and positions back)."""

    def __init__(self, dims):
        super().__init__()
        self.norm = nn.LayerNorm(dims)
        self.blocks = nn.ModuleList()

    def forward(self, x, return_token_num):
        q = x[:, x.shape[1] - return_token_num:]
        return torch.cat([q, q.new_zeros(*q.shape[:2], 384 - q.shape[2])], -1)  # head width


@pytest.mark.parametrize('dual', [True, False])
def test_query_order_and_loss_weights(dual):
    torch.manual_seed(0)
    model = VideoMAEV2(dict(arch=TINY), EchoDecoder(16))
    with torch.no_grad():
        model.mask_token.zero_()
    x, enc, dec = tiny_batch()
    dec = dec if dual else None
    pred, _ = model.forward_mae(x, enc, dec)
    query_mask = ~dec if dual else enc
    table = get_sinusoid_encoding_table(32, 16)[0]
    for b in range(2):
        idx = query_mask[b].nonzero()[:, 0]  # ascending token order
        torch.testing.assert_close(pred[b, :, :16], table[idx])
    # loss weights: a query counts only when the encoder did not see it
    target = torch.zeros(2, 32, 384)
    target[..., 0] = torch.arange(32.)  # per-token error = (token id)^2 / 384 with pred 0
    from vmae2.models.selfsup import mask_to_index
    q = mask_to_index(query_mask)
    w = enc.gather(1, q).float()
    per_token = target.gather(1, q[..., None].expand(-1, -1, 384)).pow(2).mean(-1)
    loss = model.loss_fn(torch.zeros(2, q.shape[1], 384), target.gather(
        1, q[..., None].expand(-1, -1, 384)), enc.gather(1, q))
    assert float(loss) == pytest.approx(float((per_token * w).sum() / w.sum()))
    if dual:
        assert 0 < int(w.sum()) < w.numel()  # some queries were visible to the encoder
    else:
        assert bool(w.all())


def _seeded_samples(seeds):
    samples = []
    for s in seeds:
        ds = ActionDataSample()
        ds.set_metainfo(dict(mask_seed=s))
        samples.append(ds)
    return samples


def test_masks_from_each_samples_seed_and_drawn_when_absent():
    """The model owns the masks: each sample's pair comes from its own ``mask_seed`` stream
    (encoder mask first), whatever the other samples of the batch; no seeds -> the generator."""
    model = tiny_model().eval()
    x = tiny_batch()[0]
    enc, dec = model.get_masks(x, _seeded_samples([11, 22]))
    for b, seed in enumerate([11, 22]):
        g = torch.Generator().manual_seed(seed)
        assert torch.equal(enc[b], TubeMaskGenerator((2, 4, 4), 0.9)(g))
        assert torch.equal(dec[b], RunningCellMaskGenerator((2, 4, 4), 0.5)(g))
    swapped = model.get_masks(x, _seeded_samples([22, 11]))
    assert torch.equal(swapped[0], enc.flip(0)) and torch.equal(swapped[1], dec.flip(0))
    assert not torch.equal(enc[0], enc[1])
    with torch.no_grad():
        loss = model(x, _seeded_samples([11, 22]), mode='loss')['loss']
        assert float(loss) == pytest.approx(float(model.forward_mae(x, enc, dec)[1]), rel=1e-6)
    drawn_enc, drawn_dec = model.get_masks(x, None, torch.Generator().manual_seed(0))
    assert drawn_enc.shape == (2, 32) and bool((drawn_enc.sum(1) == 2 * int(0.9 * 16)).all())
    assert bool((drawn_dec.sum(1) == 16).all())
    assert model.get_masks(x, None)[1] is not None
    assert tiny_model(decoder_mask=None).get_masks(x, _seeded_samples([11, 22]))[1] is None


def test_unequal_masks_are_refused():
    model = tiny_model()
    x, enc, dec = tiny_batch()
    enc[0, enc[0].nonzero()[0]] = False
    with pytest.raises(ValueError, match='same number'):
        model.forward_mae(x, enc, dec)


def test_reconstruct_keeps_visible_pixels():
    model = tiny_model().eval()
    x, enc, dec = tiny_batch()
    out = model.reconstruct(x, enc, dec)
    assert out['reconstruction'].shape == x.shape
    from vmae2.models.losses import patchify
    rec = patchify(out['reconstruction'], 8, 2)
    orig = patchify(out['original'], 8, 2)
    keep = ~out['query_mask']
    torch.testing.assert_close(rec[keep], orig[keep])
    assert not torch.allclose(rec[out['query_mask']], orig[out['query_mask']])
    ref = float(model.forward_mae(x, enc, dec)[1].detach())
    assert float(out['loss']) == pytest.approx(ref, rel=1e-6)


@torch.no_grad()
def test_official_init():
    model = tiny_model()
    assert float(model.mask_token.std()) == pytest.approx(0.02, rel=0.6)
    fc1 = model.encoder.blocks[0].mlp.fc1.weight
    bound = (6 / (fc1.shape[0] + fc1.shape[1])) ** 0.5  # xavier-uniform
    assert float(fc1.abs().max()) <= bound and float(fc1.abs().max()) > 0.8 * bound
    assert float(model.decoder.head.bias.abs().sum()) == 0
    assert model.encoder_to_decoder.bias is None
    assert model.decoder.blocks[0].mlp.fc1.weight.shape == (32, 16)  # encoder's MLP ratio 2


@pytest.mark.parametrize('dual', [True, False])
def test_training_lowers_loss_and_every_param_gets_grad(dual):
    model = tiny_model(None if not dual else dict(type='RunningCellMaskGenerator', ratio=0.5))
    model.train()
    x, enc, dec = tiny_batch()
    dec = dec if dual else None
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for step in range(12):
        opt.zero_grad()
        _, loss = model.forward_mae(x, enc, dec)
        loss.backward()
        if step == 0:
            no_grad = [n for n, p in model.named_parameters()
                       if p.grad is None or float(p.grad.abs().sum()) == 0]
            assert no_grad == []
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.9 * losses[0]
