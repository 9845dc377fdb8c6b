"""SyntheticMotion: a small labelled video set generated on the spot, the toolbox's default data.

Each clip shows one shape moving on a textured background; its class is the *kind of motion*
(left, right, up, down, clockwise, counter-clockwise, growing, shrinking). The classes come in
time-reversed pairs (right <-> left, grow <-> shrink...) and start positions, sizes, speeds,
colours and shapes are drawn from the same ranges for every class, so a single frame says
nothing about the class: as in Something-Something, telling classes apart needs time.

Clips are rendered from a seed (each clip from ``(seed, class, clip)``, so the set is the same
whatever order it is built in) and written as real H.264 (or MPEG-4) files so that training
runs the real decode path. Layout of ``root``::

    videos/c3_0007.mp4   ...       the clips
    pretrain_list.txt              official layout ``path 0 -1`` (train split only)
    train_list.txt, val_list.txt   mmaction2 layout ``path label``
    classes.txt                    one class name a line
    meta.json                      the generation settings, written last (the set is complete)
"""
import os
import os.path as osp
from typing import Dict, Optional

import cv2
import numpy as np

from vmae2.registry import FUNCTION

from .generated_set import existing_set, publish_set, staging_folder

CLASSES = ('moving_right', 'moving_left', 'moving_down', 'moving_up', 'rotating_clockwise',
           'rotating_counterclockwise', 'growing', 'shrinking')
FORMAT_VERSION = 2  # 2: larger shapes, calmer texture (shapes dominate the pixels)


def _shape_points(kind: int, radius: float, angle: float) -> np.ndarray:
    """Polygon of a shape centred at 0: 0 = elongated triangle, 1 = rectangle, 2 = 'L'."""
    if kind == 0:
        pts = np.array([[1.2, 0], [-0.8, 0.55], [-0.8, -0.55]])
    elif kind == 1:
        pts = np.array([[1, 0.45], [-1, 0.45], [-1, -0.45], [1, -0.45]])
    else:
        pts = np.array([[1, 1], [-0.2, 1], [-0.2, -0.2], [-1, -0.2], [-1, -1], [1, -1]])
    c, s = np.cos(angle), np.sin(angle)
    return pts @ np.array([[c, s], [-s, c]]) * radius


def render_clip(label: int, rng: np.random.Generator, num_frames: int = 32,
                size: int = 64) -> np.ndarray:
    """Renders one clip of class ``label``.

    Args:
        label: Index into ``CLASSES``.
        rng: Source of every random choice of the clip.
        num_frames: Frames T.
        size: Frame side S.

    Returns:
        ``(T, S, S, 3)`` uint8 RGB frames.
    """
    s = size / 64  # all distances are given for 64-pixel frames
    background = rng.integers(0, 90, 3)
    texture = rng.integers(-12, 13, (size, size, 1))  # static, so it carries no motion cue
    base = np.clip(background + texture, 0, 255).astype(np.uint8)
    colour = tuple(int(c) for c in rng.integers(140, 256, 3))
    kind = int(rng.integers(3))
    radius = rng.uniform(10, 14) * s
    angle = rng.uniform(0, 2 * np.pi)
    t = np.arange(num_frames) - (num_frames - 1) / 2  # centred time: frame statistics symmetric
    centre = rng.uniform(24, 40, 2) * s  # position at mid-clip
    xy = np.repeat(centre[None], num_frames, 0)
    radii = np.full(num_frames, radius)
    angles = np.full(num_frames, angle)
    name = CLASSES[label]
    if name.startswith('moving'):
        speed = rng.uniform(0.6, 0.9) * s * 32 / num_frames  # same path length for any T
        axis, sign = {'right': (0, 1), 'left': (0, -1), 'down': (1, 1), 'up': (1, -1)}[name[7:]]
        xy[:, axis] += sign * speed * t
    elif name.startswith('rotating'):
        sign = 1 if name == 'rotating_clockwise' else -1  # image y points down: + is clockwise
        angles += sign * np.deg2rad(rng.uniform(5, 9)) * 32 / num_frames * t
    else:
        rate = rng.uniform(0.025, 0.035) * 32 / num_frames
        radii = radius * np.exp((1 if name == 'growing' else -1) * rate * t)
    frames = np.empty((num_frames, size, size, 3), np.uint8)
    for i in range(num_frames):
        frame = base.copy()
        pts = _shape_points(kind, radii[i], angles[i]) + xy[i]
        cv2.fillPoly(frame, [np.round(pts * 16).astype(np.int32)], colour, cv2.LINE_AA, shift=4)
        frames[i] = frame
    return frames


