"""Backbones."""
from .vit_videomae import ARCH_ZOO, PatchEmbed3D, VideoViT, resolve_arch

__all__ = ['ARCH_ZOO', 'PatchEmbed3D', 'VideoViT', 'resolve_arch']
