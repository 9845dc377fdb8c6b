"""Pre-norm transformer block of VideoMAE V2: attention with q/v biases, MLP, drop path.

Parameter names follow the official code (and timm): ``attn.qkv``, ``attn.q_bias``,
``attn.v_bias``, ``attn.proj``, ``mlp.fc1``, ``mlp.fc2``, ``norm1``, ``norm2``, ``gamma_1``,
``gamma_2``, so official checkpoints load without renaming.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import DropPath

from .attention_kernels import AttnImpl, attention

__all__ = ['Attention', 'Mlp', 'Block']


class Attention(nn.Module):
    """Multi-head self-attention with a bias-free ``qkv`` and separate q and v biases.

    The k bias is fixed at zero (the BEiT / VideoMAE convention: a k bias only adds a constant
    per query row to the logits, which softmax cancels). The attention kernel is chosen per call
    by :func:`~vmae2.models.layers.attention_kernels.attention` (``attn_impl``; ``'auto'`` picks by
    device, dtype and sequence length).

    Args:
        dim (int): Token width ``D``.
        num_heads (int): Number of heads; ``D`` must be divisible by it.
        qkv_bias (bool): Learn ``q_bias`` and ``v_bias``. Defaults to True.
        attn_drop (float): Dropout on the attention weights. Defaults to 0.
        proj_drop (float): Dropout after the output projection. Defaults to 0.
        attn_impl (str): ``'auto'``, ``'sdpa'`` or ``'math'``. Defaults to
            ``'auto'``.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 qkv_bias: bool = True,
                 attn_drop: float = 0.,
                 proj_drop: float = 0.,
                 attn_impl: AttnImpl = 'auto'):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'dim {dim} is not divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        if qkv_bias:
            self.q_bias = nn.Parameter(torch.zeros(dim))
            self.v_bias = nn.Parameter(torch.zeros(dim))
        else:
            self.q_bias = self.v_bias = None
        self.attn_drop = attn_drop
        self.attn_impl = attn_impl
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, D) -> (B, N, D)."""
        B, N, D = x.shape
        bias = None
        if self.q_bias is not None:
            bias = torch.cat([self.q_bias, torch.zeros_like(self.v_bias), self.v_bias])
        qkv = F.linear(x, self.qkv.weight, bias)  # (B, N, 3D)
        qkv = qkv.view(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # each (B, nh, N, hd)
        x = attention(q, k, v, self.attn_impl,
                      self.attn_drop if self.training else 0.)  # (B, nh, N, hd)
        x = x.transpose(1, 2).reshape(B, N, D)
        return self.proj_drop(self.proj(x))


class Mlp(nn.Module):
    """fc1 -> GELU -> dropout -> fc2 -> dropout."""

    def __init__(self, dim: int, hidden_dim: int, drop: float = 0.):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class Block(nn.Module):
    """Pre-norm block: ``x + dp(g1 * attn(norm1(x)))``, then ``x + dp(g2 * mlp(norm2(x)))``.

    Args:
        dim (int): Token width.
        num_heads (int): Attention heads.
        mlp_hidden_dim (int): MLP hidden width (the official code uses ``int(dim * mlp_ratio)``).
        qkv_bias (bool): Learn q and v biases. Defaults to True.
        drop (float): Dropout after the projections. Defaults to 0.
        attn_drop (float): Attention-weight dropout. Defaults to 0.
        drop_path (float): Stochastic depth rate of this block. Defaults to 0.
        init_values (float, optional): Layer scale initial value; ``None`` or 0 disables layer
            scale (``gamma_1``/``gamma_2`` are then absent, as in the official code).
        norm_eps (float): LayerNorm epsilon. Defaults to 1e-6.
        attn_impl (str): Attention kernel, see :class:`Attention`. Defaults to ``'auto'``.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 mlp_hidden_dim: int,
                 qkv_bias: bool = True,
                 drop: float = 0.,
                 attn_drop: float = 0.,
                 drop_path: float = 0.,
                 init_values: Optional[float] = None,
                 norm_eps: float = 1e-6,
                 attn_impl: AttnImpl = 'auto'):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(dim, num_heads, qkv_bias, attn_drop, drop, attn_impl)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, mlp_hidden_dim, drop)
        if init_values:
            self.gamma_1 = nn.Parameter(init_values * torch.ones(dim))
            self.gamma_2 = nn.Parameter(init_values * torch.ones(dim))
        else:
            self.gamma_1 = self.gamma_2 = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, D) -> (B, N, D)."""
        if self.gamma_1 is None:
            x = x + self.drop_path(self.attn(self.norm1(x)))
            return x + self.drop_path(self.mlp(self.norm2(x)))
        x = x + self.drop_path(self.gamma_1 * self.attn(self.norm1(x)))
        return x + self.drop_path(self.gamma_2 * self.mlp(self.norm2(x)))
