"""Detection mAP: real annotation files, mmaction2's evaluation as an oracle, hand-computed APs,
the command-line tool, the MMEngine metric and the score fusion."""
import json
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from tal_helpers import REPO, need_data

from projects.tal.tal_vmae2.evaluation import (
    TALMetric,
    evaluate_detections,
    fuse_video_scores,
    interpolated_ap,
    load_ground_truth,
)

sys.path.insert(0, osp.join(REPO, 'projects', 'tal', 'tools'))
import eval_detection  # noqa: E402


def gt_of(videos):
    """``{video: [(s, e, label)]}`` -> ActionFormer-layout content."""
    return dict(database={v: dict(subset='test', duration=100.0, annotations=[
        dict(label=lab, segment=[s, e]) for s, e, lab in segs]) for v, segs in videos.items()})


def preds_of(videos):
    return dict(results={v: [dict(segment=[s, e], label=lab, score=x) for s, e, lab, x in p]
                         for v, p in videos.items()})


def test_thumos_subset_ground_truth_scores_one():
    path = need_data('localization', 'thumos14_subset.json')
    with open(path) as f:
        gt = json.load(f)
    # as predictions, with label ids (the layout's other spelling) and a constant score
    pred = dict(results={v: [dict(segment=a['segment'], label=a['label_id'], score=1.0)
                             for a in info['annotations']]
                         for v, info in gt['database'].items()})
    for subset in (None, 'test', 'validation'):
        res = evaluate_detections(path, pred, subset=subset)
        assert res['mAP'].tolist() == [1.0] * 5 and res['average_mAP'] == 1.0
    res = evaluate_detections(path, pred, subset='test')
    assert res['classes'] == ['CricketBowling', 'CricketShot', 'JavelinThrow',
                              'VolleyballSpiking']


def test_activitynet_pair_matches_mmaction2():
    from mmaction.evaluation.functional import ActivityNetLocalization
    gt = need_data('localization', 'activitynet_gt.json')
    pred = need_data('localization', 'activitynet_result.json')
    thresholds = np.linspace(0.5, 0.95, 10)
    oracle = ActivityNetLocalization(gt, pred, tiou_thresholds=thresholds)
    ref_map, ref_avg = oracle.evaluate()
    ours = evaluate_detections(gt, pred, thresholds)  # 'v_' ids in the gt, bare in the results
    np.testing.assert_allclose(ours['mAP'], ref_map, atol=1e-12)
    assert ours['average_mAP'] == pytest.approx(ref_avg, abs=1e-12)
    assert round(ours['average_mAP'], 4) == 0.6178


def test_interpolated_ap_hand_values():
    # precision 1, 0.5, 2/3 at recall 1/3, 1/3, 2/3: envelope 1 up to 1/3, 2/3 up to 2/3
    assert interpolated_ap(np.array([1, .5, 2 / 3]), np.array([1 / 3, 1 / 3, 2 / 3])) == \
        pytest.approx(1 / 3 + 1 / 3 * 2 / 3)


def test_duplicates_removed_from_ground_truth():
    gt = gt_of(dict(a=[(10, 20, 'x'), (10.0005, 20.0003, 'x'), (30, 40, 'x')]))
    videos, _, _ = load_ground_truth(gt)
    assert len(videos['a']) == 2
    res = evaluate_detections(gt, preds_of(dict(a=[(10, 20, 'x', 0.9), (30, 40, 'x', 0.8)])),
                              [0.5])
    assert res['mAP'][0] == 1.0  # with the duplicate kept, recall would stop at 2/3


def test_ground_truth_matched_once_per_threshold():
    # two predictions on one GT: the second is a false positive; the second GT is found last
    gt = gt_of(dict(a=[(0, 10, 'x'), (50, 60, 'x')]))
    pred = preds_of(dict(a=[(0, 10, 'x', 0.9), (1, 10, 'x', 0.8), (50, 60, 'x', 0.7)]))
    res = evaluate_detections(gt, pred, [0.5, 0.95])
    # t=0.5: TP, FP, TP -> precision 1, .5, 2/3 at recall .5, .5, 1 -> AP = .5 + .5 * 2/3
    # t=0.95: the second prediction (tIoU 0.9) is a FP either way: same AP
    assert res['mAP'].tolist() == pytest.approx([0.5 + 0.5 * 2 / 3] * 2)
    # a prediction overlapping two GTs takes the best one still free
    gt = gt_of(dict(a=[(0, 10, 'x'), (2, 12, 'x')]))
    pred = preds_of(dict(a=[(0, 10, 'x', 0.9), (1, 11, 'x', 0.8)]))
    # the second's best overlap (GT 1, tIoU 9/11) is taken; GT 2 (tIoU 9/11 too) is free: TP
    assert evaluate_detections(gt, pred, [0.5])['mAP'][0] == pytest.approx(1.0)


def test_class_without_predictions_counts_zero():
    gt = gt_of(dict(a=[(0, 10, 'x'), (20, 30, 'y')]))
    with pytest.warns(UserWarning, match="no predictions of class 'y'"):
        res = evaluate_detections(gt, preds_of(dict(a=[(0, 10, 'x', 0.9)])), [0.5])
    assert res['classes'] == ['x', 'y'] and res['ap'][0].tolist() == [1.0, 0.0]
    assert res['average_mAP'] == 0.5


