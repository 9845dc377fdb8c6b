_base_ = [
    '../_base_/models/videomaev2_vit-g-p14.py', '../_base_/datasets/k400_pretrain.py',
    '../_base_/schedules/pretrain_adamw_800e.py', '../_base_/default_runtime.py'
]
# activation checkpointing: recompute each block in backward to fit the encoder in memory
model = dict(backbone=dict(with_cp=True), decoder=dict(with_cp=True))
# ViT-g (official recipe): base lr 6e-4 and min lr 1e-5 per 256 clips, gradient clipping 0.02
optim_wrapper = dict(optimizer=dict(lr=6e-4 * _base_.lr_batch_size / 256),
                     clip_grad=dict(_delete_=True, max_norm=0.02))
param_scheduler = dict(eta_min_ratio=1e-5 / 6e-4)
