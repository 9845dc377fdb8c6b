"""Classification head of VideoMAE V2 fine-tuning: dropout -> Linear (small init)."""
from typing import Optional

import torch
import torch.nn as nn
from mmaction.models.heads import BaseHead
from mmengine.model.weight_init import trunc_normal_

from vmae2.registry import MODELS

__all__ = ['VideoMAEHead']


@MODELS.register_module()
class VideoMAEHead(BaseHead):
    """Linear head on the pooled, ``fc_norm``-ed backbone feature ``(B, D)``.

    The official fine-tuning init: weight trunc-normal(``init_std``) then both weight and bias
    multiplied by ``init_scale`` (0.001), so the fresh head starts close to uniform logits.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Feature width ``D``.
        dropout_ratio (float): Dropout before the Linear (official ``head_drop_rate``).
        init_std (float): Trunc-normal std. Defaults to 0.02.
        init_scale (float): Multiplier of the initial weight and bias. Defaults to 0.001.
        **kwargs: ``loss_cls``, ``average_clips``, ... of mmaction2's ``BaseHead``.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 dropout_ratio: float = 0.,
                 init_std: float = 0.02,
                 init_scale: float = 0.001,
                 loss_cls: dict = dict(type='CrossEntropyLoss'),
                 init_cfg: Optional[dict] = None,
                 **kwargs):
        super().__init__(num_classes, in_channels, loss_cls, init_cfg=init_cfg, **kwargs)
        self.init_std, self.init_scale = init_std, init_scale
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 else nn.Identity()
        self.fc_cls = nn.Linear(in_channels, num_classes)
        self._init_fc()

    def _init_fc(self) -> None:
        trunc_normal_(self.fc_cls.weight, std=self.init_std)
        nn.init.zeros_(self.fc_cls.bias)
        with torch.no_grad():
            self.fc_cls.weight.mul_(self.init_scale)

    def init_weights(self) -> None:
        if self.init_cfg:
            super().init_weights()
        else:
            self._init_fc()

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """``(B, D)`` -> ``(B, num_classes)``."""
        return self.fc_cls(self.dropout(x))
