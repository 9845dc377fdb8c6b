"""vmae2.datasets: video sources, the pretraining mix, SyntheticMotion, loading transforms."""
from .bad_samples import BadSampleTracker, TooManyBadSamplesError
from .collate import flatten_views_collate
from .list_file import ListFileError, parse_list_file
from .pretrain_dataset import VideoPretrainDataset
from .seeding import EpochSeededSampler, SampleKey, derive_seed, seeded_global_rng
from .synthetic_datasets import SyntheticMotionDataset, SyntheticMotionPretrainDataset
from .synthetic_motion import CLASSES as SYNTHETIC_MOTION_CLASSES
from .synthetic_motion import generate_synthetic_motion, render_clip
from .transforms import SampleClip, VideoDecode, VideoInit, VideoRandAugment
from .video_readers import BadVideoError, DecordReader, FrameFolderReader, PyAVReader, open_video

__all__ = [
    'BadSampleTracker', 'TooManyBadSamplesError', 'flatten_views_collate', 'ListFileError',
    'parse_list_file', 'VideoPretrainDataset', 'EpochSeededSampler', 'SampleKey', 'derive_seed',
    'seeded_global_rng', 'SyntheticMotionDataset', 'SyntheticMotionPretrainDataset',
    'SYNTHETIC_MOTION_CLASSES', 'generate_synthetic_motion', 'render_clip', 'BadVideoError',
    'DecordReader', 'FrameFolderReader', 'PyAVReader', 'open_video', 'VideoInit', 'SampleClip',
    'VideoDecode', 'VideoRandAugment'
]
