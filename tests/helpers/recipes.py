"""Tiny videos and config shrinking shared by the fine-tuning tests."""
import glob
import os.path as osp
from typing import List

import av
import numpy as np

from tests.helpers import REPO

FINETUNE_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'finetune', '*.py')))
DISTILL_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'distill', '*.py')))

#: 2 blocks of width 24, patch 8: a 16 x 16 crop of 4 frames is 2 x 2 x 2 = 8 tokens.
TINY_ARCH = dict(embed_dims=24, num_layers=2, num_heads=2, feedforward_channels=48, patch_size=8)
TINY_SIZE, TINY_FRAMES = 16, 4


def write_video(path: str, num_frames: int = 24, height: int = 24, width: int = 32,
                seed: int = 0) -> str:
    """A random-texture clip with a moving bar (mpeg4, every frame a key frame)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    with av.open(path, 'w') as out:
        stream = out.add_stream('mpeg4', rate=8)
        stream.width, stream.height, stream.pix_fmt = width, height, 'yuv420p'
        stream.gop_size = 1
        for t in range(num_frames):
            frame = base.copy()
            frame[:, (2 * t) % width] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format='rgb24')):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def make_video_list(root: str, num_videos: int = 2, num_classes: int = 400) -> str:
    """``num_videos`` tiny clips under ``root`` and their ``path label`` list."""
    lines = []
    for i in range(num_videos):
        write_video(osp.join(root, f'v{i}.mp4'), seed=i)
        lines.append(f'v{i}.mp4 {i % num_classes}')
    ann = osp.join(root, 'list.txt')
    with open(ann, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return ann


def _shrink_pipeline(pipeline: List[dict]) -> None:
    for step in pipeline:
        kind = step['type']
        if kind in ('SampleFrames', 'UniformSample'):
            step['clip_len'] = TINY_FRAMES
            if kind == 'SampleFrames':
                step['frame_interval'] = 2
        elif kind == 'Resize':
            step['scale'] = (TINY_SIZE, TINY_SIZE) if step['scale'][0] > 0 else (-1, TINY_SIZE)
        elif kind in ('CenterCrop', 'ThreeCrop'):
            step['crop_size'] = TINY_SIZE


def _shrink_recognizer(model: dict) -> None:
    model['backbone'].update(arch=TINY_ARCH)
    model['backbone'].pop('init_cfg', None)


def shrink_config(cfg, root: str, ann_file: str) -> None:
    """Tiny model (2 blocks), 4 frames, 16-pixel crops, data from ``ann_file`` under ``root``."""
    if cfg.model['type'] == 'KDRecognizer':
        _shrink_recognizer(cfg.model['student'])
        teacher = cfg.model['student'].copy()  # a tiny stand-in for the ViT-g teacher
        cfg.model['teacher'] = teacher
        cfg.model['teacher_ckpt'] = None
    else:
        _shrink_recognizer(cfg.model)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = cfg[loader]['dataset']
        ds.update(ann_file=ann_file, data_prefix=dict(video=root))
        _shrink_pipeline(ds['pipeline'])
    cfg.load_from = None
