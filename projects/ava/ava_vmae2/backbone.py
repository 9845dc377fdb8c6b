"""``AVAVideoViT``: vmae2's VideoViT at detection resolution.

AVA clips come at short side 256 and any aspect ratio, so the token grid differs from the grid
a checkpoint was trained at (``16 x 224 x 224`` -> ``8 x 14 x 14``) and from clip to clip. The
fixed sine table then has two readings (``pos_embed_mode``):

* ``'regenerate'``: the table of the new grid, as VideoViT builds it for every input. With the
  official 1-D table (sines of the flattened token index) token ``(t, h, w)`` of a ``t x h x w``
  grid gets the code of index ``t*h*w + h*w + w``: the same code another position had during
  pretraining, so every position moves, rows wrap differently, and the weights see positions
  they were never trained on. With the per-axis ``'3d'`` table regenerating keeps each axis.
* ``'interpolate'``: the table of the pretrained grid (``pretrain_size``), resized to the new
  grid bicubically in ``(h, w)`` per frame and linearly in ``t`` when the clip length changes,
  as mmaction2's ViT does: every token keeps (an interpolation of) the code its place had.

Which one fits is measured in ``projects/ava/README.md`` (the configs use ``'interpolate'``).

Inputs whose height or width is not a multiple of the patch size (val clips at short side 256
with any width; ViT-g/14) are zero-padded on the right and bottom (``pad_to_patch``), so the
feature map covers every pixel and box coordinates map to it at stride ``patch_size``; without
it the patch embedding would drop the last pixels and RoIs there would read outside the map.
"""
from typing import Dict, Literal, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
import torch.utils.checkpoint as cp

from vmae2.models.backbones import VideoViT
from vmae2.models.layers import position_table
from vmae2.registry import MODELS

__all__ = ['AVAVideoViT', 'interpolated_position_table']


def interpolated_position_table(kind: str, source_grid: Sequence[int], grid: Sequence[int],
                                dim: int) -> torch.Tensor:
    """The ``kind`` table of ``source_grid`` resized to ``grid``.

    Returns:
        Tensor: ``(t*h*w, dim)`` float32, rows in flattened ``(t, h, w)`` order.
    """
    t0, h0, w0 = (int(g) for g in source_grid)
    t, h, w = (int(g) for g in grid)
    table = position_table(kind, (t0, h0, w0), dim, 'cpu', torch.float32)  # (N0, D)
    if (t, h, w) == (t0, h0, w0):
        return table
    x = table.reshape(t0, h0, w0, dim).permute(0, 3, 1, 2)  # (t0, D, h0, w0)
    if (h, w) != (h0, w0):
        x = F.interpolate(x, size=(h, w), mode='bicubic', align_corners=False)
    x = x.permute(1, 0, 2, 3)  # (D, t0, h, w)
    if t != t0:
        x = F.interpolate(x[None], size=(t, h, w), mode='trilinear', align_corners=False)[0]
    return x.permute(1, 2, 3, 0).reshape(t * h * w, dim)  # (t*h*w, D)


@MODELS.register_module()
class AVAVideoViT(VideoViT):
    """:class:`VideoViT` with a choice of position table and padding to whole patches.

    Args:
        pos_embed_mode (str): ``'interpolate'`` (default) or ``'regenerate'`` (see the module
            doc).
        pretrain_size (Sequence[int]): ``(T, H, W)`` input size of the checkpoint's training;
            its token grid is the source of ``'interpolate'``. Defaults to ``(16, 224, 224)``.
        pad_to_patch (bool): Zero-pad H and W to multiples of the patch size. Defaults to True.
        **kwargs: :class:`VideoViT` arguments; AVA uses ``use_mean_pooling=False`` (final
            ``norm``) and ``out_type='featmap'`` -> ``(B, D, T/2, ceil(H/p), ceil(W/p))``.
    """

    def __init__(self,
                 pos_embed_mode: Literal['interpolate', 'regenerate'] = 'interpolate',
                 pretrain_size: Sequence[int] = (16, 224, 224),
                 pad_to_patch: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if pos_embed_mode not in ('interpolate', 'regenerate'):
            raise ValueError(f"pos_embed_mode must be 'interpolate' or 'regenerate', got "
                             f'{pos_embed_mode!r}')
        self.pos_embed_mode = pos_embed_mode
        T, H, W = pretrain_size
        self.pretrain_grid = (T // self.tubelet_size, H // self.patch_size, W // self.patch_size)
        self.pad_to_patch = pad_to_patch
        self._tables: Dict[Tuple, torch.Tensor] = {}  # (grid, device, dtype) -> table

    def pos_table(self, grid: Sequence[int], device, dtype) -> torch.Tensor:
        """``(t*h*w, D)`` position table of a token grid, by ``pos_embed_mode``."""
        if self.pos_embed_mode == 'regenerate':
            return position_table(self.pos_embed_type, grid, self.embed_dims, device, dtype)
        key = (tuple(int(g) for g in grid), str(device), dtype)
        if key not in self._tables:
            if len(self._tables) >= 32:  # val grids vary with the aspect ratio; keep a few
                self._tables.clear()
            self._tables[key] = interpolated_position_table(
                self.pos_embed_type, self.pretrain_grid, grid, self.embed_dims).to(device, dtype)
        return self._tables[key]

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        """Zero-pads ``(B, C, T, H, W)`` on the right / bottom to whole patches."""
        if not self.pad_to_patch:
            return x
        p = self.patch_size
        ph, pw = -x.shape[-2] % p, -x.shape[-1] % p
        return F.pad(x, (0, pw, 0, ph)) if ph or pw else x

    def forward_features(self,
                         x: torch.Tensor,
                         keep_idx: Optional[torch.Tensor] = None) -> torch.Tensor:
        """As :meth:`VideoViT.forward_features` with :meth:`pos_table` as the positions.

        Returns:
            Tensor: ``(B, N, D)`` (``(B, Nk, D)`` with ``keep_idx``) after ``norm``.
        """
        x = self.patch_embed(self.pad(x))  # (B, D, t, h, w)
        grid = x.shape[2:]
        x = x.flatten(2).transpose(1, 2)  # (B, N, D), (t, h, w) order
        B, N, D = x.shape
        x = x + self.pos_table(grid, x.device, x.dtype)
        if keep_idx is not None:
            x = x.gather(1, keep_idx.unsqueeze(-1).expand(-1, -1, D))  # (B, Nk, D)
        x = self.pos_drop(x)
        use_cp = self.with_cp and self.training and torch.is_grad_enabled()
        for blk in self.blocks:
            x = cp.checkpoint(blk, x, use_reentrant=False) if use_cp else blk(x)
        return self.norm(x)

    def grid_size(self, x: torch.Tensor) -> Sequence[int]:
        """Token grid ``(t, h, w)`` of a ``(B, C, T, H, W)`` clip (after padding)."""
        T, H, W = x.shape[-3:]
        p = self.patch_size
        if self.pad_to_patch:
            H, W = -(-H // p) * p, -(-W // p) * p
        return T // self.tubelet_size, H // p, W // p
