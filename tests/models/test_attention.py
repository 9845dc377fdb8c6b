"""Attention kernels: every path equals the float64 reference (outputs and gradients), the
automatic choice follows device / dtype / length, and configs select the kernel."""
import pytest
import torch

import vmae2.models  # noqa: F401
from vmae2.masking import RunningCellMaskGenerator, TubeMaskGenerator
from vmae2.models import VideoMAEV2, VideoViT
from vmae2.models.layers import ATTN_IMPLS, Attention, attention, select_attn_impl, set_attn_impl
from vmae2.models.layers import attention_kernels as attention_module
from vmae2.models.layers.attention_kernels import CPU_MATH_MAX_TOKENS, math_attention
from vmae2.registry import MODELS

TINY = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64, patch_size=8)


def reference(q, k, v):
    """softmax(q kᵀ / sqrt(d)) v in float64."""
    q, k, v = (t.double() for t in (q, k, v))
    return ((q @ k.transpose(-2, -1)) / q.shape[-1] ** 0.5).softmax(-1) @ v


def strided_qkv(B=2, heads=3, N=17, d=8, dtype=torch.float32, seed=0):
    """q, k, v as the model makes them: strided views of one fused projection."""
    g = torch.Generator().manual_seed(seed)
    qkv = torch.randn(B, N, 3 * heads * d, generator=g).to(dtype)
    return [t.detach().requires_grad_() for t in
            qkv.view(B, N, 3, heads, d).permute(2, 0, 3, 1, 4).unbind(0)]


def grads(impl, q, k, v, dout):
    """Output and input gradients; ``'reference'`` on float64 leaves."""
    dtype = torch.float64 if impl == 'reference' else q.dtype
    q, k, v = (t.detach().to(dtype).requires_grad_() for t in (q, k, v))
    out = attention(q, k, v, impl) if impl != 'reference' else reference(q, k, v)
    out.backward(dout.to(out.dtype))
    return out.detach(), q.grad, k.grad, v.grad


@pytest.mark.parametrize('impl', ATTN_IMPLS)
def test_fp32_outputs_and_gradients_equal_the_reference(impl):
    q, k, v = strided_qkv()
    dout = torch.randn(q.shape, generator=torch.Generator().manual_seed(1))
    ref = grads('reference', q, k, v, dout)
    got = grads(impl, q, k, v, dout)
    for name, a, b in zip(('out', 'dq', 'dk', 'dv'), got, ref):
        assert a.dtype == torch.float32
        err = float((a.double() - b).abs().max())
        assert err <= 1e-5, (name, err)


@pytest.mark.parametrize('impl', ['sdpa', 'math'])
def test_bf16_paths_agree_to_bf16_rounding(impl):
    """bf16 in, bf16 out: within a few bf16 ulps (eps 2^-8) of the float64 reference."""
    q, k, v = strided_qkv(N=40, dtype=torch.bfloat16)
    dout = torch.randn(q.shape, generator=torch.Generator().manual_seed(1))
    ref = grads('reference', q, k, v, dout)
    got = grads(impl, q, k, v, dout)
    for name, a, b in zip(('out', 'dq', 'dk', 'dv'), got, ref):
        assert a.dtype == torch.bfloat16
        scale = b.abs().max()
        err = (a.double() - b).abs().max() / scale
        assert err < 3 * 2 ** -8, (name, float(err))


def test_auto_picks_by_device_dtype_and_length():
    def q(n, dtype=torch.bfloat16, device='cpu'):
        return torch.empty(1, 2, n, 8, dtype=dtype, device=device)
    assert select_attn_impl('auto', q(156)) == 'math'  # pretraining encoder, bf16
    assert select_attn_impl('auto', q(CPU_MATH_MAX_TOKENS)) == 'math'
    assert select_attn_impl('auto', q(CPU_MATH_MAX_TOKENS + 1)) == 'sdpa'  # fine-tuning 1568
    assert select_attn_impl('auto', q(156, torch.float16)) == 'math'
    assert select_attn_impl('auto', q(156, torch.float32)) == 'sdpa'  # fp32: flash is faster
    assert select_attn_impl('auto', q(156, device='meta')) == 'sdpa'  # not a CPU (CUDA too)
    assert select_attn_impl('math', q(4096, device='meta')) == 'math'  # explicit wins
    # inference: no probabilities are kept, so the explicit path at any length
    assert select_attn_impl('auto', q(1568), needs_grad=False) == 'math'
    assert select_attn_impl('auto', q(1568, torch.float32), needs_grad=False) == 'sdpa'
    with pytest.raises(ValueError, match='attn_impl'):
        select_attn_impl('flash', q(4))


