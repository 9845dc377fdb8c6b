"""Scaled dot-product attention that picks its kernel by device, dtype and sequence length.

``softmax(q @ kᵀ / sqrt(d)) @ v`` has two implementations here, equal up to rounding:

* ``'math'``: the explicit ``q @ kᵀ -> softmax -> @ v`` (batched oneDNN / MKL GEMMs and one
  softmax kernel each way). It keeps the ``(B, h, N, N)`` probabilities for the backward,
  which is cheap only for short sequences.
* ``'sdpa'``: :func:`torch.nn.functional.scaled_dot_product_attention`: the flash /
  memory-efficient kernels on CUDA, the flash kernel on a CPU (no ``(N, N)`` tensor is kept).

``'auto'`` (the default) takes ``'math'`` on a CPU in bf16 / fp16 (autocast) up to
:data:`CPU_MATH_MAX_TOKENS` tokens, and at any length when no gradient is needed (inference:
then the explicit path runs a few heads at a time, :data:`CHUNK_ELEMENTS` scores per chunk, so
nothing ``(B, h, N, N)`` is ever allocated), and ``'sdpa'`` everywhere else. Why, measured on
a 2-core AMD EPYC (avx512_bf16) with 64-channel heads, CPU time of one thread:

=========================  ==========  ==========  ==================================
batch 2 x heads x N        bf16 sdpa   bf16 math   fp32 sdpa / math
=========================  ==========  ==========  ==================================
12 x 156 (encoder), f+b    36 ms       9 ms        19 / 21 ms
6 x 940 (decoder), f+b     255 ms      164 ms      301 / 393 ms
12 x 1568 (fine-tune), f+b 713 ms      589 ms      (math would keep 1.4 GB of
                                                   probabilities for ViT-B's 12 layers)
12 x 1568, forward only    250 ms      170 ms      (2 heads per chunk)
=========================  ==========  ==========  ==================================

The CPU flash kernel works on small tiles: in bf16 it spends most of its time outside the
GEMMs, while oneDNN's bf16 batched GEMMs run near the machine's GEMM rate; in fp32 MKL's
batched GEMMs with ``K = 64`` are slow and the flash kernel wins. For long sequences with a
backward the memory decides (``'sdpa'``). ``tools/analysis_tools/benchmark_pretrain.py
--attn-impl auto sdpa math`` measures the choice in a whole step. Tests compare both paths'
outputs and gradients (fp32 to 1e-5, bf16 to bf16 rounding: the explicit path rounds the
scores to bf16 before the softmax, as the official code does under autocast).
"""
from typing import Literal

import torch
import torch.nn.functional as F

__all__ = ['ATTN_IMPLS', 'CPU_MATH_MAX_TOKENS', 'AttnImpl', 'attention', 'select_attn_impl',
           'set_attn_impl', 'math_attention']

AttnImpl = Literal['auto', 'sdpa', 'math']
ATTN_IMPLS = ('auto', 'sdpa', 'math')

#: Longest sequence for which ``'auto'`` takes the explicit path on a CPU (bf16 / fp16) when
#: a backward follows: above it the ``(B, h, N, N)`` probabilities kept for the backward cost
#: more memory than the speed is worth (ViT-B fine-tuning, 1568 tokens: +1.4 GB at batch 2).
CPU_MATH_MAX_TOKENS = 1024

#: Scores per chunk of the explicit path without gradient (8 M: 16 MB in bf16; below glibc's
#: largest mmap threshold, so chunk buffers are reused instead of page-faulted in afresh).
CHUNK_ELEMENTS = 8 * 2 ** 20


def _needs_grad(*tensors: torch.Tensor) -> bool:
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def select_attn_impl(impl: str, q: torch.Tensor, needs_grad: bool = True) -> str:
    """The kernel ``impl`` means for ``q`` ``(B, h, N, d)``: ``'auto'`` resolved, others kept.

    Args:
        impl (str): ``'auto'``, ``'sdpa'`` or ``'math'``.
        q (Tensor): The queries (device, dtype and length decide).
        needs_grad (bool): Whether a backward will follow.
    """
    if impl not in ATTN_IMPLS:
        raise ValueError(f'attn_impl must be one of {ATTN_IMPLS}, got {impl!r}')
    if impl != 'auto':
        return impl
    if (q.device.type == 'cpu' and q.dtype in (torch.bfloat16, torch.float16)
            and (q.shape[-2] <= CPU_MATH_MAX_TOKENS or not needs_grad)):
        return 'math'
    return 'sdpa'


def math_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                   dropout_p: float = 0.) -> torch.Tensor:
    """Explicit attention: ``(B, h, N, d)`` x3 -> ``(B, h, N, d)``.

    The scale is applied to ``q`` (``N * d`` multiplies instead of ``N * N``); the softmax runs
    in the input dtype with fp32 accumulation (the CPU and CUDA kernels upcast internally).
    Without gradient, the heads go in chunks of at most :data:`CHUNK_ELEMENTS` scores.
    """
    q = q * (q.shape[-1] ** -0.5)
    B, h, N, d = q.shape
    if _needs_grad(q, k, v) or dropout_p > 0 or B * h * N * k.shape[-2] <= CHUNK_ELEMENTS:
        attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)  # (B, h, N, Nk)
        if dropout_p > 0:
            attn = F.dropout(attn, dropout_p)
        return attn @ v
    q, k, v = (t.reshape(B * h, t.shape[2], d) for t in (q, k, v))
    out = q.new_empty(B * h, N, v.shape[-1])
    step = max(1, CHUNK_ELEMENTS // (N * k.shape[1]))
    for a in range(0, B * h, step):  # (g, N, Nk) scores per chunk, freed before the next
        b = a + step
        torch.bmm(torch.bmm(q[a:b], k[a:b].transpose(1, 2)).softmax(-1), v[a:b], out=out[a:b])
    return out.view(B, h, N, -1)


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, impl: str = 'auto',
              dropout_p: float = 0.) -> torch.Tensor:
    """``softmax(q kᵀ / sqrt(d)) v`` with the kernel ``impl`` selects (see module docstring).

    Args:
        q, k, v (Tensor): ``(B, h, N, d)`` (``k``, ``v`` may have another ``N``).
        impl (str): ``'auto'``, ``'sdpa'`` or ``'math'``.
        dropout_p (float): Dropout on the attention weights (training only; the caller
            passes 0 in eval mode).

    Returns:
        Tensor: ``(B, h, N, d)``.
    """
    if select_attn_impl(impl, q, _needs_grad(q, k, v)) == 'math':
        return math_attention(q, k, v, dropout_p)
    if q.device.type == 'cpu':
        # the CPU flash kernel is ~12 % faster (forward and backward, ViT-B at 1568 tokens) on
        # contiguous heads than on the strided views of the fused qkv projection
        q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
    return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)


def set_attn_impl(model: torch.nn.Module, impl: str) -> int:
    """Set ``attn_impl`` of every attention layer of ``model`` (for benchmarks); returns the
    number of layers changed."""
    if impl not in ATTN_IMPLS:
        raise ValueError(f'attn_impl must be one of {ATTN_IMPLS}, got {impl!r}')
    n = 0
    for m in model.modules():
        if hasattr(m, 'attn_impl'):
            m.attn_impl = impl
            n += 1
    return n

