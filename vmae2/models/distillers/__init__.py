"""Knowledge distillation of video classifiers (VideoMAE V2, Sec. 4.3)."""
from .kd_recognizer import KDRecognizer, kd_loss

__all__ = ['KDRecognizer', 'kd_loss']
