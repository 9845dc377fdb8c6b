"""SyntheticAVA as datasets: generated on first use, then read like real AVA.

``SyntheticAVADataset`` is :class:`AVAVmae2Dataset` over one split of the generated set (frames
or videos); ``SyntheticAVAPretrainDataset`` is a one-source :class:`VideoPretrainDataset` over
the train videos (no labels), for dual-masking pretraining before detection. Both take the
generator's settings, so a config fully determines its data.
"""
import os.path as osp
from typing import Dict, List, Literal, Optional, Sequence

from vmae2.datasets import VideoPretrainDataset
from vmae2.registry import DATASETS

from .datasets import AVAVmae2Dataset
from .synthetic import TIMESTAMP_START, generate_synthetic_ava

__all__ = ['SyntheticAVADataset', 'SyntheticAVAPretrainDataset', 'synthetic_ava_paths']


def synthetic_ava_paths(root: str = 'data/synthetic_ava', generator: Optional[Dict] = None):
    """Generates the set if needed; returns its paths (see :func:`generate_synthetic_ava`)."""
    return generate_synthetic_ava(root, **(generator or {}))


@DATASETS.register_module()
class SyntheticAVADataset(AVAVmae2Dataset):
    """One split of SyntheticAVA as an AVA dataset (label list, exclusions, proposals set).

    Args:
        pipeline: AVA transforms (``VideoInit``, ``SampleAVAClip``, ``AVADecode``...).
        root: Folder of the generated set.
        split: ``'train'`` or ``'val'``.
        use_frames: Read the frame folders (True) or the videos.
        generator: Settings of :func:`generate_synthetic_ava` (``num_videos``, ``fps``...).
        **kwargs: :class:`AVAVmae2Dataset` arguments (``test_mode``, ``num_classes``...).
    """

    def __init__(self, pipeline: Sequence, root: str = 'data/synthetic_ava',
                 split: Literal['train', 'val'] = 'train', use_frames: bool = True,
                 generator: Optional[Dict] = None, **kwargs) -> None:
        if split not in ('train', 'val'):
            raise ValueError(f"split must be 'train' or 'val', got {split!r}")
        paths = synthetic_ava_paths(root, generator)
        settings = dict(generator or {})
        fps = settings.get('fps', 8)
        duration = settings.get('duration', 12)
        kwargs.setdefault('num_classes', 9)
        super().__init__(
            ann_file=paths[f'{split}_ann'], pipeline=pipeline,
            exclude_file=paths[f'{split}_exclude'], label_file=paths['label_file'],
            proposal_file=paths[f'{split}_proposals'],
            data_prefix=dict(img=paths['frames'] if use_frames else paths['videos']),
            use_frames=use_frames, fps=fps, timestamp_start=TIMESTAMP_START,
            timestamp_end=TIMESTAMP_START + duration, **kwargs)


@DATASETS.register_module()
class SyntheticAVAPretrainDataset(VideoPretrainDataset):
    """Unlabelled pretraining clips from the SyntheticAVA train videos.

    Args:
        pipeline: Loading transforms (see :class:`VideoPretrainDataset`).
        view_pipeline: Per-view transforms.
        root: Folder of the generated set.
        frame_interval: Frame interval of the clips (2: 8 frames span 2 s at 8 fps, the clips the
            detector sees).
        repeats: Times each video is listed per epoch (a 12 s video holds several clips).
        generator: Settings of :func:`generate_synthetic_ava`.
        **kwargs: :class:`VideoPretrainDataset` arguments (``num_sample``, ``seed``...).
    """

    def __init__(self, pipeline: Sequence, view_pipeline: Sequence = (),
                 root: str = 'data/synthetic_ava', frame_interval: int = 2, repeats: int = 1,
                 generator: Optional[Dict] = None, **kwargs) -> None:
        paths = synthetic_ava_paths(root, generator)
        self.repeats = int(repeats)
        source = dict(ann_file=osp.abspath(paths['pretrain_list']), root=osp.abspath(root),
                      name='synthetic_ava', frame_interval=frame_interval)
        super().__init__(sources=[source], pipeline=pipeline, view_pipeline=view_pipeline,
                         **kwargs)

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list() * self.repeats
        self.source_ranges = [(0, len(data_list))]
        return data_list
