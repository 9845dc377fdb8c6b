"""Data transforms of vmae2: video loading here and the fine-tuning RandAugment; mmaction2's
crops, resizes, formatting and packing are reused as they are (see ``configs/_base_/datasets``).
Masks are not drawn here: the pretraining model draws them from each view's ``mask_seed``."""
from .loading import SampleClip, VideoDecode, VideoInit
from .video_rand_augment import VideoRandAugment

__all__ = ['VideoInit', 'SampleClip', 'VideoDecode', 'VideoRandAugment']
