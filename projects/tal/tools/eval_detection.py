"""Evaluate temporal action detections: mAP at each tIoU threshold and their average.

    python projects/tal/tools/eval_detection.py GT_JSON PRED_JSON [--subset test]
        [--tiou 0.3 0.4 0.5 0.6 0.7 | --tiou-range 0.5 0.95 10] [--per-class]

``GT_JSON``: ActionFormer layout (``database/<video>/{subset, annotations}``) or ActivityNet's
bare layout; ``PRED_JSON``: ActivityNet results layout ``{"results": {video: [{"segment",
"label", "score"}]}}`` (what the localizer's test run writes). The rules are ActionFormer's
(see ``projects/tal/tal_vmae2/evaluation/detection_ap.py``).
"""
import argparse
import json
import os.path as osp
import sys

import numpy as np

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..', '..'))
from projects.tal.tal_vmae2.evaluation.detection_ap import evaluate_detections  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('gt', help='ground-truth JSON')
    parser.add_argument('pred', help='predictions JSON (ActivityNet results layout)')
    parser.add_argument('--subset', nargs='+', help="ground-truth subset(s), e.g. 'test'")
    tiou = parser.add_mutually_exclusive_group()
    tiou.add_argument('--tiou', type=float, nargs='+', help='thresholds (THUMOS14 default)')
    tiou.add_argument('--tiou-range', type=float, nargs=3, metavar=('START', 'STOP', 'NUM'),
                      help='np.linspace(START, STOP, NUM), e.g. 0.5 0.95 10 (ActivityNet, '
                      'FineAction)')
    parser.add_argument('--per-class', action='store_true', help='print the AP of each class')
    parser.add_argument('--out', help='write the figures to this JSON file')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.tiou_range:
        start, stop, num = args.tiou_range
        thresholds = np.linspace(start, stop, int(num))
    else:
        thresholds = np.array(args.tiou or [0.3, 0.4, 0.5, 0.6, 0.7])
    res = evaluate_detections(args.gt, args.pred, thresholds, subset=args.subset)
    for thr, m in zip(res['thresholds'], res['mAP']):
        print(f'tIoU {thr:.2f}: mAP {m * 100:.2f}')
    print(f'average mAP {res["average_mAP"] * 100:.2f} over {len(thresholds)} thresholds, '
          f'{len(res["classes"])} classes')
    if args.per_class:
        for c, name in enumerate(res['classes']):
            print(f'  {name}: ' + ' '.join(f'{a * 100:.2f}' for a in res['ap'][:, c]))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(thresholds=res['thresholds'].tolist(), classes=res['classes'],
                           ap=res['ap'].tolist(), mAP=res['mAP'].tolist(),
                           average_mAP=res['average_mAP']), f, indent=2)
    return res


if __name__ == '__main__':
    main()
