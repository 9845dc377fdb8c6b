"""vmae2.evaluation: metrics (accuracy with unreadable videos scored as misses)."""
from .robust_acc_metric import RobustAccMetric, miss_score

__all__ = ['RobustAccMetric', 'miss_score']
