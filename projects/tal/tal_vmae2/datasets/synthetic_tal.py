"""SyntheticTAL: long videos with action segments, generated on first use (no download).

Each video shows one shape on a static textured background for a few hundred frames. The shape
stays still, except during its actions, each of one motion class:

* ``sliding``: moves in a straight line (bouncing off the margins);
* ``rotating``: spins on the spot;
* ``pulsing``: grows and shrinks (whole cycles, so it ends at its starting size);
* ``shaking``: jitters left and right around its place.

Nothing in a single frame tells an action from the background (the shape looks the same), so a
localizer must read motion from the features, as on real data. Videos are rendered from a seed
(each from ``(seed, subset, index)``) and written as real H.264 files with the encoder settings
of :mod:`vmae2.datasets.synthetic_motion` (single-threaded x264 without its assembly, so the
set is the same byte for byte on every run) plus a keyframe every 16 frames, so that reading a
window anywhere in a long video decodes at most 16 extra frames.
Layout of ``root``::

    videos/train_0003.mp4 ...   the videos
    annotations.json            ActionFormer layout, subsets "train" / "test"
    video_list.txt              the video paths (for tools/extract_features.py --videos)
    meta.json                   the generation settings, written last (the set is complete)
"""
import json
import os
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np

from vmae2.datasets.generated_set import existing_set, publish_set, staging_folder
from vmae2.datasets.synthetic_motion import _shape_points, write_video

__all__ = ['TAL_CLASSES', 'render_video', 'write_video', 'generate_synthetic_tal']

TAL_CLASSES = ('sliding', 'rotating', 'pulsing', 'shaking')
FORMAT_VERSION = 3  # 2: faster, larger motions; 3: smooth ends, a keyframe every 16 frames


def _plan_actions(rng: np.random.Generator, num_frames: int, num_classes: int,
                  min_len: int, max_len: int) -> List[Tuple[int, int, int]]:
    """Non-overlapping ``(start, end, label)`` frame ranges with still gaps between them."""
    actions, t = [], int(rng.integers(8, 40))
    while True:
        length = int(rng.integers(min_len, max_len + 1))
        if t + length > num_frames - 8:
            return actions
        actions.append((t, t + length, int(rng.integers(num_classes))))
        t += length + int(rng.integers(16, 64))


def render_video(rng: np.random.Generator, num_frames: int, size: int, num_classes: int,
                 min_len: int, max_len: int) -> Tuple[np.ndarray, List[Tuple[int, int, int]]]:
    """Renders one video.

    Returns:
        ``(frames (T, S, S, 3) uint8 RGB, actions [(start_frame, end_frame, label)])``, the
        action covering frames ``start .. end - 1``.
    """
    s = size / 64  # distances are given for 64-pixel frames
    background = rng.integers(0, 90, 3)
    texture = rng.integers(-12, 13, (size, size, 1))
    base = np.clip(background + texture, 0, 255).astype(np.uint8)
    colour = tuple(int(c) for c in rng.integers(140, 256, 3))
    kind = int(rng.integers(3))
    radius0 = rng.uniform(9, 12) * s
    xy = rng.uniform(26, 38, 2) * s
    angle = rng.uniform(0, 2 * np.pi)
    actions = _plan_actions(rng, num_frames, num_classes, min_len, max_len)
    # per-frame pose: position, angle, radius; still unless an action moves it
    pos = np.repeat(xy[None], num_frames, 0)
    ang = np.full(num_frames, angle)
    rad = np.full(num_frames, radius0)
    for start, end, label in actions:
        n = end - start
        u = np.arange(n) / max(n - 1, 1)  # progress through the action, 0 .. 1
        name = TAL_CLASSES[label]
        p0, a0 = pos[start].copy(), ang[start]
        if name == 'sliding':  # straight at ~2 px a frame, bouncing off the frame's margins
            heading = rng.uniform(0, 2 * np.pi)
            speed = rng.uniform(1.5, 2.5) * s
            lo, hi = 16 * s, 48 * s
            path = p0 + np.outer(np.arange(1, n + 1) * speed, [np.cos(heading), np.sin(heading)])
            path = lo + np.abs((path - lo + (hi - lo)) % (2 * (hi - lo)) - (hi - lo))  # reflect
            pos[start:end] = path
            pos[end:] = path[-1]
        elif name == 'rotating':
            speed = rng.choice([-1, 1]) * np.deg2rad(rng.uniform(10, 15))
            ang[start:end] = a0 + speed * np.arange(n)
            ang[end:] = a0 + speed * n
        elif name == 'pulsing':  # whole cycles of ~12 frames: it ends at its starting size
            cycles = max(1, int(round(n / 12)))
            rad[start:end] = radius0 * (1 + 0.4 * np.sin(2 * np.pi * cycles * u))
        else:  # shaking: left-right jitter, fading in and out so that it starts and ends still
            period = rng.uniform(4, 6)
            amp = rng.uniform(5, 7) * s * np.sin(np.pi * u)
            pos[start:end, 0] = p0[0] + amp * np.sin(2 * np.pi * np.arange(n) / period)
    frames = np.empty((num_frames, size, size, 3), np.uint8)
    for i in range(num_frames):
        frame = base.copy()
        pts = _shape_points(kind, rad[i], ang[i]) + pos[i]
        cv2.fillPoly(frame, [np.round(pts * 16).astype(np.int32)], colour, cv2.LINE_AA, shift=4)
        frames[i] = frame
    return frames, actions


