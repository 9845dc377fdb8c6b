"""FineAction's fusion input from a recognizer's ``tools/test.py --dump``: the dump (MMEngine's
``DumpResults`` behind an ``Evaluator``, as tools/test.py adds it) -> per-video JSON ->
``TALMetric(video_scores=...)``."""
import json
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.evaluator import DumpResults, Evaluator
from tal_helpers import REPO

from projects.tal.tal_vmae2.evaluation import TALMetric, load_video_scores

TOOL = osp.join(REPO, 'projects', 'tal', 'tools', 'video_scores_from_dump.py')
sys.path.insert(0, osp.dirname(TOOL))
import video_scores_from_dump  # noqa: E402
from video_scores_from_dump import scores_from_dump  # noqa: E402

HEAD = ['y', 'x', 'z']  # the classifier's head order, not the annotation's


def dump(tmp_path, rows, filenames=False):
    """``rows``: ``[(path, scores)]`` -> the pickle tools/test.py --dump writes."""
    out = str(tmp_path / 'dump.pkl')
    evaluator = Evaluator([DumpResults(out_file_path=out)])
    samples = []
    for path, scores in rows:
        s = ActionDataSample()
        if filenames:
            s.set_metainfo(dict(filename=path))
        s.set_pred_score(torch.tensor(scores))
        s.set_gt_label(torch.tensor(0))
        samples.append(s)
    evaluator.process(samples)
    evaluator.evaluate(len(samples))
    return out


def test_dump_to_video_scores_by_list_and_fused(tmp_path, capsys):
    rows = [('videos/a.mp4', [0.1, 0.8, 0.1]), ('videos/b.mkv', [0.7, 0.2, 0.1]),
            ('videos/b.mkv', [0.5, 0.4, 0.1])]  # two samples of b: averaged
    pkl = dump(tmp_path, rows)
    (tmp_path / 'list.txt').write_text('videos/a.mp4 1\nvideos/b.mkv 0\n' + 'videos/b.mkv 0\n')
    (tmp_path / 'head.txt').write_text('\n'.join(HEAD) + '\n')
    out = tmp_path / 'scores.json'
    video_scores_from_dump.main([pkl, '--list', str(tmp_path / 'list.txt'), '--label-map',
                                 str(tmp_path / 'head.txt'), '--out', str(out)])
    assert '2 videos, 3 samples' in capsys.readouterr().out
    written = json.loads(out.read_text())
    assert written['class'] == HEAD
    assert written['a'] == pytest.approx([0.1, 0.8, 0.1])
    assert written['b'] == pytest.approx([0.6, 0.3, 0.1])
    # reordered by name into the annotation's classes (x, y, z)
    table = load_video_scores(str(out), ['x', 'y', 'z'])
    np.testing.assert_allclose(table['b'], [0.3, 0.6, 0.1])
    # through the metric: a's segment takes x (top) and y; b's y then x
    ann = tmp_path / 'gt.json'
    ann.write_text(json.dumps(dict(database=dict(
        a=dict(subset='test', duration=10.0, annotations=[dict(label='x', segment=[1, 5])]),
        b=dict(subset='test', duration=10.0, annotations=[dict(label='y', segment=[2, 6])])))))
    metric = TALMetric(tiou_thresholds=[0.5], ann_file=str(ann), video_scores=str(out),
                       out_file=str(tmp_path / 'det.json'))
    metric.dataset_meta = dict(classes=('x', 'y', 'z'))
    for vid, seg in (('a', [1., 5.]), ('b', [2., 6.])):
        metric.process(None, [dict(video_id=vid, fps=1.0, feat_stride=1.0, feat_offset=0.0,
                                   pred_instances=dict(segments=torch.tensor([seg]),
                                                       scores=torch.tensor([0.64]),
                                                       labels=torch.tensor([0])))])
    assert metric.compute_metrics(metric.results)['average_mAP'] == 1.0
    det = json.loads((tmp_path / 'det.json').read_text())['results']
    assert [(d['label'], round(d['score'], 6)) for d in det['b']] == [
        ('y', round(np.sqrt(0.64 * 0.6), 6)), ('x', round(np.sqrt(0.64 * 0.3), 6))]


def test_dump_with_filenames_and_mismatches(tmp_path):
    import pickle
    pkl = dump(tmp_path, [('/data/v1.mp4', [0.2, 0.8]), ('/data/v2.mp4', [0.9, 0.1])],
               filenames=True)
    with open(pkl, 'rb') as f:
        samples = pickle.load(f)
    assert scores_from_dump(samples) == {'v1': pytest.approx([0.2, 0.8]),
                                         'v2': pytest.approx([0.9, 0.1])}
    with pytest.raises(ValueError, match='2 samples, the list 3 videos'):
        scores_from_dump(samples, names=['a', 'b', 'c'])
    with pytest.raises(ValueError, match='3 class names for scores of length 2'):
        scores_from_dump(samples, classes=HEAD)
    with pytest.raises(ValueError, match='pass --list'):
        scores_from_dump([dict(pred_score=torch.ones(2))])
