"""Average precision of temporal action detections at tIoU thresholds.

The rules are those of the ActivityNet evaluation as ActionFormer applies it:

* ground-truth duplicates (same video, same label, both ends within ``tol`` seconds) are removed;
* predictions are taken in decreasing score order; a prediction is a true positive at threshold
  ``t`` when its best-overlapping *unmatched* ground truth of the same video and class has
  tIoU >= ``t``; each ground truth is matched at most once per threshold;
* AP is the interpolated (VOC 2011) area under the precision-recall curve;
* mAP at a threshold is the mean over the classes present in the ground truth (a class with
  ground truth but no prediction scores 0), and the average mAP is the mean over thresholds.

Ground truth comes in either layout: ActionFormer's ``{"database": {video: {subset, duration,
fps, annotations: [{label, label_id, segment}]}}}`` or ActivityNet's bare ``{video: {...}}``
(whose ids carry a ``v_`` prefix that result files usually drop). Predictions use the ActivityNet
results layout ``{"results": {video: [{"segment": [s, e], "label": name | label_id,
"score": x}]}}``.
"""
import json
import warnings
from typing import Dict, List, NamedTuple, Optional, Sequence, Set, Tuple, Union

import numpy as np

__all__ = ['GroundTruth', 'GroundTruthFile', 'load_ground_truth', 'load_predictions', 'segment_iou',
           'interpolated_ap', 'average_precision', 'evaluate_detections']

#: videos -> list of ``(start, end, label_name)``
GroundTruth = Dict[str, List[Tuple[float, float, str]]]


class GroundTruthFile(NamedTuple):
    """What :func:`load_ground_truth` reads."""
    videos: GroundTruth  #: the selected videos' ``(start, end, label)`` lists
    id_to_name: Dict[int, str]  #: ``label_id -> label`` found in the annotations
    excluded: Set[str]  #: videos of the file outside the selected subset(s)


def _database(data: dict) -> dict:
    if 'database' in data:
        return data['database']
    if 'results' in data:
        raise ValueError('this is a results file (it has a "results" key), not ground truth')
    return data  # ActivityNet's bare layout: the videos are the top-level keys


def load_ground_truth(gt: Union[str, dict],
                      subset: Optional[Union[str, Sequence[str]]] = None,
                      tol: float = 1e-3) -> GroundTruthFile:
    """Read ground truth, keep ``subset`` and remove duplicate annotations.

    Args:
        gt: A JSON path or its loaded content, in either layout (see the module doc).
        subset: Subset name(s) to keep (case-insensitive, e.g. ``'test'``); None keeps all.
        tol: Two annotations of one video and label whose ends differ by at most this many
            seconds are one.

    Returns:
        GroundTruthFile: per selected video its ``(start, end, label)`` list (videos without
        annotations included, so that their predictions count as false positives), the
        ``label_id -> label`` map and the videos left out by ``subset``.
    """
    if isinstance(gt, str):
        with open(gt) as f:
            gt = json.load(f)
    keep = None
    if subset is not None:
        keep = {s.lower() for s in ([subset] if isinstance(subset, str) else subset)}
    videos, id_to_name, excluded = {}, {}, set()
    for vid, info in _database(gt).items():
        if keep is not None and str(info.get('subset', '')).lower() not in keep:
            excluded.add(vid)
            continue
        segs: List[Tuple[float, float, str]] = []
        for ann in info.get('annotations', []):
            s, e = (float(x) for x in ann['segment'])
            label = str(ann['label'])
            if 'label_id' in ann:
                id_to_name[int(ann['label_id'])] = label
            if any(lab == label and abs(s - s0) <= tol and abs(e - e0) <= tol
                   for s0, e0, lab in segs):
                continue  # a duplicate
            segs.append((s, e, label))
        videos[vid] = segs
    return GroundTruthFile(videos, id_to_name, excluded)


def _match_video_id(vid: str, known: Dict[str, list]) -> Optional[str]:
    if vid in known:
        return vid
    if 'v_' + vid in known:  # ActivityNet: ground truth 'v_<youtube id>', results '<id>'
        return 'v_' + vid
    if vid.startswith('v_') and vid[2:] in known:
        return vid[2:]
    return None


