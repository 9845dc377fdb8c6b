"""Mask generators (registered in ``vmae2.registry.MASK_GENERATORS``); 1 = masked."""
from .generators import (
                         BaseMaskGenerator,
                         FrameMaskGenerator,
                         RandomMaskGenerator,
                         RunningCellMaskGenerator,
                         TubeMaskGenerator,
                         build_mask_generator,
)

__all__ = [
    'BaseMaskGenerator', 'TubeMaskGenerator', 'RunningCellMaskGenerator',
    'RandomMaskGenerator', 'FrameMaskGenerator', 'build_mask_generator'
]
