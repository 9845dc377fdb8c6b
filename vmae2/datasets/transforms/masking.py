"""``GenerateMasks``: draw the encoder and decoder masks of one sample in the data pipeline.

As in the official code, masks are drawn per sample by the data loader workers, so each of the
``num_sample`` views of a clip gets its own masks. The transform writes bool tensors of shape
``(T/tubelet * H/p * W/p,)`` (True = masked) to ``results['encoder_mask']`` and
``results['decoder_mask']``; pack them into the data sample (e.g. ``PackActionInputs`` with
``meta_keys`` or an ``algorithm_keys`` field) and the model reads them from there.
"""
from typing import Optional, Sequence, Union

import torch
from mmcv.transforms import BaseTransform

from vmae2.models.masking import build_mask_generator
from vmae2.registry import TRANSFORMS

__all__ = ['GenerateMasks']


@TRANSFORMS.register_module()
class GenerateMasks(BaseTransform):
    """Draw ``encoder_mask`` and (optionally) ``decoder_mask`` for one sample.

    Args:
        input_size (Sequence[int]): Clip size ``(T, H, W)`` in frames and pixels.
        patch_size (int): Spatial patch size ``p``.
        tubelet_size (int): Frames per token. Defaults to 2.
        encoder (dict): Encoder mask generator config (``MASK_GENERATORS``), e.g.
            ``dict(type='TubeMaskGenerator', ratio=0.9)``; the token grid is filled in.
        decoder (dict, optional): Decoder mask generator config, e.g.
            ``dict(type='RunningCellMaskGenerator', ratio=0.5)``; None = no decoder mask.
        seed (int, optional): Seed a private generator (reproducible masks regardless of the
            global RNG); None uses the global torch RNG, which MMEngine seeds per worker.

    Added keys: ``encoder_mask`` (and ``decoder_mask`` when configured), bool ``(N,)``.
    """

    def __init__(self,
                 input_size: Sequence[int],
                 patch_size: int,
                 tubelet_size: int = 2,
                 encoder: Union[dict, None] = dict(type='TubeMaskGenerator', ratio=0.9),
                 decoder: Optional[dict] = None,
                 seed: Optional[int] = None):
        T, H, W = input_size
        if T % tubelet_size or H % patch_size or W % patch_size:
            raise ValueError(f'input_size {tuple(input_size)} is not divisible into '
                             f'{tubelet_size}x{patch_size}x{patch_size} tubelets')
        self.grid = (T // tubelet_size, H // patch_size, W // patch_size)
        self.encoder = build_mask_generator(encoder, self.grid)
        self.decoder = build_mask_generator(decoder, self.grid)
        self.seed = seed
        self.generator = None if seed is None else torch.Generator().manual_seed(seed)

    def transform(self, results: dict) -> dict:
        results['encoder_mask'] = self.encoder(self.generator)
        if self.decoder is not None:
            results['decoder_mask'] = self.decoder(self.generator)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(grid={self.grid}, encoder={self.encoder}, '
                f'decoder={self.decoder}, seed={self.seed})')
