"""Recognizers."""
from .videomae_recognizer import VideoMAERecognizer, fill_blending_classes

__all__ = ['VideoMAERecognizer', 'fill_blending_classes']
