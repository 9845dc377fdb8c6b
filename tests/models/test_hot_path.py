"""The training step's hot path does no avoidable work: the position table is cached per
grid / device / dtype, the visible tokens are gathered before anything else touches them, the
residual stream is contiguous, the pixel target is computed for the queries only, and under
autocast the decoder runs in the encoder's dtype. Each shortcut gives the same numbers as the
straightforward computation it replaces."""
import torch

import vmae2.models  # noqa: F401
from vmae2.masking import RunningCellMaskGenerator, TubeMaskGenerator
from vmae2.models import VideoMAEV2, VideoViT
from vmae2.models.layers import pos_embed, position_table, sinusoid_table
from vmae2.models.losses import gather_tubelets, patchify, pixel_target
from vmae2.models.selfsup.videomae import mask_to_index

TINY = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64, patch_size=8)


def tiny_inputs(B=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, 3, 4, 32, 32, generator=g)  # grid (2, 4, 4): 32 tokens
    enc = TubeMaskGenerator((2, 4, 4), 0.75).batch(B, g)
    dec = RunningCellMaskGenerator((2, 4, 4), 0.5).batch(B, g)
    return x, enc, dec


def test_position_table_is_cached_per_grid_device_dtype():
    grid = (3, 5, 7)  # a grid no other test uses
    a = position_table('1d', grid, 24, 'cpu', torch.bfloat16)
    assert position_table('1d', grid, 24, torch.device('cpu'), torch.bfloat16) is a
    assert position_table('1d', list(grid), 24, None, torch.bfloat16) is a
    b = position_table('1d', grid, 24)
    assert b is not a and b.dtype == torch.float32
    assert torch.equal(a, sinusoid_table(105, 24).to(torch.bfloat16))
    assert torch.equal(b, sinusoid_table(105, 24))
    assert position_table('3d', grid, 24) is not b


def test_position_table_made_in_inference_mode_serves_training():
    grid = (2, 3, 3)
    with torch.inference_mode():
        table = position_table('1d', grid, 8)
    assert not table.is_inference()
    w = torch.ones(8, requires_grad=True)
    (position_table('1d', grid, 8) * w).sum().backward()  # would raise for an inference tensor
    assert torch.equal(w.grad, table.sum(0))


def test_steps_build_no_table_after_the_first():
    model = VideoMAEV2(dict(arch=TINY), dict(embed_dims=16, num_heads=2, num_layers=1))
    x, enc, dec = tiny_inputs()
    model.forward_mae(x, enc, dec)
    misses = pos_embed._cached_table.cache_info().misses
    for _ in range(2):
        model.forward_mae(x, enc, dec)[1].backward()
        with torch.autocast('cpu', torch.bfloat16):
            model.forward_mae(x, enc, dec)
    # bf16 tables were built on the first autocast step, none after
    with torch.autocast('cpu', torch.bfloat16):
        model.forward_mae(x, enc, dec)
    after_first_bf16 = pos_embed._cached_table.cache_info().misses
    assert after_first_bf16 - misses <= 2  # at most the encoder's and the decoder's bf16 table
    with torch.autocast('cpu', torch.bfloat16):
        model.forward_mae(x, enc, dec)
    assert pos_embed._cached_table.cache_info().misses == after_first_bf16


