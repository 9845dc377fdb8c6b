"""AVA frame mAP@0.5: the official evaluation's rules, and mmaction2's for comparison.

The official AVA evaluation (ActivityNet ``get_ava_performance.py``, PASCAL VOC AP per class):

1. ground truth and detections of classes outside the label list are ignored;
2. each frame keeps its 50 best-scoring detections (``capacity=50`` when reading them);
3. frames listed in the excluded-timestamps file are removed from the ground truth **and** from
   the detections;
4. per frame and class, detections in descending score order are matched to the unmatched
   ground-truth box of highest IoU, a true positive when IoU >= 0.5; detections on frames without
   ground truth are false positives;
5. AP per class is the area under the VOC-interpolated precision-recall curve; classes without
   ground truth are left out of the mean; a class with ground truth and no detection has AP 0.

mmaction2 1.2's ``ava_eval`` differs in three ways: excluded frames' ground truth still counts in
the number of positives (so ground truth given back as detections scores below 1), classes
without any detection on an evaluated frame are left out of the mean instead of scoring 0, and
every detection is kept (no top 50 per frame). It also maps its per-frame work over
``multiprocessing.Pool(32)``; everything here runs in the calling process.

Boxes are ``(x1, y1, x2, y2)``; arrays are numpy.
"""
from collections import defaultdict
from typing import Dict, Iterable, Literal, Optional, Set, Tuple

import numpy as np

__all__ = ['box_iou', 'voc_ap', 'frame_map', 'top_k_per_frame']

# per frame: boxes (N, 4), labels (N,), scores (N,) (ground truth: scores ignored)
Frames = Dict[str, Tuple[np.ndarray, np.ndarray, np.ndarray]]


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of ``(N, 4)`` and ``(M, 4)`` boxes, ``(N, M)``; areas without the +1 of pixels."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None] - inter, 1e-12)


def voc_ap(scores: np.ndarray, is_tp: np.ndarray, num_gt: int) -> float:
    """Area under the VOC-interpolated precision-recall curve (``nan`` when ``num_gt == 0``)."""
    if num_gt == 0:
        return float('nan')
    if scores.size == 0:
        return 0.0
    order = np.argsort(scores)[::-1]  # the official code's order, ties included
    tp = np.cumsum(is_tp[order])
    fp = np.cumsum(~is_tp[order])
    precision = np.concatenate([[0.], tp / (tp + fp), [0.]])
    recall = np.concatenate([[0.], tp / num_gt, [1.]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]  # the precision envelope
    steps = np.nonzero(recall[1:] != recall[:-1])[0] + 1
    return float(np.sum((recall[steps] - recall[steps - 1]) * precision[steps]))


def _match(det_boxes: np.ndarray, gt_boxes: np.ndarray, iou_thr: float) -> np.ndarray:
    """True positives of detections (already in descending score order) of one class."""
    is_tp = np.zeros(len(det_boxes), bool)
    if len(gt_boxes) == 0 or len(det_boxes) == 0:
        return is_tp
    iou = box_iou(det_boxes, gt_boxes)
    best = iou.argmax(1)
    taken = np.zeros(len(gt_boxes), bool)
    for i, g in enumerate(best):
        # as the official code: the best-overlapping box or nothing, even if it is taken
        if iou[i, g] >= iou_thr and not taken[g]:
            is_tp[i] = taken[g] = True
    return is_tp


def top_k_per_frame(dets: Frames, k: int) -> Frames:
    """The ``k`` best-scoring detections of each frame (all when ``k <= 0``)."""
    if k <= 0:
        return dets
    out = {}
    for key, (boxes, labels, scores) in dets.items():
        keep = np.argsort(-scores, kind='stable')[:k]
        out[key] = (boxes[keep], labels[keep], scores[keep])
    return out


def _only(frames: Frames, class_ids: Set[int]) -> Frames:
    out = {}
    ids = np.array(sorted(class_ids))
    for key, (boxes, labels, scores) in frames.items():
        keep = np.isin(labels, ids)
        out[key] = (boxes[keep], labels[keep], scores[keep])
    return out


def frame_map(gt: Frames,
              dets: Frames,
              class_ids: Iterable[int],
              excluded: Optional[Set[str]] = None,
              iou_thr: float = 0.5,
              max_dets_per_frame: int = 50,
              rules: Literal['official', 'mmaction2'] = 'official'
              ) -> Tuple[float, Dict[int, float]]:
    """Frame mAP over ``class_ids``.

    Args:
        gt: Ground truth per image key; one entry per (box, label) row as in the CSV.
        dets: Detections per image key, one entry per (box, label, score).
        class_ids: Classes of the label list.
        excluded: Image keys of the excluded timestamps.
        iou_thr: IoU of a true positive.
        max_dets_per_frame: Best detections kept per frame (official: 50; 0 = all).
            Ignored with ``rules='mmaction2'``, which keeps all.
        rules: ``'official'`` or ``'mmaction2'`` (see the module doc).

    Returns:
        ``(mAP, {class_id: AP})``; APs of classes left out of the mean are ``nan``.
    """
    if rules not in ('official', 'mmaction2'):
        raise ValueError(f"rules must be 'official' or 'mmaction2', got {rules!r}")
    class_ids = set(int(c) for c in class_ids)
    excluded = excluded or set()
    gt = _only(gt, class_ids)
    dets = _only(dets, class_ids)
    num_gt = defaultdict(int)
    for key, (_, labels, _) in gt.items():
        if rules == 'mmaction2' or key not in excluded:  # mmaction2 counts excluded positives
            for c in labels.tolist():
                num_gt[c] += 1
    if rules == 'official':
        dets = top_k_per_frame(dets, max_dets_per_frame)
        frames = [k for k in dets if k not in excluded]
    else:  # only frames with ground truth, as ava_eval(ignore_empty_frames=True)
        frames = [k for k in gt if k not in excluded]

    empty = (np.zeros((0, 4)), np.zeros(0, int), np.zeros(0))
    scores, hits = defaultdict(list), defaultdict(list)
    for key in frames:
        boxes, labels, conf = dets.get(key, empty)
        gt_boxes, gt_labels, _ = gt.get(key, empty)
        order = np.argsort(-conf, kind='stable')  # as sorted(key=-score) in both readers
        boxes, labels, conf = boxes[order], labels[order], conf[order]
        for c in np.unique(labels).tolist():
            sel = labels == c
            scores[c].append(conf[sel])
            hits[c].append(_match(boxes[sel], gt_boxes[gt_labels == c], iou_thr))

    aps = {}
    for c in sorted(class_ids):
        if rules == 'mmaction2' and c not in scores:
            aps[c] = float('nan')  # no detection on an evaluated frame: left out of the mean
            continue
        s = np.concatenate(scores[c]) if c in scores else np.zeros(0)
        h = np.concatenate(hits[c]) if c in hits else np.zeros(0, bool)
        aps[c] = voc_ap(s, h, num_gt.get(c, 0))
    values = [v for v in aps.values() if not np.isnan(v)]
    return (float(np.mean(values)) if values else float('nan')), aps
