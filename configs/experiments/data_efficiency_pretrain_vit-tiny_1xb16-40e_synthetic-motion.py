# Data-efficiency experiment, step 1: VideoMAE V2 dual-masking pretraining of a tiny ViT on the
# SyntheticMotion train split (no labels). ~10 min on 2 CPU cores.
_base_ = ['../_base_/default_runtime.py']

data_root = 'data/synthetic_motion'
generator = dict(num_classes=8, clips_per_class=40, num_frames=32, size=64, seed=0)
tiny = dict(embed_dims=96, num_layers=4, num_heads=3, feedforward_channels=384, patch_size=16)
clip_len, frame_interval, input_size = 8, 2, 64
max_epochs, warmup_epochs = 40, 4
lr = 1.5e-3 * 16 / 256 * 4  # 4x the official per-256 lr: a tiny model, a short schedule

model = dict(
    type='VideoMAEV2',
    backbone=dict(type='VideoViT', arch=tiny, tubelet_size=2, use_mean_pooling=False),
    decoder=dict(type='VideoMAEDecoder', embed_dims=64, num_heads=2, num_layers=1),
    encoder_mask=dict(type='TubeMaskGenerator', ratio=0.9),
    decoder_mask=dict(type='RunningCellMaskGenerator', ratio=0.5),
    norm_pix_loss=True,
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'))
train_dataloader = dict(
    batch_size=16, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='flatten_views_collate'),
    dataset=dict(
        type='SyntheticMotionPretrainDataset', root=data_root, generator=generator,
        num_sample=2,
        pipeline=[dict(type='VideoInit'),
                  dict(type='SampleClip', clip_len=clip_len, frame_interval=frame_interval),
                  dict(type='VideoDecode')],
        view_pipeline=[dict(type='MultiScaleCrop', input_size=input_size,
                            scales=(1, .875, .75, .66), random_crop=False, max_wh_scale_gap=1),
                       dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
                       dict(type='FormatShape', input_format='NCTHW'),
                       dict(type='PackActionInputs')]))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=lr, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min_ratio=1e-2,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(checkpoint=dict(interval=max_epochs, save_best=None), logger=dict(interval=5))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
