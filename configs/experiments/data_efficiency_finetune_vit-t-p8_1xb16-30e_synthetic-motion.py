# Data-efficiency experiment, step 2: fine-tune the pretrained tiny ViT on the labelled
# SyntheticMotion train split (256 clips) with the recipe's parts that fit this size: layer
# decay, drop path, Mixup/CutMix with label smoothing, random resized crop. No RandAugment,
# repeated augmentation or random erasing (few steps, tiny clips), and no flip: it would swap
# 'moving_left'/'moving_right' and the rotation senses. `load_from` is set by
# tools/experiments/data_efficiency.py (or on the command line).
_base_ = [
    '../_base_/datasets/synthetic_motion_cls.py',
    '../_base_/schedules/finetune_adamw_cosine.py',
]

# the main job's tiny ViT (128 wide, 4 blocks, patch 8, per-axis positions) on its clip format
# (16 x 2, 64x64)
tiny = dict(embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512, patch_size=8)
num_gpus, batch_per_gpu = 1, 16
# (`_delete_`: a custom arch dict replaces the base's arch name)
model = dict(backbone=dict(arch=dict(_delete_=True, **tiny), drop_path_rate=0.1,
                           pos_embed_type='3d'),
             cls_head=dict(dropout_ratio=0.0))
train_dataloader = dict(batch_size=batch_per_gpu)
val_evaluator = dict(type='RobustAccMetric', metric_list=('top_k_accuracy', 'mean_class_accuracy'),
                     metric_options=dict(top_k_accuracy=dict(topk=(1, ))))
test_evaluator = val_evaluator

# tiny model, short schedule: 8x the per-256 lr
optim_wrapper = dict(optimizer=dict(lr=1e-3 * batch_per_gpu * num_gpus / 256 * 8),
                     paramwise_cfg=dict(layer_decay_rate=0.75))
param_scheduler = dict(warmup=3)  # epochs
train_cfg = dict(max_epochs=30, val_begin=1, val_interval=3)
default_hooks = dict(checkpoint=dict(interval=30, save_best=None), logger=dict(interval=5))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
