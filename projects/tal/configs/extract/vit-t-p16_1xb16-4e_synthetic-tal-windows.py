# Step 1 of the SyntheticTAL chain (projects/tal/tools/synthetic_chain.py): a tiny video ViT
# (96 wide, 2 blocks, patch 16 on 32x32 frames: 2x2x8 tokens, per-axis positions) trained
# from scratch as a 5-way clip classifier (background + the 4 motion classes) on 16-frame
# windows of the *train* videos, as TAL backbones are fine-tuned on trimmed actions;
# tools/extract_features.py then reads the same config (VideoViT backbone, `clip_len`,
# `input_size`, mean/std) with its checkpoint. ~1000 steps of 16 windows.
_base_ = 'vmae2::_base_/default_runtime.py'
custom_imports = dict(imports=['projects.tal.tal_vmae2'], allow_failed_imports=False)

clip_len = 16
input_size = 32
ann_file = 'data/synthetic_tal/annotations.json'
video_dir = 'data/synthetic_tal/videos'
model = dict(
    type='Recognizer3D',
    backbone=dict(type='VideoViT',
                  arch=dict(embed_dims=96, num_layers=2, num_heads=3, feedforward_channels=384,
                            patch_size=16),
                  tubelet_size=2, use_mean_pooling=True, pos_embed_type='3d'),
    cls_head=dict(type='VideoMAEHead', num_classes=5, in_channels=96, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'))

train_pipeline = [
    dict(type='VideoInit'),
    dict(type='SampleWindow', clip_len=clip_len, jitter=4),
    dict(type='VideoDecode'),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='VideoInit'),
    dict(type='SampleWindow', clip_len=clip_len, test_mode=True),
    dict(type='VideoDecode'),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='TALWindowDataset', ann_file=ann_file, video_dir=video_dir,
                 subset='train', clip_len=clip_len, windows_per_action=6,
                 background_ratio=0.5, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='TALWindowDataset', ann_file=ann_file, video_dir=video_dir,
                 subset='test', clip_len=clip_len, windows_per_action=1,
                 background_ratio=0.5, pipeline=val_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator

optim_wrapper = dict(optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.05),
                     paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = dict(type='WarmupCosineLR', warmup=0.4, start_factor=0.01, eta_min=1e-6,
                       by_epoch=True, convert_to_iter_based=True)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=4, val_begin=1, val_interval=4)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(interval=4, save_best=None), logger=dict(interval=50))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(vis_backends=vis_backends)
