"""Anchor-free targets of ActionFormer: one point per pyramid step, each responsible for the
actions whose size falls in its level's regression range and whose centre is near it.

Units: the feature grid of level 0 (one step = ``feat_stride`` video frames). A point of level
l at index i sits at ``i * 2**l``; its regression targets are the distances to the action's
start and end divided by the level's stride.
"""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F

__all__ = ['make_points', 'assign_targets']


def make_points(lengths: Sequence[int], regression_ranges: Sequence[Tuple[float, float]],
                device=None) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Points of every level, concatenated.

    Args:
        lengths: ``T_l`` of each level (level l has stride ``2**l``).
        regression_ranges: ``(lo, hi)`` per level, in level-0 steps, on the larger of an
            action's two distances to the point.

    Returns:
        ``(positions (P,), strides (P,), ranges (P, 2))`` with ``P = sum(lengths)``.
    """
    if len(lengths) != len(regression_ranges):
        raise ValueError(f'{len(regression_ranges)} regression ranges for {len(lengths)} levels')
    pos, strides, ranges = [], [], []
    for level, (n, rng) in enumerate(zip(lengths, regression_ranges)):
        s = 2 ** level
        pos.append(torch.arange(n, device=device, dtype=torch.float32) * s)
        strides.append(torch.full((n,), float(s), device=device))
        ranges.append(torch.tensor(rng, device=device, dtype=torch.float32).expand(n, 2))
    return torch.cat(pos), torch.cat(strides), torch.cat(ranges)


@torch.no_grad()
def assign_targets(points: torch.Tensor, strides: torch.Tensor, ranges: torch.Tensor,
                   gt_segments: torch.Tensor, gt_labels: torch.Tensor, num_classes: int,
                   center_radius: float = 1.5) -> Tuple[torch.Tensor, torch.Tensor]:
    """Targets of one video.

    A point is positive for an action when it lies inside the action, within
    ``center_radius * stride`` of its centre, and the action's larger distance to the point is
    within the level's regression range. A point positive for several actions takes the
    shortest (the easiest to regress); actions of the same shortest length (one segment with two
    labels, as THUMOS14's CliffDiving/Diving) all set their class.

    Args:
        points, strides, ranges: From :func:`make_points`.
        gt_segments: ``(N, 2)`` actions in level-0 steps.
        gt_labels: ``(N,)`` class indices.
        num_classes: C.
        center_radius: Centre sampling radius in strides (ActionFormer: 1.5).

    Returns:
        ``(cls_targets (P, C) in {0, 1}, reg_targets (P, 2))``; regression targets are
        ``(left, right) / stride`` of the assigned action (zero where negative).
    """
    P, N = points.numel(), gt_segments.shape[0]
    if N == 0:
        return points.new_zeros((P, num_classes)), points.new_zeros((P, 2))
    start, end = gt_segments[:, 0][None], gt_segments[:, 1][None]  # (1, N)
    pts = points[:, None]  # (P, 1)
    left, right = pts - start, end - pts  # (P, N)
    centre = 0.5 * (start + end)
    radius = center_radius * strides[:, None]
    # the centre region, clipped to the action
    c_left = pts - torch.maximum(centre - radius, start)
    c_right = torch.minimum(centre + radius, end) - pts
    inside = torch.minimum(c_left, c_right) > 0
    reach = torch.maximum(left, right)
    in_range = (reach >= ranges[:, :1]) & (reach <= ranges[:, 1:])
    lengths = (end - start).expand(P, N)
    cost = torch.where(inside & in_range, lengths, torch.full_like(lengths, float('inf')))
    min_len, best = cost.min(dim=1)  # (P,)
    chosen = (cost <= min_len[:, None] + 1e-3) & torch.isfinite(cost)  # (P, N)
    one_hot = F.one_hot(gt_labels.long(), num_classes).to(points.dtype)  # (N, C)
    cls_targets = (chosen.to(points.dtype) @ one_hot).clamp(max=1.0)
    reg = torch.stack([left, right], dim=-1)  # (P, N, 2)
    reg_targets = reg[torch.arange(P, device=points.device), best] / strides[:, None]
    reg_targets = torch.where(torch.isfinite(min_len)[:, None], reg_targets,
                              torch.zeros_like(reg_targets))
    return cls_targets, reg_targets

