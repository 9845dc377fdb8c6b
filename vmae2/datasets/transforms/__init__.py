"""Data transforms of vmae2: video loading here, the mask draw (GenerateMasks) and the
fine-tuning RandAugment; mmaction2's crops, resizes, formatting and packing are reused as they
are (see ``configs/_base_/datasets``)."""
from .loading import SampleClip, VideoDecode, VideoInit
from .masking import GenerateMasks
from .video_rand_augment import VideoRandAugment

__all__ = ['VideoInit', 'SampleClip', 'VideoDecode', 'GenerateMasks', 'VideoRandAugment']
