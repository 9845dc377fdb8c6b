# Data-efficiency experiment, step 1: the main job (dual-masking pretraining of the tiny ViT on
# the SyntheticMotion train split, no labels), shortened to 40 epochs.
_base_ = ['../pretrain/videomaev2_vit-t-p8_dual-mask_1xb8-60e_synthetic-motion.py']

param_scheduler = dict(warmup=4)  # epochs
train_cfg = dict(max_epochs=40)
default_hooks = dict(checkpoint=dict(interval=40))
custom_hooks = [dict(type='SafeCheckpointHook', priority='VERY_HIGH')]
