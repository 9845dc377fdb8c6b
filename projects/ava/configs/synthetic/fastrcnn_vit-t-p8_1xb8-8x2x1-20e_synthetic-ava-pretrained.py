# The synthetic detector initialised from the dual-masking pretraining on the same clips
# (videomaev2_vit-t-p8_dual-mask_1xb8-120e_synthetic-ava.py, run it first), everything else as
# the from-scratch config: the paper's pretrain-then-fine-tune claim, for detection, in miniature
# (measured in projects/ava/README.md).
_base_ = ['./fastrcnn_vit-t-p8_1xb8-8x2x1-20e_synthetic-ava.py']
checkpoint = 'work_dirs/videomaev2_vit-t-p8_dual-mask_1xb8-120e_synthetic-ava/epoch_120.pth'
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=checkpoint)))
