# ViT-B/16 video classifier for fine-tuning; layout as the ViT-S base.
_base_ = './vit-s-p16_cls.py'
model = dict(backbone=dict(arch='b', drop_path_rate=0.1), cls_head=dict(in_channels=768))
