# ViT-B/16 in the AVA detector: the backbone settings (arch, tubelet, drop path) come from the
# core fine-tuning base, the detector around it from ava_fastrcnn_vit.py.
_base_ = ['vmae2::_base_/models/vit-b-p16_cls.py', './ava_fastrcnn_vit.py']
model = dict(_delete_=True, backbone=dict(_base_.model.backbone, **_base_.ava_backbone),
             **_base_.ava_detector)
