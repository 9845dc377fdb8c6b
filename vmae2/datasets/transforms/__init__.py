"""Data transforms of vmae2: video loading here; mmaction2's crops, resizes, formatting and
packing are reused as they are (see ``configs/_base_/datasets``)."""
from .loading import SampleClip, VideoDecode, VideoInit

# TODO(lead): enable once the colleague's vmae2/datasets/transforms/masking.py lands.
# from .masking import GenerateMasks  # noqa: F401

__all__ = ['VideoInit', 'SampleClip', 'VideoDecode']