def load_predictions(pred: Union[str, dict], gt: GroundTruth,
                     id_to_name: Optional[Dict[int, str]] = None,
                     excluded: Optional[Set[str]] = None
                     ) -> Dict[str, List[Tuple[str, float, float, float]]]:
    """Predictions per class, with video ids mapped onto the ground truth's.

    Args:
        pred: ActivityNet results JSON path or content.
        gt: Ground truth from :func:`load_ground_truth`.
        id_to_name: ``label_id -> name``, for predictions whose ``label`` is a number.
        excluded: Videos of another subset: their predictions are left out (with a warning).

    Returns:
        ``{label: [(video, start, end, score)]}``. Predictions for videos not in the ground
        truth file are kept under the video's own id (they are false positives) and warned
        about; predictions of labels without ground truth are dropped with a warning.
    """
    if isinstance(pred, str):
        with open(pred) as f:
            pred = json.load(f)
    if 'results' not in pred:
        raise ValueError('predictions must be {"results": {video: [{"segment", "label", '
                         '"score"}]}} (ActivityNet results layout)')
    id_to_name = id_to_name or {}
    classes = {lab for segs in gt.values() for _, _, lab in segs}
    out: Dict[str, list] = {c: [] for c in classes}
    unknown_videos, unknown_labels, other_subset = [], set(), []
    excluded = {v: [] for v in (excluded or ())}
    for vid, items in pred['results'].items():
        gvid = _match_video_id(vid, gt)
        if gvid is None and _match_video_id(vid, excluded) is not None:
            other_subset.append(vid)
            continue
        if gvid is None:
            unknown_videos.append(vid)
            gvid = vid
        for item in items:
            label = item['label']
            if not isinstance(label, str):
                if int(label) not in id_to_name:
                    raise ValueError(f'{vid}: predicted label_id {label} is not among the '
                                     f'ground truth label ids {sorted(id_to_name)}')
                label = id_to_name[int(label)]
            if label not in classes:
                unknown_labels.add(label)
                continue
            s, e = (float(x) for x in item['segment'])
            out[label].append((gvid, s, e, float(item['score'])))
    if unknown_videos:
        warnings.warn(f'{len(unknown_videos)} predicted video(s) are not in the ground truth '
                      f'(counted as false positives): {unknown_videos[:10]}'
                      f'{" ..." if len(unknown_videos) > 10 else ""}')
    if other_subset:
        warnings.warn(f'{len(other_subset)} predicted video(s) belong to another subset, '
                      f'ignored: {other_subset[:10]}{" ..." if len(other_subset) > 10 else ""}')
    if unknown_labels:
        warnings.warn(f'predicted labels without ground truth, ignored: {sorted(unknown_labels)}')
    return out