def test_encoder_gathers_then_adds_positions_exactly_and_contiguously():
    torch.manual_seed(0)
    vit = VideoViT(arch=TINY, use_mean_pooling=False, out_type='tokens').eval()
    x, enc, _ = tiny_inputs()
    keep = mask_to_index(~enc)
    captured = []
    vit.blocks[0].register_forward_pre_hook(lambda m, a: captured.append(a[0]))
    vit.forward_features(x, keep)
    vit.forward_features(x)
    emb = vit.patch_embed(x).flatten(2).transpose(1, 2)  # (B, N, D)
    full = emb + sinusoid_table(32, 32)
    expected = full.gather(1, keep[..., None].expand(-1, -1, 32))
    # the tubelets are embedded by one GEMM (only the kept ones): the conv's sums in another
    # order
    torch.testing.assert_close(captured[0], expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(captured[1], full, rtol=1e-5, atol=1e-5)
    # a transposed stream would make every LayerNorm / Linear copy its input
    assert captured[0].is_contiguous() and captured[1].is_contiguous()


def test_embedding_the_kept_tubelets_equals_the_conv_then_gather():
    """:meth:`PatchEmbed3D.embed_tubelets` (gather, then one GEMM) against the Conv3d over the
    whole clip, for a clip with frames / pixels past the last whole tubelet: outputs and the
    gradients of the weight and bias, for some tubelets and for all."""
    torch.manual_seed(0)
    vit = VideoViT(arch=TINY, use_mean_pooling=False, out_type='tokens')
    pe = vit.patch_embed
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 3, 5, 35, 33, generator=g)  # grid (2, 4, 4) + a ragged border
    keep = torch.stack([torch.randperm(32, generator=g)[:9].sort().values for _ in range(2)])
    ours = pe.embed_tubelets(x, keep)
    ours.square().sum().backward()
    grads = [p.grad.clone() for p in (pe.proj.weight, pe.proj.bias)]
    pe.zero_grad()
    ref = pe(x).flatten(2).transpose(1, 2).gather(1, keep[..., None].expand(-1, -1, 32))
    ref.square().sum().backward()
    assert ours.shape == (2, 9, 32) and ours.is_contiguous()
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)
    for a, p in zip(grads, (pe.proj.weight, pe.proj.bias)):
        # each weight gradient sums 18 tubelets in another order than the conv's backward: fp32
        # rounding scales with the gradient's size (max 24 here), so 1e-5 of its largest entry
        # (a fixed 1e-5 failed once in CI on an entry of 0.02: 1.03e-5 off)
        scale = float(p.grad.abs().max())
        torch.testing.assert_close(a, p.grad, rtol=1e-5, atol=1e-5 * max(scale, 1.0))
    everything = pe(x).flatten(2).transpose(1, 2)
    torch.testing.assert_close(pe.embed_tubelets(x), everything, rtol=1e-5, atol=1e-5)
    with torch.autocast('cpu', torch.bfloat16):  # the same dtype as the conv under autocast
        assert pe.embed_tubelets(x, keep).dtype == pe(x).dtype == torch.bfloat16
        torch.testing.assert_close(pe.embed_tubelets(x).float(), everything, rtol=0.02,
                                   atol=0.02)


def test_pixel_target_of_the_queries_equals_gathering_the_full_target():
    x, _, dec = tiny_inputs()
    idx = mask_to_index(~dec)  # (B, 16)
    for normalize in (True, False):
        full = pixel_target(x, 8, 2, normalize)
        direct = pixel_target(x, 8, 2, normalize, index=idx)
        gathered = full.gather(1, idx[..., None].expand(-1, -1, full.shape[-1]))
        if normalize:  # per-tubelet means / stds: the same sums, maybe in another order
            torch.testing.assert_close(direct, gathered, rtol=0, atol=2e-6)
        else:  # elementwise only: bit for bit
            assert torch.equal(direct, gathered)
    tubelets = gather_tubelets(x, idx, 8, 2)
    assert torch.equal(tubelets, patchify(x, 8, 2).gather(
        1, idx[:, :, None, None].expand(-1, -1, 128, 3)))


def test_decoder_stream_follows_the_encoder_dtype_under_autocast():
    torch.manual_seed(0)
    model = VideoMAEV2(dict(arch=TINY), dict(embed_dims=16, num_heads=2, num_layers=1))
    x, enc, dec = tiny_inputs()
    seen = []
    model.decoder.blocks[0].register_forward_pre_hook(lambda m, a: seen.append(a[0].dtype))
    loss32 = model.forward_mae(x, enc, dec)[1]
    with torch.autocast('cpu', torch.bfloat16):
        loss16 = model.forward_mae(x, enc, dec)[1]
    assert seen == [torch.float32, torch.bfloat16]  # no fp32 residual stream under autocast
    assert loss16.dtype == torch.float32
    torch.testing.assert_close(loss16, loss32, rtol=0.02, atol=0)


def test_a_table_first_built_under_a_meta_device_context_is_still_real():
    """FLOP counting builds models under ``with torch.device('meta')``: the cache must not
    keep a meta table for later CPU steps."""
    with torch.device('meta'):
        first = position_table('1d', (11, 1, 1), 6)
        first_3d = position_table('3d', (1, 2, 11), 6)
    assert first.device.type == 'cpu' and first_3d.device.type == 'cpu'
    expected = torch.tensor([[10 / 10000 ** (2 * (j // 2) / 6) for j in range(6)]],
                            dtype=torch.float64)
    expected[:, 0::2], expected[:, 1::2] = expected[:, 0::2].sin(), expected[:, 1::2].cos()
    torch.testing.assert_close(first[10:], expected.float())  # token 10, computed here
