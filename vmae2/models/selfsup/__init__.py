"""Self-supervised pretraining algorithms."""
from .videomae import VideoMAEV2, mask_to_index

__all__ = ['VideoMAEV2', 'mask_to_index']
