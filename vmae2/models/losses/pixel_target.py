"""Pixel targets and the masked reconstruction loss of VideoMAE (V1 and V2).

The official engine (``engine_for_pretraining.py``) builds the target outside the model:

1. un-normalise the input back to ``[0, 1]`` pixels with the ImageNet mean / std;
2. cut it into ``tubelet x p x p`` tubelets, token order ``(t, h, w)``, each tubelet as
   ``(tubelet * p * p, C)`` (``b c (t p0) (h p1) (w p2) -> b (t h w) (p0 p1 p2) c``);
3. normalise each tubelet per channel with its mean and *unbiased* std (+1e-6 on the std);
4. flatten as ``(p0 p1 p2 c)`` (channel fastest).

The loss is the per-token MSE averaged over the query tokens that the encoder did not see.
"""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseModule

from vmae2.registry import MODELS

__all__ = ['IMAGENET_MEAN', 'IMAGENET_STD', 'patchify', 'unpatchify', 'gather_tubelets',
           'pixel_target', 'MaskedMSELoss']

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def patchify(x: torch.Tensor, patch_size: int, tubelet_size: int) -> torch.Tensor:
    """``(B, C, T, H, W)`` -> ``(B, N, tubelet * p * p, C)`` with ``N = t * h * w``."""
    B, C, T, H, W = x.shape
    p, q = patch_size, tubelet_size
    t, h, w = T // q, H // p, W // p
    x = x.reshape(B, C, t, q, h, p, w, p)
    x = x.permute(0, 2, 4, 6, 3, 5, 7, 1)  # (B, t, h, w, q, p, p, C)
    return x.reshape(B, t * h * w, q * p * p, C)


def unpatchify(tokens: torch.Tensor, grid: Sequence[int], patch_size: int,
               tubelet_size: int) -> torch.Tensor:
    """Inverse of :func:`patchify`: ``(B, N, q*p*p, C)`` -> ``(B, C, T, H, W)``."""
    B, N, _, C = tokens.shape
    t, h, w = grid
    p, q = patch_size, tubelet_size
    x = tokens.reshape(B, t, h, w, q, p, p, C).permute(0, 7, 1, 4, 2, 5, 3, 6)
    return x.reshape(B, C, t * q, h * p, w * p)


def gather_tubelets(x: torch.Tensor, index: torch.Tensor, patch_size: int,
                    tubelet_size: int) -> torch.Tensor:
    """The tubelets ``index`` picks, as :func:`patchify` lays them out, without patchifying
    the whole clip: ``(B, C, T, H, W)``, long ``(B, K)`` -> ``(B, K, tubelet * p * p, C)``.

    One indexing op reads the ``K`` tubelets straight from the clip (a strided view), so only
    the ``K`` selected tubelets are ever copied.
    """
    B, C, T, H, W = x.shape
    p, q = patch_size, tubelet_size
    t, h, w = T // q, H // p, W // p
    view = x.reshape(B, C, t, q, h, p, w, p).permute(0, 2, 4, 6, 3, 5, 7, 1)  # (B,t,h,w,q,p,p,C)
    ti = torch.div(index, h * w, rounding_mode='floor')
    hi = torch.div(index, w, rounding_mode='floor') % h
    wi = index % w
    b = torch.arange(B, device=index.device)[:, None]
    return view[b, ti, hi, wi].reshape(B, index.shape[1], q * p * p, C)


def pixel_target(x: torch.Tensor,
                 patch_size: int,
                 tubelet_size: int,
                 normalize: bool = True,
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 eps: float = 1e-6,
                 index: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Reconstruction target of every token, or of the tokens ``index`` names (no gradient).

    Args:
        x (Tensor): Normalised clip ``(B, C, T, H, W)`` as the model sees it.
        patch_size (int): Spatial patch size ``p``.
        tubelet_size (int): Frames per token.
        normalize (bool): Per-tubelet, per-channel normalisation (``norm_pix_loss``).
        mean, std: The normalisation the data preprocessor applied, in ``[0, 1]`` units.
        eps (float): Added to the std.
        index (Tensor, optional): Long ``(B, K)`` token indices; the target of those tokens
            only, in that order (the numbers of gathering the full target: every operation is
            per tubelet; the per-tubelet sums may round differently, ~1e-7). None = all ``N``
            tokens.

    Returns:
        Tensor: ``(B, N or K, tubelet * p * p * C)`` in float32.
    """
    with torch.no_grad():
        x = x.float()
        if index is None:
            patches = patchify(x, patch_size, tubelet_size)  # (B, N, q*p*p, C)
        else:
            patches = gather_tubelets(x, index, patch_size, tubelet_size)  # (B, K, q*p*p, C)
        # un-normalise to [0, 1] per channel (the last axis), after the gather: less to touch
        patches = patches * x.new_tensor(std) + x.new_tensor(mean)
        if normalize:
            mu = patches.mean(dim=-2, keepdim=True)
            sigma = patches.var(dim=-2, unbiased=True, keepdim=True).sqrt()
            patches = (patches - mu) / (sigma + eps)
        return patches.flatten(2)


@MODELS.register_module()
class MaskedMSELoss(BaseModule):
    """Per-token MSE, weighted average over tokens.

    ``loss = sum_i w_i * mean_c (pred_ic - target_ic)^2 / sum_i w_i``; VideoMAE uses
    ``w_i = 1`` for query tokens hidden from the encoder and 0 for the rest.
    """

    def forward(self, pred: torch.Tensor, target: torch.Tensor,
                weight: Optional[torch.Tensor] = None) -> torch.Tensor:
        """pred, target: ``(B, Nq, K)``; weight: ``(B, Nq)`` or None (all ones)."""
        per_token = (pred.float() - target.float()).pow(2).mean(dim=-1)  # (B, Nq)
        if weight is None:
            return per_token.mean()
        weight = weight.to(per_token.dtype)
        return (per_token * weight).sum() / weight.sum()
