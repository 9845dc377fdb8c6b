"""Utilities below everything else: stack work-arounds and distributed set-up."""
from .compat import patch_mmaction
from .dist import setup_distributed

__all__ = ['patch_mmaction', 'setup_distributed']