def generate_synthetic_tal(root: str = 'data/synthetic_tal',
                           num_train: int = 128,
                           num_test: int = 32,
                           frames: Tuple[int, int] = (320, 480),
                           size: int = 64,
                           fps: int = 16,
                           num_classes: int = 4,
                           action_frames: Tuple[int, int] = (24, 96),
                           seed: int = 0) -> Dict[str, str]:
    """Generates the set under ``root`` unless it is already there (idempotent).

    Built in a temporary sibling folder and renamed into place, so that concurrent processes
    never see half a set.

    Args:
        root: Output folder.
        num_train, num_test: Videos per subset.
        frames: ``(min, max)`` frames per video.
        size: Frame side (even).
        fps: Frame rate written in the files and the annotations.
        num_classes: First ``num_classes`` of :data:`TAL_CLASSES`.
        action_frames: ``(min, max)`` frames per action.
        seed: Seed of the whole set.

    Returns:
        Paths: ``root``, ``annotations``, ``video_list``, ``videos``.

    Raises:
        FileExistsError: ``root`` holds another set or other files.
    """
    if not 1 <= num_classes <= len(TAL_CLASSES):
        raise ValueError(f'num_classes must be in [1, {len(TAL_CLASSES)}], got {num_classes}')
    settings = dict(format_version=FORMAT_VERSION, num_train=num_train, num_test=num_test,
                    frames=list(frames), size=size, fps=fps, num_classes=num_classes,
                    action_frames=list(action_frames), seed=seed)
    paths = dict(root=root, annotations=osp.join(root, 'annotations.json'),
                 video_list=osp.join(root, 'video_list.txt'), videos=osp.join(root, 'videos'))
    if existing_set(root, settings, 'SyntheticTAL'):
        return paths
    tmp = staging_folder(root)
    os.makedirs(osp.join(tmp, 'videos'))
    database, names = {}, []
    for subset_id, (subset, count) in enumerate((('train', num_train), ('test', num_test))):
        for i in range(count):
            rng = np.random.default_rng([seed, subset_id, i])
            n = int(rng.integers(frames[0], frames[1] + 1))
            video, actions = render_video(rng, n, size, num_classes, *action_frames)
            vid = f'{subset}_{i:04d}'
            # a keyframe every 16 frames: feature extraction seeks through long videos
            write_video(osp.join(tmp, 'videos', f'{vid}.mp4'), video, fps=fps, keyint=16)
            names.append(f'videos/{vid}.mp4')
            database[vid] = dict(
                subset=subset, duration=n / fps, fps=float(fps),
                annotations=[dict(label=TAL_CLASSES[c], label_id=c,
                                  segment=[round(a / fps, 4), round(b / fps, 4)],
                                  **{'segment(frames)': [a, b]}) for a, b, c in actions])
    with open(osp.join(tmp, 'annotations.json'), 'w') as f:
        json.dump(dict(version=f'synthetic-tal-v{FORMAT_VERSION}', database=database), f,
                  indent=1)
    with open(osp.join(tmp, 'video_list.txt'), 'w') as f:
        f.write('\n'.join(names) + '\n')
    publish_set(tmp, root, settings, 'SyntheticTAL')
    return paths
