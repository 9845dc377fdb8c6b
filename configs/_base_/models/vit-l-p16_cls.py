# ViT-l/16 video classifier (the layout of vit_cls.py) with its usual fine-tuning drop path.
_base_ = './vit_cls.py'
model = dict(backbone=dict(arch='l', drop_path_rate=0.2))
