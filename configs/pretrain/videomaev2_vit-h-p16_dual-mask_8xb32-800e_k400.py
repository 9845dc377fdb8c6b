_base_ = [
    '../_base_/models/videomaev2_vit-h-p16.py', '../_base_/datasets/k400_pretrain.py',
    '../_base_/schedules/pretrain_adamw_800e.py', '../_base_/default_runtime.py'
]
# activation checkpointing: recompute each block in backward to fit the encoder in memory
model = dict(backbone=dict(with_cp=True), decoder=dict(with_cp=True))
