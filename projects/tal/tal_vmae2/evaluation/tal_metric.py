"""MMEngine metric for temporal action detection: mAP at each tIoU threshold and their mean,
and the predictions written in the ActivityNet results layout."""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log

from vmae2.registry import METRICS

from .detection_ap import evaluate_detections
from .fusion import fuse_video_scores, load_video_scores

__all__ = ['TALMetric']


@METRICS.register_module()
class TALMetric(BaseMetric):
    """Average precision of the localizer's ``pred_instances`` (segments in seconds).

    Args:
        tiou_thresholds: Thresholds (THUMOS14: 0.3:0.1:0.7; FineAction: 0.5:0.05:0.95).
        ann_file: Ground truth (ActionFormer JSON); None takes it from the data samples, i.e.
            the annotations the dataset kept. With a file, its videos without features count too.
        subset: Subset(s) of ``ann_file`` to evaluate on.
        video_scores: Per-video classifier scores (a JSON, see :func:`load_video_scores`) for a
            class-agnostic localizer: each segment is labelled with the video's top-``fusion_topk``
            classes, scored ``sqrt(segment score * class score)``.
        fusion_topk: Classes per video in the fusion.
        out_file: Where to write the predictions (ActivityNet results layout); by default
            ``detections.json`` beside the run's log, if there is one; '' writes nothing.
        collect_device, prefix: As :class:`mmengine.evaluator.BaseMetric`.
    """
    default_prefix = 'tal'

    def __init__(self,
                 tiou_thresholds: Sequence[float] = (0.3, 0.4, 0.5, 0.6, 0.7),
                 ann_file: Optional[str] = None,
                 subset: Optional[Union[str, Sequence[str]]] = None,
                 video_scores: Optional[str] = None,
                 fusion_topk: int = 2,
                 out_file: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if video_scores and not ann_file:
            raise ValueError('score fusion needs the real labels: set ann_file (the localizer '
                             'was trained class-agnostic)')
        self.tiou_thresholds = [float(t) for t in tiou_thresholds]
        self.ann_file, self.subset = ann_file, subset
        self.video_scores, self.fusion_topk = video_scores, fusion_topk
        self.out_file = out_file

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            pred = sample['pred_instances']
            gt = sample.get('gt_instances', {})
            self.results.append(dict(
                video_id=sample['video_id'],
                segments=np.asarray(pred['segments'], np.float64).reshape(-1, 2),
                scores=np.asarray(pred['scores'], np.float64),
                labels=np.asarray(pred['labels'], np.int64),
                # the ground truth as the dataset kept it, back in seconds
                gt_segments=(np.asarray(gt.get('segments', np.zeros((0, 2))), np.float64)
                             .reshape(-1, 2) * sample['feat_stride'] + sample['feat_offset'])
                / sample['fps'],
                gt_labels=np.asarray(gt.get('labels', np.zeros(0)), np.int64)))

    def detections(self, results: List[dict]) -> Dict[str, List[dict]]:
        """ActivityNet results layout ``{video: [{segment, label, score}]}``, fused with the
        video-level scores when given."""
        classes = list(self.dataset_meta['classes'])
        dets = {}
        for r in results:
            dets[r['video_id']] = [
                dict(segment=[round(float(s), 4), round(float(e), 4)],
                     label=classes[int(c)] if not self.video_scores else 'action',
                     score=float(x))
                for (s, e), x, c in zip(r['segments'], r['scores'], r['labels'])]
        if self.video_scores:
            dets = fuse_video_scores(dets, load_video_scores(self.video_scores, classes),
                                     classes, self.fusion_topk)
        return dets

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        dets = self.detections(results)
        if self.ann_file:
            gt = self.ann_file
        else:
            classes = list(self.dataset_meta['classes'])
            gt = {r['video_id']: [(float(s), float(e), classes[int(c)])
                                  for (s, e), c in zip(r['gt_segments'], r['gt_labels'])]
                  for r in results}
        res = evaluate_detections(gt, dict(results=dets), self.tiou_thresholds,
                                  subset=self.subset)
        self._write(dets)
        metrics = {'average_mAP': res['average_mAP']}
        metrics.update({f'mAP@{t:.2f}': float(m) for t, m in zip(res['thresholds'], res['mAP'])})
        print_log('tIoU ' + ' '.join(f'{t:.2f}' for t in res['thresholds']) + ' | average\n'
                  'mAP  ' + ' '.join(f'{m * 100:5.2f}' for m in res['mAP'])
                  + f' | {res["average_mAP"] * 100:.2f}', logger='current')
        return metrics

    def _write(self, dets: Dict[str, List[dict]]) -> None:
        path = self.out_file
        if path is None:
            log_file = getattr(MMLogger.get_current_instance(), 'log_file', None)
            if not log_file:
                return
            path = osp.join(osp.dirname(log_file), 'detections.json')
        if not path:
            return
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        with open(path, 'w') as f:
            json.dump(dict(version='vmae2-tal', results=dets,
                           external_data=dict(used=bool(self.video_scores))), f)
        print_log(f'detections written to {path}', logger='current')
