"""SyntheticAVA: a small AVA-format dataset generated on first use (no download).

Each video is a run of "shots" (``segment`` seconds each, new background and people per shot,
like the cuts of a film). In a shot, one to three "persons" (a body rectangle with a head) each do
a set of actions that only time reveals:

* ``move_left`` / ``move_right``: the person slides sideways (at most one of the two);
* ``grow`` / ``shrink``: the person's box scales up or down (at most one of the two);
* ``blink`` / ``brighten`` / ``darken``: the person's colour alternates between two colours,
  or grows brighter or darker (at most one of the three);
* ``stay_still``: none of the above.

Positions, sizes and colours at a keyframe are drawn from the same ranges whatever the actions,
so one frame says (almost) nothing about them: a detector needs the clip around the keyframe.

Written in the layout of real AVA (``root``)::

    frames/<video_id>/img_00001.jpg ...   frames at ``fps``; img_00001 is at t = 900 s
    videos/<video_id>.mp4                 the same frames as a video cut to start at 900 s
    annotations/train.csv, val.csv        video_id,timestamp,x1,y1,x2,y2,action_id,person_id
    annotations/{split}_excluded_timestamps.csv   shot boundaries (their clips straddle 2 shots)
    annotations/{split}_proposals.pkl     'video_id,TTTT' -> (N, 5) [x1, y1, x2, y2, score]:
                                          jittered ground truth (5 % missed) plus distractors
    annotations/action_list.pbtxt         the label list (ids 1-8)
    videos/synU<n>.mp4                    ``num_unlabelled`` videos without annotations
    pretrain_list.txt                     train + unlabelled videos, ``path 0 -1`` (pretraining)
    meta.json                             generation settings, written last

Keyframes are annotated every second from 901 s to the end, as AVA annotates each second from
902 s. Everything is drawn from ``seed`` per (split, video), so the set is deterministic.
"""
import csv
import os
import os.path as osp
import pickle
from typing import Dict, List, Sequence

import cv2
import numpy as np

from vmae2.datasets.generated_set import existing_set, publish_set, staging_folder
from vmae2.datasets.synthetic_motion import write_video
from vmae2.registry import FUNCTION

__all__ = ['SYNTHETIC_AVA_ACTIONS', 'generate_synthetic_ava', 'render_video']

SYNTHETIC_AVA_ACTIONS = {1: 'move_left', 2: 'move_right', 3: 'grow', 4: 'shrink', 5: 'blink',
                         6: 'brighten', 7: 'darken', 8: 'stay_still'}
FORMAT_VERSION = 2
TIMESTAMP_START = 900
SPEED = 5.0  # pixels per second of the sideways motion (at 64-pixel-high frames)
GROWTH = 0.12  # log-size change per second
SHADE = 0.2  # log-brightness change per second
BLINK_FRAMES = 2  # frames per colour of a blinking person


def _draw_actions(rng: np.random.Generator) -> List[int]:
    """One action of each group (or none); ``stay_still`` when there is none at all. Each
    class is held by 15-25 % of the persons, so a detector that has learned nothing scores
    an mAP near 0.2."""
    side = rng.choice([0, 1, 2], p=[0.5, 0.25, 0.25])  # none, left, right
    scale = rng.choice([0, 3, 4], p=[0.6, 0.2, 0.2])  # none, grow, shrink
    colour = rng.choice([0, 5, 6, 7], p=[0.55, 0.15, 0.15, 0.15])  # none, blink, +, -
    return sorted(int(a) for a in (side, scale, colour) if a) or [8]


def _trajectory(rng, actions, n_frames, fps, height, width):
    """Boxes ``(n_frames, 4)`` in pixels for one person of a shot, or None if it leaves the
    frame. Size and position are drawn for the shot's middle, so keyframes see the same ranges
    whatever the actions."""
    s = height / 64
    t = (np.arange(n_frames) - (n_frames - 1) / 2) / fps  # seconds from the middle
    h0 = rng.uniform(22, 34) * s
    w0 = h0 * rng.uniform(0.45, 0.65)
    cx0, cy0 = rng.uniform(0, width), rng.uniform(0, height)
    vx = SPEED * s * (-1 if 1 in actions else 1 if 2 in actions else 0)
    rate = GROWTH * (1 if 3 in actions else -1 if 4 in actions else 0)
    scale = np.exp(rate * t)
    cx, cy = cx0 + vx * t, np.full(n_frames, cy0)
    w, h = w0 * scale, h0 * scale
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
    if boxes[:, :2].min() < 1 or boxes[:, 2].max() > width - 1 or boxes[:, 3].max() > height - 1:
        return None
    return boxes


