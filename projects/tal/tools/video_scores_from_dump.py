"""Per-video classifier scores for the score fusion of a class-agnostic localizer (FineAction),
from a vmae2 recognizer's ``tools/test.py --dump`` pickle.

    python tools/test.py CLS_CONFIG CLS_CKPT --dump work_dirs/cls/dump.pkl
    python projects/tal/tools/video_scores_from_dump.py work_dirs/cls/dump.pkl \
        --list data/fineaction/val_videos.txt --out data/fineaction/annotations/video_scores.json \
        [--label-map label_map.txt] [--video-root DIR]

``tools/test.py --dump`` writes MMEngine's ``DumpResults``: one dict per test sample, in the
order of the test list, with the recognizer's ``pred_score`` ``(C,)`` (all views averaged). A
sample names its video by ``filename`` when the pipeline kept it in the metainfo; mmaction2's
``PackActionInputs`` does not by default, so ``--list`` (the classifier's test list file, first
field a path) names sample i by line i. The video id is the file name without its extension, as
``tools/extract_features.py`` names the feature files; several samples of one video are
averaged.

Output: ``{"class": [names], "<video>": [C scores], ...}`` (the ``class`` list when
``--label-map`` gives the head's class names, one a line: ``TALMetric(video_scores=...)`` then
matches them to the annotation's classes by name; without it the lists are in head order, which
must be the annotation's class order). The pickle is unpickled: only read a dump you made.
"""
import argparse
import json
import os.path as osp
import pickle
import sys
from collections import defaultdict

import numpy as np

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..', '..'))
from vmae2.datasets.list_file import parse_list_file  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('dump', help='pickle written by tools/test.py --dump')
    p.add_argument('--out', required=True, help='JSON to write')
    p.add_argument('--list', help="the classifier's test list file (sample i = line i)")
    p.add_argument('--video-root', default='', help="root of the list's relative paths")
    p.add_argument('--label-map', help="the head's class names, one a line (written as 'class')")
    return p.parse_args(argv)


def video_id(path: str) -> str:
    return osp.splitext(osp.basename(path.rstrip('/')))[0]


def _score(sample: dict) -> np.ndarray:
    score = sample.get('pred_score')
    if score is None:
        raise ValueError(f'a dumped sample has no pred_score (keys: {sorted(sample)}): not a '
                         'recognizer\'s test dump')
    score = np.asarray(score.numpy() if hasattr(score, 'numpy') else score, np.float64)
    return score.reshape(-1)


def scores_from_dump(samples, names=None, classes=None) -> dict:
    """``{video: [C scores]}`` (plus ``class`` when ``classes`` is given).

    Args:
        samples: The dumped data samples (dicts with ``pred_score``).
        names: Video paths or ids, one per sample, or None to take each sample's ``filename``
            (or ``frame_dir``).
        classes: The head's class names.
    """
    if names is not None and len(names) != len(samples):
        raise ValueError(f'the dump has {len(samples)} samples, the list {len(names)} videos: '
                         'not the list this dump was made from')
    per_video = defaultdict(list)
    for i, sample in enumerate(samples):
        if names is not None:
            name = names[i]
        else:
            name = sample.get('filename') or sample.get('frame_dir')
            if not name:
                raise ValueError(f'sample {i} of the dump does not name its video (the pipeline '
                                 'dropped filename from the metainfo): pass --list')
        per_video[video_id(name)].append(_score(sample))
    width = {len(s) for v in per_video.values() for s in v}
    if len(width) > 1:
        raise ValueError(f'score vectors of different lengths in the dump: {sorted(width)}')
    if classes is not None and width and width != {len(classes)}:
        raise ValueError(f'{len(classes)} class names for scores of length {width.pop()}')
    out = {} if classes is None else {'class': list(classes)}
    for vid, scores in per_video.items():
        out[vid] = np.mean(scores, 0).round(6).tolist()
    return out


def main(argv=None):
    args = parse_args(argv)
    with open(args.dump, 'rb') as f:
        samples = pickle.load(f)
    names = None
    if args.list:
        names = [s.get('filename') or s.get('frame_dir')
                 for s in parse_list_file(args.list, args.video_root)]
    classes = None
    if args.label_map:
        with open(args.label_map) as f:
            classes = [line.strip() for line in f if line.strip()]
    out = scores_from_dump(samples, names, classes)
    with open(args.out, 'w') as f:
        json.dump(out, f)
    n = len(out) - ('class' in out)
    print(f'{n} videos, {len(samples)} samples -> {args.out}')
    return out


if __name__ == '__main__':
    main()
