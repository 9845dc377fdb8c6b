# ViT-H/16 video classifier for fine-tuning; layout as the ViT-S base.
_base_ = './vit-s-p16_cls.py'
model = dict(backbone=dict(arch='h', drop_path_rate=0.2), cls_head=dict(in_channels=1280))
