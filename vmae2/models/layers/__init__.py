"""Building blocks shared by the encoder and the decoder."""
from .pos_embed import (
           get_sinusoid_encoding_table,
           position_table,
           sinusoid_table,
           sinusoid_table_3d,
)
from .transformer import Attention, Block, Mlp

__all__ = ['Attention', 'Block', 'Mlp', 'get_sinusoid_encoding_table', 'position_table',
           'sinusoid_table', 'sinusoid_table_3d']
