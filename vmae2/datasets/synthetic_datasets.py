"""SyntheticMotion as datasets: generated on first use, then read like any other list file.

``SyntheticMotionDataset`` is a :class:`~vmae2.datasets.RobustVideoDataset` (mmaction2's
``VideoDataset``: ``path label`` list, train or val split; unreadable videos replaced or scored
as misses), so mmaction2's recognition pipelines and metrics work on it unchanged;
``SyntheticMotionPretrainDataset`` is a one-source :class:`VideoPretrainDataset` over the train
split. Both take the generator's settings, so a config fully determines the data it trains on.
"""
import os.path as osp
from typing import Callable, Dict, Literal, Optional, Sequence, Union

from vmae2.registry import DATASETS

from .pretrain_dataset import VideoPretrainDataset
from .synthetic_motion import generate_synthetic_motion
from .video_dataset import RobustVideoDataset


@DATASETS.register_module()
class SyntheticMotionDataset(RobustVideoDataset):
    """The labelled SyntheticMotion split (``classes`` in ``metainfo``).

    Args:
        pipeline: mmaction2 transforms (e.g. ``DecordInit``, ``SampleFrames``...).
        root: Cache folder of the generated set.
        split: ``'train'`` or ``'val'``.
        generator: Settings passed to
            :func:`~vmae2.datasets.synthetic_motion.generate_synthetic_motion` (``num_classes``,
            ``clips_per_class``, ``num_frames``, ``size``, ``val_ratio``, ``seed``, ``codec``).
        **kwargs: :class:`RobustVideoDataset` arguments (``test_mode``...).
    """

    def __init__(self,
                 pipeline: Sequence[Union[dict, Callable]],
                 root: str = 'data/synthetic_motion',
                 split: Literal['train', 'val'] = 'train',
                 generator: Optional[Dict] = None,
                 **kwargs) -> None:
        if split not in ('train', 'val'):
            raise ValueError(f"split must be 'train' or 'val', got {split!r}")
        paths = generate_synthetic_motion(root, **(generator or {}))
        with open(paths['classes']) as f:
            classes = tuple(line.strip() for line in f if line.strip())
        kwargs.setdefault('metainfo', dict(classes=classes))
        super().__init__(
            ann_file=paths[f'{split}_list'],
            pipeline=pipeline,
            data_prefix=dict(video=root),
            **kwargs)


@DATASETS.register_module()
class SyntheticMotionPretrainDataset(VideoPretrainDataset):
    """Unlabelled pretraining on the SyntheticMotion train split.

    Args:
        pipeline: Loading transforms (see :class:`VideoPretrainDataset`).
        view_pipeline: Per-view transforms.
        root: Cache folder of the generated set.
        frame_interval: Frame interval of the source (``None``: ``SampleClip``'s).
        generator: Settings of the generator (see :class:`SyntheticMotionDataset`).
        **kwargs: :class:`VideoPretrainDataset` arguments (``num_sample``, ``seed``...).
    """

    def __init__(self,
                 pipeline: Sequence[Union[dict, Callable]],
                 view_pipeline: Sequence[Union[dict, Callable]] = (),
                 root: str = 'data/synthetic_motion',
                 frame_interval: Optional[int] = None,
                 generator: Optional[Dict] = None,
                 **kwargs) -> None:
        paths = generate_synthetic_motion(root, **(generator or {}))
        source = dict(ann_file=osp.abspath(paths['pretrain_list']), root=osp.abspath(root),
                      name='synthetic_motion', frame_interval=frame_interval)
        super().__init__(
            sources=[source], pipeline=pipeline, view_pipeline=view_pipeline, **kwargs)
