"""``AVAFrameMAP``: frame mAP@0.5 by the official AVA rules, mmaction2's figure beside it.

Keys (prefix ``ava/``): ``frame_mAP@0.5`` (official rules, see
:mod:`projects.ava.ava_vmae2.frame_map`), ``frame_mAP@0.5_mmaction2`` (what mmaction2's
``AVAMetric`` reports for the same detections, for comparison with its published numbers),
``num_frames`` and ``num_unreadable``. Frames whose clip could not be read (the dataset marks
them ``unreadable``) are scored as misses: their detections are dropped, their ground truth
stays; they are listed at the end of the evaluation.
"""
import csv
import logging
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from vmae2.registry import METRICS

from .annotations import make_image_key, read_annotations, read_exclusions, read_label_map
from .frame_map import Frames, frame_map

__all__ = ['AVAFrameMAP', 'load_ground_truth', 'write_detections_csv']


def load_ground_truth(ann_file: str, class_ids=None) -> Frames:
    """Ground truth rows of an AVA CSV grouped per image key (7 or 8 columns, as officially).

    Rows with ids outside ``class_ids`` are dropped and counted in a logged warning.
    """
    ids = None if class_ids is None else {int(c) for c in class_ids}
    rows, _ = read_annotations(ann_file, ids, on_unknown='warn', num_columns=(7, 8))
    grouped = defaultdict(list)
    for r in rows:
        grouped[r.img_key].append((r.box, r.action_id))
    return {k: (np.array([b for b, _ in v], float).reshape(-1, 4), np.array([c for _, c in v]),
                np.ones(len(v))) for k, v in grouped.items()}


def write_detections_csv(path: str, dets: Frames) -> None:
    """Writes ``video_id,timestamp,x1,y1,x2,y2,action_id,score`` rows (the official format)."""
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        for key, (boxes, labels, scores) in dets.items():
            video_id, timestamp = key.rsplit(',', 1)
            for box, label, score in zip(boxes, labels, scores):
                writer.writerow([video_id, timestamp, *(f'{v:.3f}' for v in box), int(label),
                                 f'{score:.6f}'])


@METRICS.register_module()
class AVAFrameMAP(BaseMetric):
    """Frame mAP@0.5 of AVA-style spatio-temporal action detection.

    Args:
        ann_file: Ground-truth CSV of the split.
        label_file: pbtxt label list; its ids are the evaluated classes.
        exclude_file: Excluded timestamps of the split (removed from ground truth and
            detections alike, as the official evaluation does).
        iou_thr: IoU of a true positive.
        action_thr: Scores at or below it are not detections (mmaction2's ``action_thr``).
        max_dets_per_frame: Best detections kept per frame (official: 50; 0 = all).
        dump_csv: Write the detections to this CSV (the official submission format).
        collect_device, prefix: See :class:`mmengine.evaluator.BaseMetric`.
    """
    default_prefix = 'ava'

    def __init__(self,
                 ann_file: str,
                 label_file: str,
                 exclude_file: Optional[str] = None,
                 iou_thr: float = 0.5,
                 action_thr: float = 0.002,
                 max_dets_per_frame: int = 50,
                 dump_csv: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.ann_file = ann_file
        self.label_file = label_file
        self.exclude_file = exclude_file
        self.iou_thr = iou_thr
        self.action_thr = action_thr
        self.max_dets_per_frame = max_dets_per_frame
        self.dump_csv = dump_csv
        self._classes = None  # read on first use: a generated set may not exist yet

    @property
    def classes(self) -> Dict[int, str]:
        if self._classes is None:
            self._classes = read_label_map(self.label_file)
        return self._classes

    @property
    def class_ids(self) -> np.ndarray:
        return np.array(sorted(self.classes))

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keeps, per frame, every (box, class, score) of an evaluated class above
        ``action_thr``. Score column ``c`` is action id ``c`` (column 0, the background slot of
        ``BBoxHeadAVA``, is never read)."""
        for sample in data_samples:
            key = make_image_key(sample['video_id'], sample['timestamp'])
            reason = sample.get('unreadable') or ''
            pred = sample['pred_instances']
            boxes = np.asarray(pred['bboxes'].cpu(), np.float64).reshape(-1, 4)
            scores = np.asarray(pred['scores'].cpu(), np.float64)
            if scores.ndim != 2 or scores.shape[1] <= self.class_ids.max():
                raise ValueError(f'{key}: scores of shape {scores.shape} do not have a column for '
                                 f'action id {self.class_ids.max()} of {self.label_file}')
            class_ids = self.class_ids
            cls_scores = scores[:, class_ids]  # (N, C)
            box_i, cls_i = np.nonzero(cls_scores > self.action_thr)
            if reason:  # scored as misses: ground truth stays, detections go
                box_i = cls_i = np.zeros(0, int)
            self.results.append(dict(key=key, unreadable=reason, boxes=boxes[box_i],
                                     labels=class_ids[cls_i],
                                     scores=cls_scores[box_i, cls_i]))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        dets: Frames = {}
        for r in results:
            if r['key'] in dets:  # a frame evaluated twice (padded distributed sampler)
                continue
            dets[r['key']] = (r['boxes'], r['labels'], r['scores'])
        gt = load_ground_truth(self.ann_file, self.class_ids)
        excluded = read_exclusions(self.exclude_file)
        official, aps = frame_map(gt, dets, self.class_ids, excluded, self.iou_thr,
                                  self.max_dets_per_frame, rules='official')
        mm, _ = frame_map(gt, dets, self.class_ids, excluded, self.iou_thr, rules='mmaction2')
        if self.dump_csv:
            write_detections_csv(self.dump_csv, dets)
        print_log('AP@0.5 per class (official rules): ' + ', '.join(
            f'{c} {self.classes[c]}: {ap:.4f}' for c, ap in aps.items() if not np.isnan(ap)),
            logger='current')
        unreadable = sorted({(r['key'], r['unreadable']) for r in results if r['unreadable']})
        if unreadable:
            print_log(f'{len(unreadable)} frames could not be read and were scored as misses:\n  '
                      + '\n  '.join(f'{k}: {why}' for k, why in unreadable), logger='current',
                      level=logging.WARNING)
        return {'frame_mAP@0.5': official, 'frame_mAP@0.5_mmaction2': mm,
                'num_frames': len(dets), 'num_unreadable': len(unreadable)}
