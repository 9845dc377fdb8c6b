"""Frame mAP@0.5: the official rules (exclusions on both sides), mmaction2's figure beside it,
and the metric's handling of unreadable frames, the background slot and worker processes."""
import csv
import multiprocessing
import os.path as osp

import numpy as np
import pytest
import torch
from ava_helpers import need_ava_sample, write

from projects.ava.ava_vmae2 import (
    AVAFrameMAP,
    frame_map,
    load_ground_truth,
    read_exclusions,
    read_label_map,
    voc_ap,
)


def _sample_files():
    root = need_ava_sample()
    return (osp.join(root, 'ava_sample.csv'), osp.join(root, 'action_list.txt'),
            osp.join(root, 'ava_excluded_timestamps_sample.csv'))


class _SerialPool:
    """Stands in for mmaction2's multiprocessing.Pool(32): the same map, in this process."""

    def __init__(self, processes=None):
        self.processes = processes

    def map(self, fn, items):
        return list(map(fn, items))


def test_ground_truth_given_back_scores_one_with_exclusions():
    ann, labels, excl = _sample_files()
    ids = set(read_label_map(labels))
    gt = load_ground_truth(ann, ids)
    excluded = read_exclusions(excl)
    official, aps = frame_map(gt, gt, ids, excluded)
    assert official == 1.0
    # id 80's only box is at an excluded timestamp: no ground truth left, out of the mean
    assert aps[12] == aps[17] == aps[79] == 1.0 and np.isnan(aps[80])
    # mmaction2's rules keep excluded ground truth in the denominators: 1/3, 1/2, 1
    mm, mm_aps = frame_map(gt, gt, ids, excluded, rules='mmaction2')
    assert mm == pytest.approx(0.6111111, abs=1e-6)
    assert mm_aps[12] == pytest.approx(1 / 3) and mm_aps[17] == pytest.approx(0.5)
    assert frame_map(gt, gt, ids, set())[0] == 1.0  # without the exclusions file


def test_mmaction2_rules_equal_mmaction2s_ava_eval(monkeypatch, tmp_path):
    """Our implementation of mmaction2's rules against mmaction2's own ava_eval, on the sample
    and on noisy detections (its Pool(32) replaced by a serial map)."""
    import mmaction.evaluation.functional.ava_utils as ava_utils
    monkeypatch.setattr(ava_utils.multiprocessing, 'Pool', _SerialPool)
    ann, labels, excl = _sample_files()
    ids = set(read_label_map(labels))
    gt = load_ground_truth(ann, ids)
    excluded = read_exclusions(excl)
    expected = ava_utils.ava_eval(ann, 'mAP', labels, ann, excl, verbose=False)['overall']
    assert frame_map(gt, gt, ids, excluded, rules='mmaction2')[0] == pytest.approx(expected)

    rng = np.random.default_rng(0)
    dets = {k: (np.clip(b + rng.normal(0, 0.05, b.shape), 0, 1), np.array(sorted(ids))[
        rng.integers(len(ids), size=len(b))], rng.random(len(b))) for k, (b, _, _) in gt.items()}
    result = str(tmp_path / 'dets.csv')
    with open(result, 'w', newline='') as f:
        w = csv.writer(f)
        for key, (boxes, cls, scores) in dets.items():
            vid, ts = key.rsplit(',', 1)
            for b, c, s in zip(boxes, cls, scores):
                w.writerow([vid, ts, *(f'{v:.4f}' for v in b), int(c), f'{s:.4f}'])
    expected = ava_utils.ava_eval(result, 'mAP', labels, ann, excl, verbose=False)['overall']
    rounded = {k: (np.round(b, 4), c, np.round(s, 4)) for k, (b, c, s) in dets.items()}
    ours = frame_map(gt, rounded, ids, excluded, rules='mmaction2')[0]
    assert ours == pytest.approx(expected, abs=1e-9)


