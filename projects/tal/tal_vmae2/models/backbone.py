"""ActionFormer's backbone: masked convolution embedding, then local-attention transformer
blocks over a temporal feature pyramid."""
from typing import List, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from vmae2.registry import MODELS

from .blocks import ChannelLayerNorm, MaskedConv1d, TransformerBlock, sinusoid_table

__all__ = ['ConvTransformerBackbone']


@MODELS.register_module()
class ConvTransformerBackbone(BaseModule):
    """Features ``(B, D, T)`` -> a pyramid of ``num_levels`` maps with strides ``1, 2, 4, ...``.

    Layout (ActionFormer's "(2, 2, 5)" arch for ``num_levels=6``): ``num_embed_convs`` masked
    convolutions (kernel 3, LayerNorm, ReLU) project the features to ``embed_dims``;
    ``num_stem_blocks`` transformer blocks at full resolution give level 0; each further level
    is one transformer block that halves the sequence. Level l therefore has ``T / 2**l`` steps,
    e.g. 2304/1152/576/288/144/72 for a 2304-step input.

    Args:
        in_channels: Feature dimension D (1408 for ViT-g features).
        embed_dims: Width of every level.
        num_levels: Pyramid levels (ActionFormer: 6, strides 1-32).
        num_embed_convs: Embedding convolutions.
        num_stem_blocks: Full-resolution transformer blocks.
        num_heads: Attention heads.
        window: Local attention window, one for all levels or one per level (<= 0: global).
        kernel_size: Embedding convolution kernel.
        mlp_ratio: MLP width over ``embed_dims``.
        attn_drop, proj_drop, drop_path: Regularisation of the blocks.
        use_abs_pe: Add fixed sinusoid positions after the embedding (ActivityNet-style data).
        init_cfg: MMEngine init config.
    """

    def __init__(self,
                 in_channels: int,
                 embed_dims: int = 512,
                 num_levels: int = 6,
                 num_embed_convs: int = 2,
                 num_stem_blocks: int = 2,
                 num_heads: int = 4,
                 window: Union[int, Sequence[int]] = 19,
                 kernel_size: int = 3,
                 mlp_ratio: int = 4,
                 attn_drop: float = 0.0,
                 proj_drop: float = 0.1,
                 drop_path: float = 0.1,
                 use_abs_pe: bool = False,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        windows = [window] * num_levels if isinstance(window, int) else list(window)
        if len(windows) != num_levels:
            raise ValueError(f'{len(windows)} windows for {num_levels} levels')
        self.num_levels, self.use_abs_pe, self.embed_dims = num_levels, use_abs_pe, embed_dims
        self.embed = nn.ModuleList()
        self.embed_norm = nn.ModuleList()
        for i in range(num_embed_convs):
            self.embed.append(MaskedConv1d(in_channels if i == 0 else embed_dims, embed_dims,
                                           kernel_size, bias=False))
            self.embed_norm.append(ChannelLayerNorm(embed_dims))
        block = dict(dims=embed_dims, num_heads=num_heads, mlp_ratio=mlp_ratio,
                     attn_drop=attn_drop, proj_drop=proj_drop, drop_path=drop_path)
        self.stem = nn.ModuleList(
            [TransformerBlock(window=windows[0], stride=1, **block)
             for _ in range(num_stem_blocks)])
        self.branch = nn.ModuleList(
            [TransformerBlock(window=windows[level], stride=2, **block)
             for level in range(1, num_levels)])

    def init_weights(self) -> None:
        super().init_weights()
        # as ActionFormer: zero biases of the linear layers of the blocks (torch's default
        # init elsewhere)
        for m in self.modules():
            if isinstance(m, (nn.Conv1d, nn.Linear)) and m.bias is not None:
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor,
                mask: torch.Tensor) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
        """Run the pyramid.

        Args:
            x: Features ``(B, D, T)``, T divisible by ``2 ** (num_levels - 1)``.
            mask: ``(B, T)`` bool, True at real steps.

        Returns:
            ``(feats, masks)``: per level ``(B, embed_dims, T_l)`` and ``(B, T_l)``.
        """
        div = 2 ** (self.num_levels - 1)
        if x.shape[-1] % div:
            raise ValueError(f'sequence length {x.shape[-1]} is not divisible by {div} '
                             f'({self.num_levels} levels of 2x downsampling); pad it (the '
                             f'data preprocessor does)')
        for conv, norm in zip(self.embed, self.embed_norm):
            x, mask = conv(x, mask)
            x = torch.relu(norm(x))
        if self.use_abs_pe:
            x = x + sinusoid_table(x.shape[-1], self.embed_dims, x.device).to(x.dtype) \
                * mask[:, None].to(x.dtype)
        for blk in self.stem:
            x, mask = blk(x, mask)
        feats, masks = [x], [mask]
        for blk in self.branch:
            x, mask = blk(x, mask)
            feats.append(x)
            masks.append(mask)
        return feats, masks
