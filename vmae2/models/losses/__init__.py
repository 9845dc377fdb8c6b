"""Losses and reconstruction targets."""
from .pixel_target import (
                           IMAGENET_MEAN,
                           IMAGENET_STD,
                           MaskedMSELoss,
                           gather_tubelets,
                           patchify,
                           pixel_target,
                           unpatchify,
)

__all__ = ['IMAGENET_MEAN', 'IMAGENET_STD', 'MaskedMSELoss', 'gather_tubelets', 'patchify',
           'pixel_target', 'unpatchify']