def test_official_rules_by_hand():
    """Detections on frames without ground truth are false positives; a class with ground truth
    but no detection scores 0 (mmaction2 leaves it out); each frame keeps its top 50."""
    box = np.array([[0.1, 0.1, 0.5, 0.9]])
    gt = {'v,0901': (box, np.array([1]), np.ones(1)), 'v,0902': (box, np.array([2]), np.ones(1))}
    dets = {'v,0901': (box, np.array([1]), np.array([0.9])),
            'v,0903': (box, np.array([1]), np.array([0.95]))}  # a frame without ground truth
    mean, aps = frame_map(gt, dets, [1, 2])
    assert aps[1] == pytest.approx(0.5)  # the FP ranks first: precision 1/2 at recall 1
    assert aps[2] == 0.0 and mean == pytest.approx(0.25)
    mm_mean, mm_aps = frame_map(gt, dets, [1, 2], rules='mmaction2')
    assert mm_aps[1] == 1.0 and np.isnan(mm_aps[2]) and mm_mean == 1.0

    # 59 misplaced boxes and, scored lowest, the right one: the top 50 leave it out
    elsewhere = np.array([[0.6, 0.1, 0.9, 0.9]])
    many = {'v,0901': (np.concatenate([np.repeat(elsewhere, 59, 0), box]), np.ones(60, int),
                       np.concatenate([np.linspace(0.2, 0.8, 59), [0.05]]))}
    hit = {'v,0901': (box, np.array([1]), np.ones(1))}
    assert frame_map(hit, many, [1])[0] == 0.0
    assert frame_map(hit, many, [1], max_dets_per_frame=0)[0] == pytest.approx(1 / 60)


def test_voc_ap():
    assert voc_ap(np.array([0.9, 0.8, 0.7]), np.array([True, False, True]), 2) == pytest.approx(
        0.5 * 1 + 0.5 * 2 / 3)
    assert voc_ap(np.zeros(0), np.zeros(0, bool), 3) == 0.0
    assert np.isnan(voc_ap(np.array([0.5]), np.array([False]), 0))


def _samples_from_csv(ann, num_classes=81, score_of=lambda c: 1.0):
    """Data samples as the val loop hands them over, with the ground truth as predictions."""
    gt = load_ground_truth(ann)
    out = []
    for key, (boxes, labels, _) in gt.items():
        uniq = np.unique(boxes, axis=0)
        scores = np.zeros((len(uniq), num_classes))
        for b, c in zip(boxes, labels):
            scores[(uniq == b).all(1), c] = score_of(c)
        vid, ts = key.rsplit(',', 1)
        out.append(dict(video_id=vid, timestamp=int(ts), unreadable='',
                        pred_instances=dict(bboxes=torch.tensor(uniq), scores=torch.tensor(
                            scores))))
    return out


def test_metric_end_to_end_and_no_worker_processes(monkeypatch, tmp_path):
    def no_pool(*args, **kwargs):
        raise AssertionError('the metric started a process pool')

    monkeypatch.setattr(multiprocessing, 'Pool', no_pool)
    ann, labels, excl = _sample_files()
    metric = AVAFrameMAP(ann_file=ann, label_file=labels, exclude_file=excl,
                         dump_csv=str(tmp_path / 'dets.csv'))
    samples = _samples_from_csv(ann)
    for s in samples:  # the background slot is high everywhere: it must never be read
        s['pred_instances']['scores'][:, 0] = 1.0
    metric.process({}, samples)
    result = metric.compute_metrics(metric.results)
    assert result['frame_mAP@0.5'] == 1.0
    assert result['frame_mAP@0.5_mmaction2'] == pytest.approx(0.611111, abs=1e-6)
    assert result['num_frames'] == 3 and result['num_unreadable'] == 0
    rows = list(csv.reader(open(tmp_path / 'dets.csv')))
    assert {int(r[6]) for r in rows} == {12, 17, 79, 80}  # never 0, never 74 (not in the list)
    assert all(len(r) == 8 for r in rows)


def test_unreadable_frames_are_scored_as_misses(tmp_path):
    ann = write(tmp_path / 'gt.csv', 'v0000000001,0901,0.1,0.1,0.5,0.9,1,0\n'
                'v0000000001,0902,0.1,0.1,0.5,0.9,1,0\n')
    labels = write(tmp_path / 'labels.pbtxt', 'label {\n  name: "a"\n  label_id: 1\n}\n')
    metric = AVAFrameMAP(ann_file=ann, label_file=labels)
    samples = _samples_from_csv(ann, num_classes=2)
    samples[1]['unreadable'] = 'v0000000001.mp4: no frames'
    metric.process({}, samples)
    result = metric.compute_metrics(metric.results)
    assert result['num_unreadable'] == 1
    assert result['frame_mAP@0.5'] == pytest.approx(0.5)  # recall 1/2 at precision 1
