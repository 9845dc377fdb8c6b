"""Fixed 1-D sinusoid position table of VideoMAE (V1 and V2).

The official code builds the table once for the token count of the configured clip and keeps it
as a plain tensor attribute, so it is never part of a checkpoint. We do the same but build it for
the token count of each input (cached), so a backbone takes clips of any length or resolution
without resizing anything.
"""
from functools import lru_cache

import torch

__all__ = ['sinusoid_table', 'get_sinusoid_encoding_table']


@lru_cache(maxsize=16)
def _table_fp64(num_tokens: int, dim: int) -> torch.Tensor:
    # Same arithmetic as the official numpy code (float64, angle = pos / 10000^(2*(j//2)/dim),
    # sin on even channels, cos on odd ones), cast to float32 only at the end, so that values
    # are bit-identical to the official table.
    pos = torch.arange(num_tokens, dtype=torch.float64)[:, None]  # (N, 1)
    j = torch.arange(dim, dtype=torch.float64)
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