def segment_iou(segment: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """tIoU of one ``[s, e]`` segment with ``(N, 2)`` candidates -> ``(N,)``."""
    inter = (np.minimum(segment[1], candidates[:, 1])
             - np.maximum(segment[0], candidates[:, 0])).clip(0)
    union = (candidates[:, 1] - candidates[:, 0]) + (segment[1] - segment[0]) - inter
    return np.divide(inter, union, out=np.zeros_like(inter, dtype=float), where=union > 0)


def interpolated_ap(precision: np.ndarray, recall: np.ndarray) -> float:
    """VOC 2011 AP: the area under the precision envelope at the recall steps."""
    prec = np.concatenate([[0.], precision, [0.]])
    rec = np.concatenate([[0.], recall, [1.]])
    prec = np.maximum.accumulate(prec[::-1])[::-1]  # envelope: best precision at >= recall
    steps = np.nonzero(rec[1:] != rec[:-1])[0] + 1
    return float(np.sum((rec[steps] - rec[steps - 1]) * prec[steps]))


def average_precision(gt: Dict[str, np.ndarray],
                      preds: List[Tuple[str, float, float, float]],
                      thresholds: Sequence[float]) -> np.ndarray:
    """AP of one class at each threshold.

    Args:
        gt: Per video, the class's ``(n, 2)`` ground-truth segments.
        preds: ``(video, start, end, score)`` of the class.
        thresholds: tIoU thresholds ``(K,)``.

    Returns:
        ``(K,)`` APs (zeros when there is no prediction or no ground truth).
    """
    num_pos = sum(len(v) for v in gt.values())
    ap = np.zeros(len(thresholds))
    if not preds or num_pos == 0:
        return ap
    scores = np.array([p[3] for p in preds])
    order = np.argsort(-scores, kind='stable')  # ties keep the file's order
    tp = np.zeros((len(thresholds), len(preds)))
    matched = {vid: np.zeros((len(thresholds), len(segs)), bool) for vid, segs in gt.items()}
    for rank, i in enumerate(order):
        vid, s, e, _ = preds[i]
        if vid not in gt or len(gt[vid]) == 0:
            continue  # a false positive at every threshold
        ious = segment_iou(np.array([s, e]), gt[vid])
        by_iou = np.argsort(-ious, kind='stable')
        for k, thr in enumerate(thresholds):
            for j in by_iou:  # best overlap first, skipping ground truth already matched
                if ious[j] < thr:
                    break
                if not matched[vid][k, j]:
                    matched[vid][k, j] = True
                    tp[k, rank] = 1
                    break
    tp_cum = np.cumsum(tp, axis=1)
    fp_cum = np.cumsum(1 - tp, axis=1)
    recall = tp_cum / num_pos
    precision = tp_cum / (tp_cum + fp_cum)
    for k in range(len(thresholds)):
        ap[k] = interpolated_ap(precision[k], recall[k])
    return ap


def evaluate_detections(gt: Union[str, dict, GroundTruth],
                        pred: Union[str, dict],
                        thresholds: Sequence[float] = (0.3, 0.4, 0.5, 0.6, 0.7),
                        subset: Optional[Union[str, Sequence[str]]] = None,
                        id_to_name: Optional[Dict[int, str]] = None) -> dict:
    """mAP at each threshold and their mean.

    Args:
        gt: Ground truth JSON path / content, or an already loaded :data:`GroundTruth`.
        pred: Predictions (ActivityNet results layout), path or content.
        thresholds: tIoU thresholds.
        subset: Ground-truth subset(s) to evaluate on (file / content only).
        id_to_name: ``label_id -> name`` with a loaded :data:`GroundTruth`.

    Returns:
        dict: ``thresholds`` (K,), ``classes`` (C names, sorted), ``ap`` (K, C), ``mAP`` (K,)
        and ``average_mAP``.
    """
    excluded = set()
    if isinstance(gt, (str, dict)) and not _is_loaded(gt):
        gt, found, excluded = load_ground_truth(gt, subset)
        id_to_name = {**found, **(id_to_name or {})}
    classes = sorted({lab for segs in gt.values() for _, _, lab in segs})
    if not classes:
        raise ValueError('the ground truth (after subset selection) has no annotation')
    preds = load_predictions(pred, gt, id_to_name, excluded)
    thresholds = np.asarray(thresholds, dtype=float)
    ap = np.zeros((len(thresholds), len(classes)))
    for c, name in enumerate(classes):
        class_gt = {vid: np.array([[s, e] for s, e, lab in segs if lab == name]).reshape(-1, 2)
                    for vid, segs in gt.items()}
        if not preds[name]:
            warnings.warn(f'no predictions of class {name!r}: its AP is 0')
        ap[:, c] = average_precision(class_gt, preds[name], thresholds)
    mean_ap = ap.mean(axis=1)
    return dict(thresholds=thresholds, classes=classes, ap=ap, mAP=mean_ap,
                average_mAP=float(mean_ap.mean()))


def _is_loaded(gt) -> bool:
    # a GroundTruth maps videos to lists of tuples; a JSON file's content maps them to dicts
    return isinstance(gt, dict) and all(isinstance(v, list) for v in gt.values()) \
        and 'database' not in gt
