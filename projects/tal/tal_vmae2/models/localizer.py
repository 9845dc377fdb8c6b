"""ActionFormer (Zhang et al., ECCV 2022) as an MMEngine model: features in, segments out.

``TALDataPreprocessor`` pads a batch of ``(D, T_i)`` feature sequences into ``(B, D, L)`` with
a mask; ``ActionFormer`` runs backbone -> neck -> head, and in ``predict`` turns the decoded
segments from feature steps into seconds with each video's timeline (``feat_stride`` frames per
step, ``feat_offset`` frames for step 0's centre, ``fps``), clipped to the video.
"""
import math
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseDataPreprocessor, BaseModel
from mmengine.structures import InstanceData

from vmae2.registry import MODELS

__all__ = ['TALDataPreprocessor', 'ActionFormer']


@MODELS.register_module()
class TALDataPreprocessor(BaseDataPreprocessor):
    """Pads feature sequences into a batch and moves it to the device.

    Args:
        max_seq_len: Training inputs are padded to exactly this length (ActionFormer: 2304;
            longer ones must have been cropped by the pipeline).
        pad_divisor: Test inputs are padded to a multiple of this (``2 ** (levels - 1)``).
        pad_to_max_in_training: Pad training batches to ``max_seq_len`` (ActionFormer) rather
            than to the longest sequence of the batch.
    """

    def __init__(self, max_seq_len: int = 2304, pad_divisor: int = 32,
                 pad_to_max_in_training: bool = True) -> None:
        super().__init__()
        if max_seq_len % pad_divisor:
            raise ValueError(f'max_seq_len {max_seq_len} must be a multiple of pad_divisor '
                             f'{pad_divisor}')
        self.max_seq_len, self.pad_divisor = max_seq_len, pad_divisor
        self.pad_to_max_in_training = pad_to_max_in_training

    def forward(self, data: dict, training: bool = False) -> dict:
        """``inputs``: list of ``(D, T_i)`` -> ``(B, D, L)``; adds ``masks`` ``(B, L)``."""
        data = self.cast_data(data)
        feats: List[torch.Tensor] = list(data['inputs'])
        lengths = [f.shape[-1] for f in feats]
        longest = max(lengths)
        if training and longest > self.max_seq_len:
            raise ValueError(f'a training sequence has {longest} steps > max_seq_len '
                             f'{self.max_seq_len}: add RandomTruncateFeats to the pipeline')
        if training and self.pad_to_max_in_training:
            length = self.max_seq_len
        else:
            length = math.ceil(longest / self.pad_divisor) * self.pad_divisor
        batch = feats[0].new_zeros((len(feats), feats[0].shape[0], length))
        masks = torch.zeros((len(feats), length), dtype=torch.bool, device=batch.device)
        for i, f in enumerate(feats):
            batch[i, :, :f.shape[-1]] = f
            masks[i, :f.shape[-1]] = True
        return dict(inputs=batch.float(), masks=masks, data_samples=data.get('data_samples'))


@MODELS.register_module()
class ActionFormer(BaseModel):
    """Anchor-free temporal action localizer on a local-attention transformer pyramid.

    Args:
        backbone: :class:`ConvTransformerBackbone` config (or module).
        neck: :class:`IdentityFPN` config (or module).
        head: :class:`ActionFormerHead` config (or module).
        data_preprocessor: :class:`TALDataPreprocessor` config.
    """

    def __init__(self, backbone: Union[dict, torch.nn.Module], neck: Union[dict, torch.nn.Module],
                 head: Union[dict, torch.nn.Module], data_preprocessor: Optional[dict] = None,
                 init_cfg=None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='TALDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        build = lambda m: MODELS.build(m) if isinstance(m, dict) else m  # noqa: E731
        self.backbone, self.neck, self.head = build(backbone), build(neck), build(head)

    def extract_feat(self, inputs: torch.Tensor, masks: torch.Tensor):
        feats, fmasks = self.backbone(inputs, masks)
        feats, fmasks = self.neck(feats, fmasks)
        logits, offsets = self.head(feats, fmasks)
        return logits, offsets, fmasks

    def forward(self, inputs: torch.Tensor, masks: Optional[torch.Tensor] = None,
                data_samples: Optional[Sequence] = None, mode: str = 'tensor'):
        """``inputs`` ``(B, D, L)``, ``masks`` ``(B, L)``.

        ``mode='tensor'``: per-level logits ``(B, T_l, C)`` and offsets ``(B, T_l, 2)``;
        ``'loss'``: the loss dict; ``'predict'``: the data samples with ``pred_instances``
        (``segments`` in seconds, ``scores``, ``labels``).
        """
        if masks is None:
            masks = torch.ones(inputs.shape[0], inputs.shape[-1], dtype=torch.bool,
                               device=inputs.device)
        logits, offsets, fmasks = self.extract_feat(inputs, masks)
        if mode == 'tensor':
            return logits, offsets
        if mode == 'loss':
            segs = [s.gt_instances.segments for s in data_samples]
            labels = [s.gt_instances.labels for s in data_samples]
            return self.head.loss(logits, offsets, fmasks, segs, labels)
        if mode == 'predict':
            return self._to_seconds(self.head.predict(logits, offsets, fmasks), data_samples)
        raise ValueError(f'unknown mode {mode!r}')

    @staticmethod
    def _to_seconds(results: List[Dict[str, torch.Tensor]], data_samples: Sequence):
        for res, sample in zip(results, data_samples):
            meta = sample.metainfo
            # step g of the feature sequence is centred on frame g * stride + offset
            segs = (res['segments'] * meta['feat_stride'] + meta['feat_offset']) / meta['fps']
            segs = segs.clamp(min=0.0, max=float(meta['duration']))
            sample.pred_instances = InstanceData(
                segments=segs.cpu(), scores=res['scores'].cpu(), labels=res['labels'].cpu())
        return list(data_samples)
