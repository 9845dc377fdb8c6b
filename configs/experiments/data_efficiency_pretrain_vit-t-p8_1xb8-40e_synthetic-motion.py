# Data-efficiency experiment, step 1: the main job (dual-masking pretraining of the tiny ViT on
# the SyntheticMotion train split, no labels), shortened to 40 epochs.
_base_ = ['../pretrain/videomaev2_vit-t-p8_dual-mask_1xb8-60e_synthetic-motion.py']

max_epochs = 40
warmup_epochs = 4
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=_base_.min_lr,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(checkpoint=dict(interval=max_epochs))
custom_hooks = [dict(type='SafeCheckpointHook', priority='VERY_HIGH')]
