"""The VideoMAE (V2) pretraining decoder: blocks, LayerNorm, pixel head on the query tokens."""
from typing import Dict, Optional, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule

from vmae2.registry import MODELS

from ..layers import AttnImpl, Block

__all__ = ['VideoMAEDecoder', 'DECODER_ZOO']

#: Decoder width / heads per encoder size (VideoMAE V2 Table 1); depth 4 for all.
DECODER_ZOO: Dict[str, dict] = {
    **dict.fromkeys(['s', 'small'], dict(embed_dims=192, num_heads=3)),
    **dict.fromkeys(['b', 'base'], dict(embed_dims=384, num_heads=6)),
    **dict.fromkeys(['l', 'large', 'h', 'huge', 'g', 'giant'], dict(embed_dims=512, num_heads=8)),
}


@MODELS.register_module()
class VideoMAEDecoder(BaseModule):
    """Decoder of the official ``PretrainVisionTransformerDecoder`` (same parameter names).

    Args:
        embed_dims (int): Decoder width ``Dd``.
        num_heads (int): Attention heads.
        feedforward_channels (int): MLP hidden width; the official code uses the encoder's MLP
            ratio, ``int(Dd * ratio)`` (2234 for the ViT-g decoder).
        out_channels (int): Head output per token, ``C * tubelet * p * p``.
        num_layers (int): Depth. Defaults to 4.
        qkv_bias (bool): q and v biases. Defaults to True.
        drop_path_rate (float): Stochastic depth of the last block.
        norm_eps (float): LayerNorm epsilon. Defaults to 1e-6.
        with_cp (bool): Activation checkpointing per block while training.
        attn_impl (str): Attention kernel of every block (``'auto'``, ``'sdpa'`` or
            ``'math'``); see :mod:`vmae2.models.layers.attention_kernels`.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 feedforward_channels: int,
                 out_channels: int,
                 num_layers: int = 4,
                 qkv_bias: bool = True,
                 drop_path_rate: float = 0.,
                 norm_eps: float = 1e-6,
                 with_cp: bool = False,
                 attn_impl: AttnImpl = 'auto',
                 init_cfg: Optional[Union[dict, list]] = None):
        super().__init__(init_cfg=init_cfg)
        self.with_cp = with_cp
        dpr = torch.linspace(0, drop_path_rate, num_layers, device='cpu').tolist()
        self.blocks = nn.ModuleList([
            Block(embed_dims, num_heads, feedforward_channels, qkv_bias,
                  drop_path=dpr[i], norm_eps=norm_eps,
                  attn_impl=attn_impl) for i in range(num_layers)
        ])
        self.norm = nn.LayerNorm(embed_dims, eps=norm_eps)
        self.head = nn.Linear(embed_dims, out_channels)

    def forward(self, x: torch.Tensor, return_token_num: int) -> torch.Tensor:
        """Run all tokens through the blocks, predict only the last ``return_token_num``.

        Args:
            x (Tensor): ``(B, Nv + Nq, Dd)``: visible tokens first, then the queries.
            return_token_num (int): ``Nq``.

        Returns:
            Tensor: ``(B, Nq, out_channels)``.
        """
        use_cp = self.with_cp and self.training and torch.is_grad_enabled()
        for blk in self.blocks:
            x = cp.checkpoint(blk, x, use_reentrant=False) if use_cp else blk(x)
        # norm and head only on the queries: the visible tokens' outputs are never used
        return self.head(self.norm(x[:, x.shape[1] - return_token_num:]))