def _iou(a, b):
    lt, rb = np.maximum(a[..., :2], b[..., :2]), np.minimum(a[..., 2:], b[..., 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area = lambda x: (x[..., 2] - x[..., 0]) * (x[..., 3] - x[..., 1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def _shot(rng, n_frames, fps, height, width):
    """Background ``(H, W, 3)`` and persons ``[(boxes (T, 4), actions, colours)]``."""
    background = np.clip(rng.integers(0, 90, 3) + rng.integers(-12, 13, (height, width, 1)), 0,
                         255).astype(np.uint8)
    persons = []
    for _ in range(int(rng.choice([1, 2, 3], p=[0.3, 0.45, 0.25]))):
        for _ in range(50):  # rejection sampling: inside the frame, little overlap
            actions = _draw_actions(rng)
            boxes = _trajectory(rng, actions, n_frames, fps, height, width)
            if boxes is not None and all(_iou(boxes, p[0]).max() < 0.2 for p in persons):
                persons.append((boxes, actions, _colours(rng, actions, n_frames, fps)))
                break
    return background, persons


def _colours(rng, actions, n_frames, fps) -> np.ndarray:
    """``(n_frames, 3)`` colour of a person per frame."""
    if 5 in actions:  # two colours, BLINK_FRAMES each
        pair = rng.integers(90, 231, (2, 3))
        return pair[(np.arange(n_frames) // BLINK_FRAMES) % 2]
    colour = rng.integers(90, 231, 3).astype(float)
    t = (np.arange(n_frames) - (n_frames - 1) / 2) / fps
    shade = np.exp(SHADE * t * (1 if 6 in actions else -1 if 7 in actions else 0))
    return np.clip(colour[None] * shade[:, None], 0, 255).round().astype(int)


def _render(background, persons, n_frames):
    frames = np.repeat(background[None], n_frames, 0)
    for i in range(n_frames):
        for boxes, actions, colours in persons:
            colour = colours[i]
            x1, y1, x2, y2 = boxes[i]
            head = (y2 - y1) * 0.25
            body = np.round(np.array([x1, y1 + head, x2, y2]) * 16).astype(int)
            cv2.rectangle(frames[i], tuple(body[:2]), tuple(body[2:]), colour.tolist(), -1,
                          cv2.LINE_AA, shift=4)
            hx, hy, hr = (x1 + x2) / 2, y1 + head / 2, head / 2
            cv2.circle(frames[i], (round(hx * 16), round(hy * 16)), round(hr * 16),
                       (colour * 0.8).astype(int).tolist(), -1, cv2.LINE_AA, shift=4)
    return frames


def render_video(rng: np.random.Generator, duration: int, segment: int, fps: int, height: int,
                 width: int):
    """Frames ``(duration * fps, H, W, 3)`` uint8 RGB and, per keyframe second ``s`` (1 ..
    duration - 1), the list of ``(box_normalised, actions, person_id)`` and whether ``s``
    is a shot boundary."""
    per_shot = segment * fps
    frames, annotations = [], {}
    for k in range(int(np.ceil(duration / segment))):
        background, persons = _shot(rng, per_shot, fps, height, width)
        frames.append(_render(background, persons, per_shot))
        for s in range(k * segment, (k + 1) * segment):
            if 1 <= s < duration:
                i = (s - k * segment) * fps
                scale = np.array([width, height, width, height])
                annotations[s] = ([(np.round(b[i] / scale, 3), a, 10 * k + j)
                                   for j, (b, a, _) in enumerate(persons)], s % segment == 0)
    return np.concatenate(frames)[:duration * fps], annotations


def _proposals(rng, people):
    """Jittered ground-truth boxes (5 % missed, never all) and distractor boxes, with scores."""
    rows = []
    missed = rng.random(len(people)) >= 0.95
    if len(people):  # a person detector finds someone in a crowd
        missed[rng.integers(len(people))] = False
    for (box, _, _), miss in zip(people, missed):
        if not miss:
            size = np.array([box[2] - box[0], box[3] - box[1]] * 2)
            rows.append([*np.clip(box + rng.normal(0, 0.04, 4) * size, 0, 1),
                         rng.uniform(0.9, 1.0)])
    for _ in range(rng.poisson(0.8)):
        h = rng.uniform(0.3, 0.55)
        w = h * rng.uniform(0.3, 0.6)
        x, y = rng.uniform(0, 1 - w), rng.uniform(0, 1 - h)
        box = np.array([x, y, x + w, y + h])
        if all(_iou(box, b) < 0.3 for b, _, _ in people):
            rows.append([*box, rng.uniform(0.7, 1.0)])
    return np.round(np.array(rows, np.float64).reshape(-1, 5), 3)


@FUNCTION.register_module()
def generate_synthetic_ava(root: str = 'data/synthetic_ava',
                           num_videos: Sequence[int] = (32, 8),
                           num_unlabelled: int = 0,
                           duration: int = 12,
                           segment: int = 4,
                           fps: int = 8,
                           height: int = 64,
                           width: int = 80,
                           seed: int = 0,
                           layouts: Sequence[str] = ('frames', 'videos'),
                           codec: str = 'libx264') -> Dict[str, str]:
    """Generates the set under ``root`` unless it is there (idempotent, safe across ranks).

    Args:
        root: Output folder.
        num_videos: Train and val videos.
        num_unlabelled: Further videos of the same kind without annotations (videos only),
            listed with the train videos in ``pretrain_list.txt``.
        duration: Seconds per video (from 900 s).
        segment: Seconds per shot; keyframes on shot boundaries are excluded.
        fps: Frames per second.
        height, width: Frame size (even, for yuv420p videos).
        seed: Seed of the whole set.
        layouts: ``'frames'`` and/or ``'videos'``.
        codec: Video codec (``'libx264'`` or ``'mpeg4'``).

    Returns:
        Paths: ``root``, ``frames``, ``videos``, ``label_file``, ``pretrain_list`` and per split
        ``{split}_ann``, ``{split}_exclude``, ``{split}_proposals``.
    """
    if height % 2 or width % 2:
        raise ValueError(f'height and width must be even, got {height}x{width}')
    if not set(layouts) <= {'frames', 'videos'} or not layouts:
        raise ValueError(f"layouts must be a subset of ('frames', 'videos'), got {layouts}")
    settings = dict(format_version=FORMAT_VERSION, num_videos=list(num_videos),
                    num_unlabelled=num_unlabelled, duration=duration,
                    segment=segment, fps=fps, height=height, width=width, seed=seed,
                    layouts=sorted(layouts), codec=codec)
    ann = osp.join(root, 'annotations')
    paths = dict(root=root, frames=osp.join(root, 'frames'), videos=osp.join(root, 'videos'),
                 label_file=osp.join(ann, 'action_list.pbtxt'),
                 pretrain_list=osp.join(root, 'pretrain_list.txt'))
    for split in ('train', 'val'):
        paths[f'{split}_ann'] = osp.join(ann, f'{split}.csv')
        paths[f'{split}_exclude'] = osp.join(ann, f'{split}_excluded_timestamps.csv')
        paths[f'{split}_proposals'] = osp.join(ann, f'{split}_proposals.pkl')
    if existing_set(root, settings, 'SyntheticAVA'):
        return paths

    tmp = staging_folder(root)
    os.makedirs(osp.join(tmp, 'annotations'))
    for split_idx, (split, count) in enumerate(zip(('train', 'val'), num_videos)):
        rows, excluded, proposals, videos = [], [], {}, []
        for v in range(count):
            rng = np.random.default_rng([seed, split_idx, v])
            video_id = f'syn{split[0].upper()}{v:07d}'  # 11 characters, like YouTube ids
            frames, annotations = render_video(rng, duration, segment, fps, height, width)
            _write_layouts(tmp, video_id, frames, fps, layouts, codec)
            videos.append(video_id)
            for s, (people, boundary) in annotations.items():
                ts = TIMESTAMP_START + s
                for box, actions, pid in people:
                    rows += [[video_id, f'{ts:04d}', *(f'{c:.3f}' for c in box), a, pid]
                             for a in actions]
                if boundary:
                    excluded.append([video_id, f'{ts:04d}'])
                proposals[f'{video_id},{ts:04d}'] = _proposals(rng, people)
        _write_csv(osp.join(tmp, 'annotations', f'{split}.csv'), rows)
        _write_csv(osp.join(tmp, 'annotations', f'{split}_excluded_timestamps.csv'), excluded)
        with open(osp.join(tmp, 'annotations', f'{split}_proposals.pkl'), 'wb') as f:
            pickle.dump(proposals, f, protocol=4)
        if split == 'train':
            pretrain = list(videos)
    # unlabelled videos (no annotations, videos only): more clips for pretraining, as real
    # pretraining sets are larger than the labelled set
    for v in range(num_unlabelled):
        rng = np.random.default_rng([seed, 2, v])
        video_id = f'synU{v:07d}'
        frames, _ = render_video(rng, duration, segment, fps, height, width)
        _write_layouts(tmp, video_id, frames, fps, ('videos', ), codec)
        pretrain.append(video_id)
    if 'videos' in layouts:
        with open(osp.join(tmp, 'pretrain_list.txt'), 'w') as f:
            f.write(''.join(f'videos/{v}.mp4 0 -1\n' for v in pretrain))
    with open(osp.join(tmp, 'annotations', 'action_list.pbtxt'), 'w') as f:
        for i, name in SYNTHETIC_AVA_ACTIONS.items():
            f.write(f'label {{\n  name: "{name}"\n  label_id: {i}\n}}\n')
    publish_set(tmp, root, settings, 'SyntheticAVA')
    return paths


def _write_layouts(root, video_id, frames, fps, layouts, codec):
    if 'frames' in layouts:
        folder = osp.join(root, 'frames', video_id)
        os.makedirs(folder)
        for i, frame in enumerate(frames, 1):  # AVA numbering: img_00001 is the first frame
            cv2.imwrite(osp.join(folder, f'img_{i:05d}.jpg'), frame[..., ::-1],
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
    if 'videos' in layouts:
        os.makedirs(osp.join(root, 'videos'), exist_ok=True)
        write_video(osp.join(root, 'videos', f'{video_id}.mp4'), frames, fps=fps, codec=codec)


def _write_csv(path, rows):
    with open(path, 'w', newline='') as f:
        csv.writer(f).writerows(rows)
