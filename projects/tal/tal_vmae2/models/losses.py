"""Losses of the localizer: sigmoid focal loss (torchvision's) and the 1-D distance-IoU loss."""
import torch
from torchvision.ops import sigmoid_focal_loss

__all__ = ['sigmoid_focal_loss', 'diou_loss_1d']


def diou_loss_1d(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Distance-IoU loss (Zheng et al. 2020) of segments given as offsets from one point.

    With ``(l, r)`` the distances from the point to the start and the end, two segments of the
    same point intersect over ``min(l, l') + min(r, r')``; the enclosing segment spans
    ``max(l, l') + max(r, r')`` and the centres differ by ``((r - l) - (r' - l')) / 2``.
    The loss is ``1 - IoU + (centre distance / enclosing length) ** 2``.

    Args:
        pred: ``(N, 2)`` non-negative ``(left, right)`` offsets.
        target: ``(N, 2)`` non-negative ``(left, right)`` offsets.

    Returns:
        ``(N,)`` losses in ``[0, 2)``.
    """
    pl, pr = pred.unbind(-1)
    tl, tr = target.unbind(-1)
    inter = torch.minimum(pl, tl) + torch.minimum(pr, tr)
    union = (pl + pr) + (tl + tr) - inter
    iou = inter / union.clamp(min=eps)
    enclosing = torch.maximum(pl, tl) + torch.maximum(pr, tr)
    centre = 0.5 * ((pr - pl) - (tr - tl))
    return 1.0 - iou + (centre / enclosing.clamp(min=eps)).pow(2)
