"""``AVAFastRCNN``: mmdet's ``FastRCNN`` whose RoI head follows its ViT backbone.

The AVA recipe is mmdet's ``FastRCNN`` (no RPN: person proposals come with the data) with
mmaction2's ``AVARoIHead`` + ``SingleRoIExtractor3D`` + ``BBoxHeadAVA``. Two numbers of the head
must equal the backbone's: the RoI extractor's ``featmap_stride`` (the patch size: 16, or 14 for
ViT-g) and the box head's ``in_channels`` (the width). A wrong stride raises nothing - every RoI
silently reads the wrong part of the feature map - so here both are filled in from the backbone's
``arch`` when left out (None), and a value that disagrees is an error.

Configs build it in vmae2's scope (``type='AVAFastRCNN'``, so that the backbone resolves to
vmae2's) with ``_scope_='mmdet'`` on the ``roi_head``: mmaction2 registers the AVA heads and
their assigner in mmdet's registry. (``'vmae2.AVAFastRCNN'`` from mmdet's scope would not be
found: MMEngine looks scope prefixes up among the root registry's children only, and vmae2's
registries are children of mmaction2's.)
"""
import copy
from importlib import import_module

from mmdet.models.detectors import FastRCNN

from vmae2.models.backbones import resolve_arch
from vmae2.registry import MODELS

# registers mmaction2's AVARoIHead, SingleRoIExtractor3D, BBoxHeadAVA and MaxIoUAssignerAVA in
# mmdet's registries (imported after vmae2, which patches mmaction2 1.2's missing modules)
import_module('mmaction.models')

__all__ = ['AVAFastRCNN']


def _backbone_geometry(backbone: dict) -> tuple:
    """``(patch_size, embed_dims)`` of a VideoViT config without building it."""
    arch = resolve_arch(backbone.get('arch', 'base'))
    patch = backbone.get('patch_size') or arch['patch_size']
    return int(patch), int(arch['embed_dims'])


@MODELS.register_module()
class AVAFastRCNN(FastRCNN):
    """``FastRCNN`` with ``featmap_stride`` and ``in_channels`` taken from the backbone.

    Args:
        backbone (dict): A :class:`VideoViT` config (``out_type='featmap'``).
        roi_head (dict): ``AVARoIHead`` config; ``bbox_roi_extractor.featmap_stride`` and
            ``bbox_head.in_channels`` may be None (filled in) or must match the backbone.
        train_cfg, test_cfg, neck, data_preprocessor, init_cfg: As ``FastRCNN``.

    Raises:
        ValueError: a given stride or width that differs from the backbone's.
    """

    def __init__(self, backbone: dict, roi_head: dict, train_cfg: dict, test_cfg: dict,
                 neck=None, data_preprocessor=None, init_cfg=None) -> None:
        patch, dims = _backbone_geometry(backbone)
        roi_head = copy.deepcopy(roi_head)
        for part, key, want in (('bbox_roi_extractor', 'featmap_stride', patch),
                                ('bbox_head', 'in_channels', dims)):
            given = roi_head[part].get(key)
            if given is None:
                roi_head[part][key] = want
            elif int(given) != want:
                raise ValueError(f'roi_head.{part}.{key}={given} does not match the backbone '
                                 f'(patch size {patch}, width {dims}); leave it None to follow '
                                 'the backbone')
        super().__init__(backbone=backbone, roi_head=roi_head, train_cfg=train_cfg,
                         test_cfg=test_cfg, neck=neck, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
