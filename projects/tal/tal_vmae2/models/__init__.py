"""The ActionFormer localizer: backbone, neck, head, data preprocessor, Soft-NMS, losses."""
from .backbone import ConvTransformerBackbone
from .head import THUMOS_REGRESSION_RANGES, ActionFormerHead
from .localizer import ActionFormer, TALDataPreprocessor
from .neck import IdentityFPN
from .soft_nms import batched_soft_nms, gaussian_soft_nms

__all__ = ['ConvTransformerBackbone', 'IdentityFPN', 'ActionFormerHead', 'ActionFormer',
           'TALDataPreprocessor', 'THUMOS_REGRESSION_RANGES', 'gaussian_soft_nms',
           'batched_soft_nms']
