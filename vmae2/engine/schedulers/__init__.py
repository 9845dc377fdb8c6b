"""Parameter schedulers."""
from .warmup_cosine import WarmupCosineLR, WarmupCosineParamScheduler

__all__ = ['WarmupCosineLR', 'WarmupCosineParamScheduler']
