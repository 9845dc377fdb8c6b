"""The fine-tuning classifier: mmaction2's ``Recognizer3D`` whose sizes follow from one place.

A VideoMAE V2 classifier is ``VideoViT`` -> ``VideoMAEHead``, with Mixup/CutMix in the data
preprocessor. Two of its numbers are derived, not chosen, so configs should not have to repeat
them: the head's width is the backbone's ``embed_dims`` (fixed by its ``arch``), and the
blending's number of classes is the head's. :class:`VideoMAERecognizer` fills both in when a
config leaves them out, so a fine-tuning leaf picks ``arch`` and a dataset base sets
``num_classes`` once. Values given explicitly are kept (and must agree).
"""
import copy
from typing import Optional, Union

import torch.nn as nn
from mmaction.models.recognizers import Recognizer3D

from vmae2.registry import MODELS

from ..backbones.vit_videomae import resolve_arch

__all__ = ['VideoMAERecognizer', 'fill_blending_classes']


def fill_blending_classes(data_preprocessor: Optional[dict], num_classes: int) -> Optional[dict]:
    """A copy of a data-preprocessor config whose blending augments have ``num_classes``.

    A deep copy: mmaction2's ``RandomBatchAugment`` appends to its ``probs`` list when built,
    so a config shared by two models (a distillation student and its wrapper) must not be
    built twice in place."""
    if not isinstance(data_preprocessor, dict) or 'blending' not in data_preprocessor:
        return data_preprocessor
    data_preprocessor = copy.deepcopy(data_preprocessor)
    return dict(data_preprocessor,
                blending=_fill_blending(data_preprocessor['blending'], num_classes))


def _fill_blending(blending: Optional[dict], num_classes: int) -> Optional[dict]:
    """``num_classes`` into a blending config (``RandomBatchAugment``'s augments too)."""
    if not isinstance(blending, dict):
        return blending
    blending = dict(blending)
    if 'augments' in blending:
        blending['augments'] = [_fill_blending(a, num_classes) for a in blending['augments']]
    elif blending.get('num_classes') is None and 'type' in blending:
        blending['num_classes'] = num_classes
    elif blending.get('num_classes') != num_classes:
        raise ValueError(f'the blending {blending["type"]} has num_classes='
                         f'{blending["num_classes"]} but the head has {num_classes}')
    return blending


@MODELS.register_module()
class VideoMAERecognizer(Recognizer3D):
    """``Recognizer3D`` with ``cls_head.in_channels`` from the backbone's arch and the data
    preprocessor's blending ``num_classes`` from the head.

    Args:
        backbone (dict | nn.Module): A :class:`VideoViT` config (or module).
        cls_head (dict, optional): Head config; ``in_channels`` may be left out.
        data_preprocessor (dict, optional): Its ``blending`` augments may leave out
            ``num_classes``.
        **kwargs: The rest of ``Recognizer3D``'s arguments.
    """

    def __init__(self,
                 backbone: Union[dict, nn.Module],
                 cls_head: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 **kwargs):
        if isinstance(cls_head, dict):
            cls_head = copy.deepcopy(cls_head)
            if cls_head.get('in_channels') is None:
                cls_head['in_channels'] = (
                    backbone.embed_dims if isinstance(backbone, nn.Module) else
                    resolve_arch(backbone.get('arch', 'base'))['embed_dims'])
            if cls_head.get('num_classes') is not None:
                data_preprocessor = fill_blending_classes(data_preprocessor,
                                                          cls_head['num_classes'])
        super().__init__(backbone, cls_head=cls_head, data_preprocessor=data_preprocessor,
                         **kwargs)
