"""Heads."""
from .videomae_head import VideoMAEHead

__all__ = ['VideoMAEHead']
