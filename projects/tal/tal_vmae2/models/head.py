"""ActionFormer's shared heads: per-point class scores and (left, right) offsets, their losses,
and the decoding of predictions into segments."""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from vmae2.registry import MODELS

from .blocks import ChannelLayerNorm, MaskedConv1d
from .losses import diou_loss_1d, sigmoid_focal_loss
from .point_targets import assign_targets, make_points
from .soft_nms import batched_soft_nms

__all__ = ['ActionFormerHead', 'THUMOS_REGRESSION_RANGES']

#: ActionFormer's ranges (level-0 steps) for 6 levels
THUMOS_REGRESSION_RANGES = ((0, 4), (4, 8), (8, 16), (16, 32), (32, 64), (64, 10000))


class _Tower(nn.Module):
    """``num_convs`` x (masked conv, LayerNorm, ReLU), then a masked conv to ``out_channels``."""

    def __init__(self, in_channels: int, feat_channels: int, out_channels: int,
                 num_convs: int, kernel_size: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        for i in range(num_convs):
            self.convs.append(MaskedConv1d(in_channels if i == 0 else feat_channels,
                                           feat_channels, kernel_size, bias=False))
            self.norms.append(ChannelLayerNorm(feat_channels))
        self.out = MaskedConv1d(feat_channels if num_convs else in_channels, out_channels,
                                kernel_size)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for conv, norm in zip(self.convs, self.norms):
            x, _ = conv(x, mask)
            x = torch.relu(norm(x))
        return self.out(x, mask)[0]


@MODELS.register_module()
class ActionFormerHead(BaseModule):
    """Classification and regression heads shared by the pyramid levels.

    Args:
        num_classes: C (1 for a class-agnostic localizer).
        in_channels: Channels of the pyramid.
        feat_channels: Width of the heads' hidden convolutions.
        num_convs: Hidden convolutions per head (ActionFormer: 2).
        kernel_size: Convolution kernel.
        num_levels: Pyramid levels (one learnable regression scale each).
        regression_ranges: ``(lo, hi)`` per level in level-0 steps.
        center_radius: Centre sampling radius in strides.
        prior_prob: Initial foreground probability of the classifier (bias init).
        empty_classes: Classes never trained (their bias starts at probability 1e-6), e.g.
            THUMOS14's CliffDiving, which is also annotated as Diving.
        focal_alpha, focal_gamma: Sigmoid focal loss settings.
        reg_loss_weight: Weight of the DIoU loss.
        label_smoothing: Smoothing of the classification targets.
        init_loss_norm: Initial value of the EMA of the number of positives.
        loss_norm_momentum: Momentum of that EMA.
        test_cfg: ``pre_nms_thresh``, ``pre_nms_topk``, ``duration_thresh`` (level-0 steps),
            ``nms_sigma``, ``min_score``, ``max_per_video``, ``class_agnostic_nms``.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int = 512,
                 feat_channels: int = 512,
                 num_convs: int = 2,
                 kernel_size: int = 3,
                 num_levels: int = 6,
                 regression_ranges: Sequence[Tuple[float, float]] = THUMOS_REGRESSION_RANGES,
                 center_radius: float = 1.5,
                 prior_prob: float = 0.01,
                 empty_classes: Sequence[int] = (),
                 focal_alpha: float = 0.25,
                 focal_gamma: float = 2.0,
                 reg_loss_weight: float = 1.0,
                 label_smoothing: float = 0.0,
                 init_loss_norm: float = 100.0,
                 loss_norm_momentum: float = 0.9,
                 test_cfg: Optional[dict] = None,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(regression_ranges) != num_levels:
            raise ValueError(f'{len(regression_ranges)} regression ranges for {num_levels} levels')
        self.num_classes = num_classes
        self.regression_ranges = [tuple(r) for r in regression_ranges]
        self.center_radius, self.prior_prob = center_radius, prior_prob
        self.empty_classes = list(empty_classes)
        self.focal_alpha, self.focal_gamma = focal_alpha, focal_gamma
        self.reg_loss_weight, self.label_smoothing = reg_loss_weight, label_smoothing
        self.loss_norm_momentum = loss_norm_momentum
        # an EMA of the positives per batch normalises both losses (a buffer: saved, not trained)
        self.register_buffer('loss_normalizer', torch.tensor(float(init_loss_norm)))
        self.test_cfg = dict(pre_nms_thresh=0.001, pre_nms_topk=2000, duration_thresh=0.05,
                             nms_sigma=0.5, min_score=0.001, max_per_video=200,
                             class_agnostic_nms=False)
        self.test_cfg.update(test_cfg or {})
        self.cls_tower = _Tower(in_channels, feat_channels, num_classes, num_convs, kernel_size)
        self.reg_tower = _Tower(in_channels, feat_channels, 2, num_convs, kernel_size)
        self.scales = nn.Parameter(torch.ones(num_levels))

    def init_weights(self) -> None:
        super().init_weights()
        bias = self.cls_tower.out.bias
        nn.init.constant_(bias, -math.log((1 - self.prior_prob) / self.prior_prob))
        if self.empty_classes:
            with torch.no_grad():
                bias[self.empty_classes] = -math.log((1 - 1e-6) / 1e-6)

    def forward(self, feats: Sequence[torch.Tensor], masks: Sequence[torch.Tensor]
                ) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
        """Levels ``(B, C_in, T_l)`` -> class logits ``(B, T_l, C)`` and offsets ``(B, T_l, 2)``
        (non-negative, in strides of the level)."""
        logits, offsets = [], []
        for level, (x, m) in enumerate(zip(feats, masks)):
            logits.append(self.cls_tower(x, m).transpose(1, 2))
            reg = torch.relu(self.scales[level] * self.reg_tower(x, m))
            offsets.append(reg.transpose(1, 2))
        return logits, offsets

    def _points(self, logits: Sequence[torch.Tensor]):
        return make_points([x.shape[1] for x in logits], self.regression_ranges,
                           logits[0].device)

    def loss(self, logits: Sequence[torch.Tensor], offsets: Sequence[torch.Tensor],
             masks: Sequence[torch.Tensor], gt_segments: Sequence[torch.Tensor],
             gt_labels: Sequence[torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Focal + DIoU losses, both divided by the EMA of the number of positive points.

        Args:
            logits, offsets: From :meth:`forward`.
            masks: Per level ``(B, T_l)``.
            gt_segments: Per video ``(N_i, 2)`` in level-0 steps.
            gt_labels: Per video ``(N_i,)``.
        """
        points, strides, ranges = self._points(logits)
        targets = [assign_targets(points, strides, ranges, s.to(points), lab, self.num_classes,
                                  self.center_radius)
                   for s, lab in zip(gt_segments, gt_labels)]
        cls_t = torch.stack([t[0] for t in targets])  # (B, P, C)
        reg_t = torch.stack([t[1] for t in targets])  # (B, P, 2)
        valid = torch.cat(list(masks), dim=1)  # (B, P)
        pos = valid & (cls_t.sum(-1) > 0)
        num_pos = int(pos.sum())
        if self.training:
            m = self.loss_norm_momentum
            self.loss_normalizer.mul_(m).add_((1 - m) * max(num_pos, 1))
        norm = float(self.loss_normalizer)
        logit = torch.cat(list(logits), dim=1).float()
        if self.label_smoothing > 0:
            cls_t = cls_t * (1 - self.label_smoothing) + self.label_smoothing / (
                self.num_classes + 1)
        loss_cls = sigmoid_focal_loss(logit[valid], cls_t[valid], self.focal_alpha,
                                      self.focal_gamma, reduction='sum') / norm
        pred = torch.cat(list(offsets), dim=1).float()
        if num_pos:
            loss_reg = diou_loss_1d(pred[pos], reg_t[pos]).sum() / norm
        else:  # keeps the graph (and DDP) happy
            loss_reg = pred.sum() * 0.0
        return dict(loss_cls=loss_cls, loss_reg=self.reg_loss_weight * loss_reg,
                    num_pos=torch.tensor(float(num_pos), device=logit.device))

    @torch.no_grad()
    def predict(self, logits: Sequence[torch.Tensor], offsets: Sequence[torch.Tensor],
                masks: Sequence[torch.Tensor]) -> List[Dict[str, torch.Tensor]]:
        """Decode, threshold and Soft-NMS the candidates of each video.

        Returns:
            Per video ``segments (K, 2)`` in level-0 steps, ``scores (K,)``, ``labels (K,)``.
        """
        cfg = self.test_cfg
        B = logits[0].shape[0]
        results = []
        for b in range(B):
            segs, scores, labels = [], [], []
            for level, (lg, off, m) in enumerate(zip(logits, offsets, masks)):
                s = 2 ** level
                prob = lg[b][m[b]].float().sigmoid()  # (T_valid, C): real steps only
                flat = prob.flatten()
                keep = torch.nonzero(flat > cfg['pre_nms_thresh']).flatten()
                if keep.numel() > cfg['pre_nms_topk']:
                    keep = keep[flat[keep].topk(cfg['pre_nms_topk']).indices]
                t_idx, c_idx = keep // self.num_classes, keep % self.num_classes
                pts = t_idx.float() * s
                o = off[b][m[b]].float()[t_idx]
                seg = torch.stack([pts - o[:, 0] * s, pts + o[:, 1] * s], dim=-1)
                long_enough = (seg[:, 1] - seg[:, 0]) > cfg['duration_thresh']
                segs.append(seg[long_enough])
                scores.append(flat[keep][long_enough])
                labels.append(c_idx[long_enough])
            seg, score, label = torch.cat(segs), torch.cat(scores), torch.cat(labels)
            # NMS within each class, or over all classes at once (a class-agnostic localizer)
            groups = torch.zeros_like(label) if cfg['class_agnostic_nms'] else label
            score, idx = batched_soft_nms(seg, score, groups, cfg['nms_sigma'],
                                          cfg['min_score'], cfg['max_per_video'])
            results.append(dict(segments=seg[idx], scores=score, labels=label[idx]))
        return results
