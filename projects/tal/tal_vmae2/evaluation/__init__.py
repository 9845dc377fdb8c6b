"""Temporal detection mAP (ActionFormer's rules), its MMEngine metric, score fusion."""
from .detection_ap import evaluate_detections, interpolated_ap, load_ground_truth, load_predictions
from .fusion import fuse_video_scores, load_video_scores
from .tal_metric import TALMetric

__all__ = ['evaluate_detections', 'interpolated_ap', 'load_ground_truth', 'load_predictions',
           'fuse_video_scores', 'load_video_scores', 'TALMetric']
