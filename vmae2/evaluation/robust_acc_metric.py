"""Accuracy over a fixed list of videos, unreadable ones scored as misses and listed.

:class:`~vmae2.datasets.RobustVideoDataset` in test mode returns a placeholder for a video it
cannot read, marked ``unreadable`` in its metainfo. The model still runs on it (the batch
keeps its shape), but its prediction means nothing: this metric replaces it by a score that
ranks the true class last, so the video counts as a miss in every top-k (k < classes) and in
its class's accuracy. The output gains ``num_unreadable``, and the files are listed in the log
at the end of the evaluation (gathered from every process).
"""
import logging
from typing import Any, Dict, List, Sequence

import numpy as np
from mmaction.evaluation import AccMetric
from mmengine.logging import print_log

from vmae2.registry import METRICS

__all__ = ['RobustAccMetric', 'miss_score']


def miss_score(pred: np.ndarray, label: int) -> np.ndarray:
    """A copy of ``pred`` whose class ``label`` is strictly below every other class."""
    out = np.array(pred, dtype=np.float64, copy=True)
    out[label] = out.min() - 1.0
    return out


@METRICS.register_module()
class RobustAccMetric(AccMetric):
    """mmaction2's ``AccMetric`` (same arguments and numbers) plus the unreadable-video rule:
    scored as misses, counted in ``num_unreadable``, listed at the end."""

    def process(self, data_batch: Sequence[Any], data_samples: Sequence[Dict]) -> None:
        start = len(self.results)
        super().process(data_batch, data_samples)
        for sample, result in zip(data_samples, self.results[start:]):
            unreadable = sample.get('unreadable', False)
            result['unreadable'] = sample.get('filename', '?') if unreadable else None
            if unreadable:
                if isinstance(result['label'], np.ndarray):
                    raise NotImplementedError('RobustAccMetric: unreadable multi-label samples')
                result['pred'] = miss_score(result['pred'], result['label'])

    def compute_metrics(self, results: List) -> Dict:
        bad = [r['unreadable'] for r in results if r.get('unreadable')]
        out = super().compute_metrics(
            [{k: v for k, v in r.items() if k != 'unreadable'} for r in results])
        out['num_unreadable'] = len(bad)
        if bad:
            listing = '\n  '.join(bad)
            print_log(f'{len(bad)} of {len(results)} videos could not be read and were scored '
                      f'as misses:\n  {listing}', logger='current', level=logging.WARNING)
        return out
