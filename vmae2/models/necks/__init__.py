"""Necks: the pretraining decoder."""
from .videomae_decoder import DECODER_ZOO, VideoMAEDecoder

__all__ = ['DECODER_ZOO', 'VideoMAEDecoder']
