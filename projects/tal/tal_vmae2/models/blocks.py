"""Masked 1-D layers of the localizer: convolution, channel LayerNorm, local self-attention and
the pre-norm transformer block that may halve the sequence.

Every tensor is ``(B, C, T)`` with a boolean ``mask`` ``(B, T)`` (True = a real feature step,
False = padding). Each layer zeroes its output at padded steps, so padding never leaks into a
real step through a convolution or an attention window, whatever the batch composition.
"""
import math
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath

__all__ = ['MaskedConv1d', 'ChannelLayerNorm', 'LocalSelfAttention', 'TransformerBlock',
           'downsample_mask', 'sinusoid_table']


def downsample_mask(mask: torch.Tensor, stride: int) -> torch.Tensor:
    """``(B, T)`` -> ``(B, ceil(T / stride))``: output step i is centred on input step
    ``i * stride`` (kernel 3, padding 1 layers)."""
    return mask[:, ::stride] if stride > 1 else mask


def sinusoid_table(length: int, dims: int, device=None) -> torch.Tensor:
    """Fixed sine/cosine positions ``(dims, length)`` (for ``use_abs_pe``)."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[None]  # (1, T)
    freq = torch.exp(torch.arange(0, dims, 2, device=device, dtype=torch.float32)
                     * (-math.log(10000.0) / dims))[:, None]  # (D/2, 1)
    table = torch.zeros(dims, length, device=device)
    table[0::2] = torch.sin(freq * pos)
    table[1::2] = torch.cos(freq * pos)[:dims // 2]
    return table


class MaskedConv1d(nn.Conv1d):
    """``Conv1d`` (odd kernel, 'same' padding) on zero-padded input, output masked.

    ``forward(x, mask)`` returns ``(y, mask')`` with ``mask'`` downsampled by the stride.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 stride: int = 1, groups: int = 1, bias: bool = True) -> None:
        if kernel_size % 2 != 1:
            raise ValueError(f'kernel_size must be odd, got {kernel_size}')
        super().__init__(in_channels, out_channels, kernel_size, stride,
                         padding=kernel_size // 2, groups=groups, bias=bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        out_mask = downsample_mask(mask, self.stride[0])
        y = super().forward(x * mask[:, None].to(x.dtype))
        return y * out_mask[:, None].to(y.dtype), out_mask


class ChannelLayerNorm(nn.LayerNorm):
    """LayerNorm over the channels of a ``(B, C, T)`` tensor."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


class LocalSelfAttention(nn.Module):
    """Multi-head self-attention where step t attends to steps ``t - w//2 .. t + w//2``.

    Implemented with ``unfold`` over the padded keys/values: memory and time grow as
    ``T * window`` rather than ``T ** 2``. ``window <= 0`` (or at least ``2T - 1``) means
    global attention.

    Args:
        dims: Channels C (divisible by ``num_heads``).
        num_heads: Heads.
        window: Odd window size, e.g. 19 on THUMOS14; <= 0 for global attention.
        attn_drop: Dropout on the attention weights.
        proj_drop: Dropout after the output projection.
    """

    def __init__(self, dims: int, num_heads: int = 4, window: int = 19,
                 attn_drop: float = 0.0, proj_drop: float = 0.0) -> None:
        super().__init__()
        if dims % num_heads:
            raise ValueError(f'dims {dims} not divisible by num_heads {num_heads}')
        if window > 0 and window % 2 != 1:
            raise ValueError(f'window must be odd (centred on the query), got {window}')
        self.num_heads, self.window = num_heads, window
        self.scale = (dims // num_heads) ** -0.5
        # per-step projections as Linear layers on (B, T, C): on a CPU a 1x1 Conv1d is ~10x
        # slower than the same matrix product
        self.qkv = nn.Linear(dims, 3 * dims)
        self.proj = nn.Linear(dims, dims)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``(B, C, T)``, mask ``(B, T)`` -> ``(B, C, T)`` (zero at padded steps)."""
        B, C, T = x.shape
        h = self.num_heads
        qkv = self.qkv(x.transpose(1, 2)).transpose(1, 2)  # (B, 3C, T)
        q, k, v = qkv.reshape(B, 3, h, C // h, T).unbind(1)  # each (B, h, d, T)
        neg = torch.finfo(q.dtype).min  # not -inf: a padded query with no valid key stays finite
        if self.window <= 0 or self.window >= 2 * T - 1:
            attn = torch.einsum('bhdt,bhds->bhts', q * self.scale, k)  # (B, h, T, T)
            attn = attn.masked_fill(~mask[:, None, None, :], neg)
            attn = self.attn_drop(attn.softmax(-1))
            out = torch.einsum('bhts,bhds->bhdt', attn, v)
        else:
            r = self.window // 2
            k_win = F.pad(k, (r, r)).unfold(-1, self.window, 1)  # (B, h, d, T, w)
            v_win = F.pad(v, (r, r)).unfold(-1, self.window, 1)
            key_ok = F.pad(mask, (r, r), value=False).unfold(-1, self.window, 1)  # (B, T, w)
            attn = torch.einsum('bhdt,bhdtw->bhtw', q * self.scale, k_win)  # (B, h, T, w)
            attn = attn.masked_fill(~key_ok[:, None], neg)
            attn = self.attn_drop(attn.softmax(-1))
            out = torch.einsum('bhtw,bhdtw->bhdt', attn, v_win)
        out = self.proj(out.reshape(B, C, T).transpose(1, 2)).transpose(1, 2)
        return self.proj_drop(out) * mask[:, None].to(out.dtype)


class TransformerBlock(nn.Module):
    """Pre-norm block: ``x + attn(LN(x))``, then ``x + MLP(LN(x))``, optionally halving T.

    With ``stride > 1`` the attention branch sees a strided depthwise convolution of the
    normalised input and the shortcut is max-pooled (kernel 3), so output step i is centred on
    input step ``i * stride`` in both branches: the pyramid's 2x downsampling.

    Args:
        dims: Channels.
        num_heads: Attention heads.
        window: Local attention window (<= 0: global).
        stride: 1, or the downsampling factor.
        mlp_ratio: Hidden width of the MLP over ``dims``.
        attn_drop / proj_drop: Dropouts; ``drop_path``: stochastic depth of both branches.
    """

    def __init__(self, dims: int, num_heads: int = 4, window: int = 19, stride: int = 1,
                 mlp_ratio: int = 4, attn_drop: float = 0.0, proj_drop: float = 0.0,
                 drop_path: float = 0.0) -> None:
        super().__init__()
        self.stride = stride
        self.norm1 = ChannelLayerNorm(dims)
        self.attn = LocalSelfAttention(dims, num_heads, window, attn_drop, proj_drop)
        if stride > 1:
            self.downsample = MaskedConv1d(dims, dims, 3, stride, groups=dims, bias=False)
            self.pool = nn.MaxPool1d(3, stride, padding=1)
        self.norm2 = ChannelLayerNorm(dims)
        self.mlp = nn.Sequential(
            nn.Linear(dims, mlp_ratio * dims), nn.GELU(), nn.Dropout(proj_drop),
            nn.Linear(mlp_ratio * dims, dims), nn.Dropout(proj_drop))
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(B, C, T)``, ``(B, T)`` -> ``(B, C, T / stride)``, ``(B, T / stride)``."""
        h = self.norm1(x)
        if self.stride > 1:
            h, out_mask = self.downsample(h, mask)
            # padded steps get the lowest value, so that the max never picks one over a real step
            shortcut = self.pool(x.masked_fill(~mask[:, None], torch.finfo(x.dtype).min))
            shortcut = shortcut * out_mask[:, None].to(x.dtype)
        else:
            shortcut, out_mask = x, mask
        m = out_mask[:, None].to(x.dtype)
        x = shortcut + self.drop_path(self.attn(h, out_mask))
        x = x + self.drop_path(self.mlp(self.norm2(x).transpose(1, 2)).transpose(1, 2) * m)
        return x, out_mask
