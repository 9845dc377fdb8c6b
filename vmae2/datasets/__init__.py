"""vmae2.datasets: video sources, the pretraining mix, the labelled video datasets, SyntheticMotion,
loading transforms, the decode watchdog, and pretraining from packed shards."""
from .bad_samples import BadSampleTracker, TooManyBadSamplesError
from .collate import flatten_views_collate
from .decode_watchdog import DecodeWatchdog, WatchedReader, get_watchdog
from .list_file import ListFileError, parse_list_file
from .pretrain_dataset import VideoPretrainDataset
from .seeding import EpochSeededSampler, SampleKey, derive_seed, seeded_global_rng
from .streaming_dataset import StreamingPretrainDataset
from .streaming_sampler import ShardAwareSampler, StreamingResumeHook
from .synthetic_datasets import SyntheticMotionDataset, SyntheticMotionPretrainDataset
from .synthetic_motion import CLASSES as SYNTHETIC_MOTION_CLASSES
from .synthetic_motion import generate_synthetic_motion, render_clip
from .transforms import SampleClip, VideoDecode, VideoInit, VideoRandAugment
from .video_dataset import RepeatAugDataset, RobustVideoDataset
from .video_readers import (
    BadVideoError,
    DecordReader,
    FrameFolderReader,
    PyAVReader,
    ShortStreamError,
    open_video,
    read_frames,
)

__all__ = [
    'BadSampleTracker', 'TooManyBadSamplesError', 'flatten_views_collate', 'ListFileError',
    'parse_list_file', 'VideoPretrainDataset', 'EpochSeededSampler', 'SampleKey', 'derive_seed',
    'seeded_global_rng', 'SyntheticMotionDataset', 'SyntheticMotionPretrainDataset',
    'SYNTHETIC_MOTION_CLASSES', 'generate_synthetic_motion', 'render_clip', 'BadVideoError',
    'DecordReader', 'FrameFolderReader', 'PyAVReader', 'open_video', 'VideoInit', 'SampleClip',
    'VideoDecode', 'VideoRandAugment', 'DecodeWatchdog', 'WatchedReader', 'get_watchdog',
    'RobustVideoDataset', 'RepeatAugDataset', 'ShortStreamError', 'read_frames',
    'StreamingPretrainDataset', 'ShardAwareSampler', 'StreamingResumeHook'
]
