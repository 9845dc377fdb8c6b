"""Building blocks shared by the encoder and the decoder."""
from .attention_kernels import ATTN_IMPLS, AttnImpl, attention, select_attn_impl, set_attn_impl
from .pos_embed import (
           get_sinusoid_encoding_table,
           position_table,
           sinusoid_table,
           sinusoid_table_3d,
)
from .transformer import Attention, Block, Mlp

__all__ = ['ATTN_IMPLS', 'Attention', 'AttnImpl', 'Block', 'Mlp', 'attention',
           'get_sinusoid_encoding_table', 'position_table', 'select_attn_impl', 'set_attn_impl',
           'sinusoid_table', 'sinusoid_table_3d']