def write_video(path: str, frames: np.ndarray, fps: int = 16, codec: str = 'libx264',
                keyint: Optional[int] = None) -> None:
    """Writes ``(T, H, W, 3)`` uint8 RGB frames with PyAV (H.264 by default, or ``mpeg4``).

    ``keyint`` (H.264): a keyframe every ``keyint`` frames exactly (no scene-cut keyframes),
    for sets whose readers seek; by default x264 places them.
    """
    import av
    with av.open(path, 'w') as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = 'yuv420p'
        if codec == 'libx264':
            # near-lossless, single-threaded and without x264's assembly: the PyAV wheel's x264
            # gave another bitstream for the same frames in ~4 % of encodes with asm on (even
            # single-threaded; the first keyframe already differs), none in 640 with asm=0, which
            # costs ~10 ms a clip
            stream.options = {'crf': '16', 'preset': 'veryfast', 'threads': '1',
                              'x264-params': 'asm=0' + (
                                  f':keyint={keyint}:min-keyint={keyint}:scenecut=0'
                                  if keyint else '')}
        else:
            stream.bit_rate = 2_000_000
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format='rgb24')):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


@FUNCTION.register_module()
def generate_synthetic_motion(root: str = 'data/synthetic_motion',
                              num_classes: int = 8,
                              clips_per_class: int = 40,
                              num_frames: int = 32,
                              size: int = 64,
                              val_ratio: float = 0.2,
                              seed: int = 0,
                              codec: str = 'libx264') -> Dict[str, str]:
    """Generates the set under ``root`` unless it is already there (idempotent).

    The set is built in a temporary sibling folder and renamed into place, so concurrent
    processes (several ranks) never see half a set.

    Args:
        root: Output folder.
        num_classes: First ``num_classes`` of ``CLASSES`` (at most 8).
        clips_per_class: Clips per class; the last ``val_ratio`` of them form the val split.
        num_frames: Frames per clip.
        size: Frame side in pixels (even, for yuv420p).
        val_ratio: Share of each class held out for validation.
        seed: Seed of the whole set.
        codec: ``'libx264'`` or ``'mpeg4'``.

    Returns:
        Paths: ``root``, ``pretrain_list``, ``train_list``, ``val_list``, ``classes``.

    Raises:
        FileExistsError: ``root`` holds a set generated with other settings, or other files.
    """
    if not 1 <= num_classes <= len(CLASSES):
        raise ValueError(f'num_classes must be in [1, {len(CLASSES)}], got {num_classes}')
    if size % 2:
        raise ValueError(f'size must be even (yuv420p), got {size}')
    settings = dict(format_version=FORMAT_VERSION, num_classes=num_classes,
                    clips_per_class=clips_per_class, num_frames=num_frames, size=size,
                    val_ratio=val_ratio, seed=seed, codec=codec)
    paths = {name: osp.join(root, f'{name}.txt')
             for name in ('pretrain_list', 'train_list', 'val_list', 'classes')}
    paths['root'] = root
    if existing_set(root, settings, 'SyntheticMotion'):
        return paths

    tmp = staging_folder(root)
    os.makedirs(osp.join(tmp, 'videos'))
    num_val = int(round(clips_per_class * val_ratio))
    lines = dict(pretrain_list=[], train_list=[], val_list=[])
    for label in range(num_classes):
        for clip in range(clips_per_class):
            rng = np.random.default_rng([seed, label, clip])
            rel = f'videos/c{label}_{clip:04d}.mp4'
            write_video(osp.join(tmp, rel), render_clip(label, rng, num_frames, size), codec=codec)
            split = 'val_list' if clip >= clips_per_class - num_val else 'train_list'
            lines[split].append(f'{rel} {label}')
            if split == 'train_list':
                lines['pretrain_list'].append(f'{rel} 0 -1')
    for name, rows in lines.items():
        with open(osp.join(tmp, f'{name}.txt'), 'w') as f:
            f.write('\n'.join(rows) + '\n')
    with open(osp.join(tmp, 'classes.txt'), 'w') as f:
        f.write('\n'.join(CLASSES[:num_classes]) + '\n')
    publish_set(tmp, root, settings, 'SyntheticMotion')
    return paths
