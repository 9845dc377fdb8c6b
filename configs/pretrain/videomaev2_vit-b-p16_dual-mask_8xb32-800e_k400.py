_base_ = [
    '../_base_/models/videomaev2_vit-b-p16.py', '../_base_/datasets/k400_pretrain.py',
    '../_base_/schedules/pretrain_adamw_800e.py', '../_base_/default_runtime.py'
]
