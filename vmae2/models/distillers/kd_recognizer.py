"""Distil a frozen teacher classifier into a student (VideoMAE V2: ViT-g -> ViT-S / ViT-B).

The recipe, per training batch:

1. the data preprocessor normalises the clips and applies Mixup / CutMix *once*;
2. teacher (frozen, eval mode, no grad) and student see that *same* augmented view;
3. loss = ``kd_weight * T^2 * KL(softmax(t / T) || softmax(s / T))``
   ``+ hard_weight * CE(s, mixed labels)`` (the student head's own loss, label smoothing
   included).

The teacher is built from its own config and checkpoint and kept *outside* the module tree
(a plain attribute, moved along in :meth:`_apply`): it has no parameters in the optimizer, no
DDP synchronisation, and the saved checkpoints hold the student only (``student.*`` keys).
"""
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.model import BaseModel

from vmae2.checkpoints import load_checkpoint
from vmae2.registry import MODELS

from ..recognizers import fill_blending_classes

__all__ = ['KDRecognizer', 'kd_loss']


def kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
            temperature: float = 1.0) -> torch.Tensor:
    """``T^2 * KL(p_t || p_s)`` with ``p = softmax(logits / T)``, averaged over the batch.

    Args:
        student_logits: ``(B, K)``.
        teacher_logits: ``(B, K)``; no gradient flows into them.
        temperature: ``T``; the ``T^2`` keeps gradient magnitudes comparable across ``T``
            (Hinton et al., 2015).

    Returns:
        Tensor: scalar.
    """
    log_p_s = F.log_softmax(student_logits / temperature, dim=-1)
    log_p_t = F.log_softmax(teacher_logits.detach() / temperature, dim=-1)
    kl = F.kl_div(log_p_s, log_p_t, log_target=True, reduction='batchmean')
    return kl * temperature**2


@MODELS.register_module()
class KDRecognizer(BaseModel):
    """A student recognizer trained to match a frozen teacher's softened predictions.

    Args:
        student (dict | nn.Module): The student recognizer (e.g. ``Recognizer3D``); its
            ``data_preprocessor`` is not used (this model's is).
        teacher (dict | str | nn.Module): The teacher recognizer: a model config, a config
            *file* (its ``model`` is built), or a module.
        teacher_ckpt (str, optional): Teacher weights, any layout
            :func:`~vmae2.checkpoints.load_checkpoint` reads (through ``safe_load``).
        temperature (float): Softening temperature ``T``. Defaults to 1.0.
        kd_weight (float): Weight of the distillation loss. Defaults to 1.0.
        hard_weight (float): Weight of the student's label loss; 0 = pure distillation.
        data_preprocessor (dict, optional): Normalisation and batch augmentation (shared by
            teacher and student).
        init_cfg (dict, optional): MMEngine init config.
    """

    def __init__(self,
                 student: Union[dict, nn.Module],
                 teacher: Union[dict, str, nn.Module],
                 teacher_ckpt: Optional[str] = None,
                 temperature: float = 1.0,
                 kd_weight: float = 1.0,
                 hard_weight: float = 0.0,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='ActionDataPreprocessor')
        if isinstance(student, dict) and isinstance(student.get('cls_head'), dict):
            # the student's head decides the blending's classes, as in VideoMAERecognizer
            num_classes = student['cls_head'].get('num_classes')
            if num_classes is not None:
                data_preprocessor = fill_blending_classes(data_preprocessor, num_classes)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.student = MODELS.build(student) if isinstance(student, dict) else student
        if isinstance(teacher, str):
            teacher = Config.fromfile(teacher).model
        teacher = MODELS.build(teacher) if not isinstance(teacher, nn.Module) else teacher
        if teacher_ckpt is not None:
            load_checkpoint(teacher, teacher_ckpt)
        teacher.requires_grad_(False)
        teacher.eval()
        # a list hides the teacher from state_dict(), parameters(), train() and DDP
        self._teacher: List[nn.Module] = [teacher]
        self.temperature, self.kd_weight, self.hard_weight = temperature, kd_weight, hard_weight

    @property
    def teacher(self) -> nn.Module:
        return self._teacher[0]

    def _apply(self, fn, *args, **kwargs):
        # .to(device) / .cuda() / .half() reach the hidden teacher too
        super()._apply(fn, *args, **kwargs)
        self._teacher[0]._apply(fn, *args, **kwargs)
        return self

    @staticmethod
    def _logits(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
        feats, _ = model.extract_feat(inputs)
        return model.cls_head(feats)

    def loss(self, inputs: torch.Tensor, data_samples: list) -> Dict[str, torch.Tensor]:
        """Distillation (+ optional label) loss on one shared augmented batch."""
        with torch.no_grad():
            teacher_logits = self._logits(self.teacher, inputs)
        student_logits = self._logits(self.student, inputs)
        losses = dict(loss_kd=self.kd_weight * kd_loss(student_logits, teacher_logits,
                                                       self.temperature))
        if self.hard_weight > 0:
            hard = self.student.cls_head.loss_by_feat(student_logits, data_samples)
            losses['loss_cls'] = self.hard_weight * hard.pop('loss_cls')
            losses.update(hard)  # top-1 / top-5 of the student, for the log
        return losses

    def forward(self, inputs: torch.Tensor, data_samples: Optional[list] = None,
                mode: str = 'tensor'):
        """``'loss'``: :meth:`loss`; ``'predict'`` / ``'tensor'``: the student's."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        return self.student(inputs, data_samples, mode=mode)
