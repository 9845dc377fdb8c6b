"""Gaussian Soft-NMS of 1-D segments, in torch (CPU or GPU, no compiled extension)."""
from typing import Optional, Tuple

import torch

__all__ = ['segment_iou_1d', 'gaussian_soft_nms', 'batched_soft_nms']


def segment_iou_1d(seg: torch.Tensor, others: torch.Tensor) -> torch.Tensor:
    """tIoU of one ``(2,)`` segment with ``(N, 2)`` segments -> ``(N,)``."""
    inter = (torch.minimum(seg[1], others[:, 1]) - torch.maximum(seg[0], others[:, 0])).clamp(0)
    union = (seg[1] - seg[0]) + (others[:, 1] - others[:, 0]) - inter
    return inter / union.clamp(min=1e-8)


def gaussian_soft_nms(segments: torch.Tensor, scores: torch.Tensor, sigma: float = 0.5,
                      min_score: float = 0.001,
                      max_num: Optional[int] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """Soft-NMS (Bodla et al. 2017), Gaussian decay.

    Repeatedly keeps the best remaining segment and multiplies the score of every other by
    ``exp(-iou ** 2 / sigma)``; segments whose score falls below ``min_score`` are dropped.

    Args:
        segments: ``(N, 2)`` ``[start, end]``.
        scores: ``(N,)``.
        sigma: Gaussian width (ActionFormer, THUMOS14: 0.5).
        min_score: Drop threshold.
        max_num: Keep at most this many.

    Returns:
        ``(kept_scores (K,), kept_index (K,))``: the decayed scores, in decreasing order, and the
        indices of the kept segments into ``segments``.
    """
    scores = scores.clone().float()
    idx = torch.arange(len(scores), device=scores.device)
    keep = scores >= min_score
    scores, idx = scores[keep], idx[keep]
    segs = segments.float()
    out_scores, out_idx = [], []
    limit = len(idx) if max_num is None else min(max_num, len(idx))
    while len(idx) and len(out_idx) < limit:
        best = int(torch.argmax(scores))
        out_scores.append(scores[best])
        out_idx.append(idx[best])
        rest = torch.ones_like(idx, dtype=torch.bool)
        rest[best] = False
        iou = segment_iou_1d(segs[idx[best]], segs[idx[rest]])
        scores = scores[rest] * torch.exp(-iou.pow(2) / sigma)
        idx = idx[rest]
        alive = scores >= min_score
        scores, idx = scores[alive], idx[alive]
    if not out_idx:
        return scores.new_zeros(0), idx.new_zeros(0)
    return torch.stack(out_scores), torch.stack(out_idx)


def batched_soft_nms(segments: torch.Tensor, scores: torch.Tensor, groups: torch.Tensor,
                     sigma: float = 0.5, min_score: float = 0.001,
                     max_num: int = 200) -> Tuple[torch.Tensor, torch.Tensor]:
    """Soft-NMS within each group (class), then the ``max_num`` best over all groups.

    Args:
        segments: ``(N, 2)``; scores: ``(N,)``; groups: ``(N,)`` group (class) of each.

    Returns:
        ``(scores (K,), index (K,))``, K <= ``max_num``, by decreasing decayed score; ``index``
        points into the inputs.
    """
    all_scores, all_idx = [], []
    for g in torch.unique(groups):
        sel = torch.nonzero(groups == g).flatten()
        s, i = gaussian_soft_nms(segments[sel], scores[sel], sigma, min_score, max_num)
        all_scores.append(s)
        all_idx.append(sel[i])
    if not all_idx:
        return scores.new_zeros(0), groups.new_zeros(0, dtype=torch.long)
    s, i = torch.cat(all_scores), torch.cat(all_idx)
    order = torch.argsort(s, descending=True, stable=True)[:max_num]
    return s[order], i[order]
