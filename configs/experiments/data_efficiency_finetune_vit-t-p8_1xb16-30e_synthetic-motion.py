# Data-efficiency experiment, step 2: fine-tune the pretrained tiny ViT on the labelled
# SyntheticMotion train split (the recipe's layer decay, mixup/cutmix, label smoothing, flip;
# no RandAugment / repeated augmentation at this size). `load_from` is set by tools/experiments/data_efficiency.py.
_base_ = ['../_base_/schedules/finetune_adamw_cosine.py']

data_root = 'data/synthetic_motion'
generator = dict(num_classes=8, clips_per_class=40, num_frames=32, size=64, seed=0)
# the main job's tiny ViT and clip format (16 frames, every 2nd, 64x64)
tiny = dict(embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512, patch_size=8)
num_classes, clip_len, frame_interval, input_size = 8, 16, 2, 64
num_gpus, batch_per_gpu = 1, 16
max_epochs, warmup_epochs = 30, 3
lr = 1e-3 * batch_per_gpu * num_gpus / 256 * 8  # tiny model, short schedule: 8x per-256 lr

model = dict(
    type='Recognizer3D',
    backbone=dict(type='VideoViT', arch=tiny, tubelet_size=2, use_mean_pooling=True,
                  drop_path_rate=0.1),
    cls_head=dict(type='VideoMAEHead', num_classes=num_classes, in_channels=128,
                  dropout_ratio=0.0, average_clips='prob', label_smooth_eps=0.1),
    data_preprocessor=dict(
        type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], format_shape='NCTHW',
        blending=dict(type='RandomBatchAugment', probs=[0.5, 0.5], augments=[
            dict(type='MixupBlending', num_classes=num_classes, alpha=0.8),
            dict(type='CutmixBlending', num_classes=num_classes, alpha=1.0)])))
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='RandomResizedCrop', area_range=(0.4, 1.0)),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=2,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, input_size)),
    dict(type='CenterCrop', crop_size=input_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(
    batch_size=batch_per_gpu, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    # no repeated augmentation here: SyntheticMotionDataset generates and lists its own clips
    dataset=dict(type='SyntheticMotionDataset', root=data_root, generator=generator,
                 split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='SyntheticMotionDataset', root=data_root, generator=generator,
                 split='val', pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='AccMetric', metric_list=('top_k_accuracy', 'mean_class_accuracy'),
                     metric_options=dict(top_k_accuracy=dict(topk=(1, ))))
test_evaluator = val_evaluator

optim_wrapper = dict(optimizer=dict(lr=lr), paramwise_cfg=dict(layer_decay_rate=0.75))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs,
         eta_min_ratio=_base_.min_lr / lr, by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_begin=1, val_interval=3)
default_hooks = dict(checkpoint=dict(interval=max_epochs, save_best=None), logger=dict(interval=5))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