def test_attention_module_equal_across_kernels_under_autocast():
    """The whole layer (fused qkv, q/v biases, projection), fp32 and bf16 autocast."""
    torch.manual_seed(0)
    layer = Attention(32, 4)
    torch.nn.init.normal_(layer.q_bias)
    torch.nn.init.normal_(layer.v_bias)
    x = torch.randn(2, 30, 32)
    outs = {}
    for impl in ('sdpa', 'math'):
        layer.attn_impl = impl
        for amp in (False, True):
            layer.zero_grad()
            with torch.autocast('cpu', torch.bfloat16, enabled=amp):
                y = layer(x)
            y.float().square().sum().backward()
            outs[impl, amp] = (y.float(), layer.qkv.weight.grad.clone(), layer.q_bias.grad.clone())
    for a, b in zip(outs['sdpa', False], outs['math', False]):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    for a, b in zip(outs['sdpa', True], outs['math', True]):
        torch.testing.assert_close(a, b, rtol=0.05, atol=0.05 * float(b.abs().max()))
    for a, b in zip(outs['math', True], outs['math', False]):  # bf16 near fp32
        torch.testing.assert_close(a, b, rtol=0.05, atol=0.05 * float(b.abs().max()))


def _impls(model):
    return {m.attn_impl for m in model.modules() if isinstance(m, Attention)}


def test_configs_select_the_kernel_and_set_attn_impl_overrides():
    model = MODELS.build(dict(type='VideoMAEV2', backbone=dict(arch=TINY, attn_impl='math'),
                              decoder=dict(embed_dims=16, num_heads=2, num_layers=1,
                                           attn_impl='sdpa')))
    assert {b.attn.attn_impl for b in model.encoder.blocks} == {'math'}
    assert {b.attn.attn_impl for b in model.decoder.blocks} == {'sdpa'}
    assert set_attn_impl(model, 'auto') == 3 and _impls(model) == {'auto'}
    assert _impls(VideoViT(arch=TINY)) == {'auto'}  # the default
    with pytest.raises(ValueError, match='attn_impl'):
        set_attn_impl(model, 'flash')


def test_pretraining_loss_and_gradients_equal_across_kernels():
    """A tiny VideoMAE V2 step: same loss and parameter gradients with either kernel."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 4, 32, 32, generator=g)  # grid (2, 4, 4)
    enc = TubeMaskGenerator((2, 4, 4), 0.75).batch(2, g)
    dec = RunningCellMaskGenerator((2, 4, 4), 0.5).batch(2, g)
    torch.manual_seed(0)
    model = VideoMAEV2(dict(arch=TINY), dict(embed_dims=16, num_heads=2, num_layers=2))
    results = {}
    for impl in ('sdpa', 'math'):
        set_attn_impl(model, impl)
        model.zero_grad()
        _, loss = model.forward_mae(x, enc, dec)
        loss.backward()
        results[impl] = (loss.detach(), [p.grad.clone() for p in model.parameters()])
    torch.testing.assert_close(results['sdpa'][0], results['math'][0], rtol=1e-6, atol=1e-6)
    for a, b in zip(results['sdpa'][1], results['math'][1]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_inference_in_head_chunks_equals_one_shot(monkeypatch, dtype):
    """Without gradient the explicit path goes a few heads at a time (here 2 of 6 per chunk):
    the same numbers as all heads at once (each head is computed alike)."""
    q, k, v = strided_qkv(B=2, heads=3, N=20, dtype=dtype)
    with torch.no_grad():
        whole = math_attention(q, k, v)
        monkeypatch.setattr(attention_module, 'CHUNK_ELEMENTS', 2 * 20 * 20)
        chunked = math_attention(q, k, v)
        auto = attention(q, k, v, 'auto')
    assert torch.equal(chunked, whole)
    err = float((chunked.double() - reference(q, k, v)).abs().max())
    assert err < (1e-6 if dtype == torch.float32 else 2 ** -7), err
    if dtype == torch.bfloat16:
        assert torch.equal(auto, whole)  # 'auto' took the explicit path