def test_unknown_videos_and_labels_are_warned_about():
    gt = gt_of(dict(a=[(0, 10, 'x')]))
    pred = preds_of(dict(a=[(0, 10, 'x', 0.5)], ghost=[(0, 10, 'x', 0.9)],))
    pred['results']['a'].append(dict(segment=[0, 10], label='zzz', score=0.99))
    with pytest.warns(UserWarning) as record:
        res = evaluate_detections(gt, pred, [0.5])
    text = ' '.join(str(w.message) for w in record)
    assert "['ghost']" in text and "['zzz']" in text
    # the unknown video's detection is a false positive ranked first: precision 1/2 at recall 1
    assert res['mAP'][0] == pytest.approx(0.5)


def test_command_line_tool(tmp_path, capsys):
    # in-process (a fresh interpreter importing torch costs tens of seconds on a loaded CI box)
    gt = need_data('localization', 'activitynet_gt.json')
    pred = need_data('localization', 'activitynet_result.json')
    eval_detection.main([gt, pred, '--tiou-range', '0.5', '0.95', '10', '--out',
                         str(tmp_path / 'm.json')])
    assert 'average mAP 61.78 over 10 thresholds, 2 classes' in capsys.readouterr().out
    assert json.loads((tmp_path / 'm.json').read_text())['average_mAP'] == pytest.approx(
        0.6177579, abs=1e-6)


def _sample(vid, segs, scores, labels, gt_segs, gt_labels):
    # what MMEngine's evaluator hands a metric: the data sample as a dict (times in seconds
    # for the predictions, feature steps for the ground truth; stride 4, offset 8, 16 fps)
    return dict(video_id=vid, fps=16.0, feat_stride=4.0, feat_offset=8.0,
                pred_instances=dict(segments=torch.tensor(segs), scores=torch.tensor(scores),
                                    labels=torch.tensor(labels)),
                gt_instances=dict(segments=(torch.tensor(gt_segs) * 16 - 8) / 4,
                                  labels=torch.tensor(gt_labels)))


def test_tal_metric_from_samples_and_results_file(tmp_path):
    metric = TALMetric(tiou_thresholds=[0.5, 0.7], out_file=str(tmp_path / 'det.json'))
    metric.dataset_meta = dict(classes=('x', 'y'))
    metric.process(None, [
        _sample('a', [[1., 5.], [10., 12.]], [0.9, 0.8], [0, 1], [[1., 5.], [10., 13.]], [0, 1]),
        _sample('b', [[3., 4.]], [0.7], [1], [[20., 30.]], [1])])
    res = metric.compute_metrics(metric.results)
    # x: one exact hit -> 1; y: [10, 12] vs [10, 13] (tIoU 2/3) hit at 0.5, miss at 0.7; the 'b'
    # detection is a FP after it; 2 GTs of y -> AP(y, 0.5) = 1/2, AP(y, 0.7) = 0
    assert res['mAP@0.50'] == pytest.approx((1 + 0.5) / 2)
    assert res['mAP@0.70'] == pytest.approx((1 + 0) / 2)
    assert res['average_mAP'] == pytest.approx((0.75 + 0.5) / 2)
    written = json.loads((tmp_path / 'det.json').read_text())['results']
    assert written['a'][1] == dict(segment=[10.0, 12.0], label='y', score=pytest.approx(0.8))


def test_fusion_with_video_level_scores(tmp_path):
    dets = dict(v1=[dict(segment=[0, 1], score=0.64)], v2=[dict(segment=[2, 3], score=0.5)])
    fused = fuse_video_scores(dets, dict(v1=np.array([0.25, 0.0, 0.16])), ['p', 'q', 'r'], topk=2)
    assert [(d['label'], d['score']) for d in fused['v1']] == [
        ('p', pytest.approx(0.4)), ('r', pytest.approx(0.32))]
    assert 'v2' not in fused  # no classifier scores: dropped (with a warning)
    # through the metric: a class-agnostic run, the scores file, the real labels from the file
    ann = tmp_path / 'gt.json'
    ann.write_text(json.dumps(gt_of(dict(a=[(1, 5, 'x')], b=[(20, 30, 'y')]))))
    scores = tmp_path / 'scores.json'
    scores.write_text(json.dumps(dict(a=dict(x=0.9, y=0.1), b=[0.2, 0.8])))
    metric = TALMetric(tiou_thresholds=[0.5], ann_file=str(ann), video_scores=str(scores),
                       out_file='')
    metric.dataset_meta = dict(classes=('x', 'y'))
    metric.process(None, [_sample('a', [[1., 5.]], [0.5], [0], [[1., 5.]], [0]),
                          _sample('b', [[20., 30.]], [0.5], [0], [[20., 30.]], [0])])
    assert metric.compute_metrics(metric.results)['average_mAP'] == 1.0
    with pytest.raises(ValueError, match='ann_file'):
        TALMetric(video_scores=str(scores))
