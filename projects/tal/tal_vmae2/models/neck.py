"""ActionFormer's identity FPN: each pyramid level normalised on its own, no top-down path."""
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from vmae2.registry import MODELS

from .blocks import ChannelLayerNorm

__all__ = ['IdentityFPN']


@MODELS.register_module()
class IdentityFPN(BaseModule):
    """Per-level LayerNorm over the channels, output masked.

    Args:
        in_channels: Channels of every level (the backbone's ``embed_dims``).
        num_levels: Pyramid levels.
        with_ln: LayerNorm each level (ActionFormer: True); False leaves the maps as they are.
    """

    def __init__(self, in_channels: int, num_levels: int = 6, with_ln: bool = True,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.norms = nn.ModuleList(
            [ChannelLayerNorm(in_channels) if with_ln else nn.Identity()
             for _ in range(num_levels)])

    def forward(self, feats: Sequence[torch.Tensor],
                masks: Sequence[torch.Tensor]) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
        """Levels ``(B, C, T_l)`` and masks ``(B, T_l)`` -> the same shapes."""
        if len(feats) != len(self.norms):
            raise ValueError(f'{len(feats)} levels for a neck of {len(self.norms)}')
        outs = [norm(x) * m[:, None].to(x.dtype) for norm, x, m in zip(self.norms, feats, masks)]
        return outs, list(masks)
