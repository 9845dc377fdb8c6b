# ActionFormer (Zhang et al., ECCV 2022) at its THUMOS14 size: 2 embedding convolutions,
# 2 full-resolution + 5 downsampling transformer blocks (6 levels, strides 1-32), local attention
# window 19, 4 heads, width 512; identity FPN with LayerNorm; shared heads (prior 0.01, a
# learnable scale per level, ReLU offsets); centre sampling radius 1.5; focal + DIoU losses
# normalised by an EMA of the positives; Gaussian Soft-NMS per class (sigma 0.5, 200 per video).
# A leaf sets `feat_dim`, `num_classes` and `max_seq_len` (and whatever else differs).
_base_ = 'vmae2::_base_/default_runtime.py'
custom_imports = dict(imports=['projects.tal.tal_vmae2'], allow_failed_imports=False)

feat_dim = 1408
num_classes = 20
max_seq_len = 2304
num_levels = 6
model = dict(
    type='ActionFormer',
    data_preprocessor=dict(type='TALDataPreprocessor', max_seq_len=max_seq_len,
                           pad_divisor=2 ** (num_levels - 1)),
    backbone=dict(type='ConvTransformerBackbone', in_channels=feat_dim, embed_dims=512,
                  num_levels=num_levels, num_embed_convs=2, num_stem_blocks=2, num_heads=4,
                  window=19, proj_drop=0.1, drop_path=0.1),
    neck=dict(type='IdentityFPN', in_channels=512, num_levels=num_levels),
    head=dict(type='ActionFormerHead', num_classes=num_classes, in_channels=512,
              feat_channels=512, num_levels=num_levels,
              regression_ranges=[(0, 4), (4, 8), (8, 16), (16, 32), (32, 64), (64, 10000)],
              center_radius=1.5, prior_prob=0.01, init_loss_norm=100,
              test_cfg=dict(pre_nms_thresh=0.001, pre_nms_topk=2000, duration_thresh=0.05,
                            nms_sigma=0.5, min_score=0.001, max_per_video=200,
                            class_agnostic_nms=False)))

# AdamW, no decay on norms and biases; gradient clipping 1.0; linear warmup then cosine
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0),
    clip_grad=dict(max_norm=1.0, norm_type=2))
param_scheduler = dict(type='WarmupCosineLR', warmup=5, start_factor=1e-3, eta_min=1e-8,
                       by_epoch=True, convert_to_iter_based=True)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=35, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# the evaluation uses an EMA (0.999) of the weights, as ActionFormer (MMEngine's momentum is
# 1 - decay)
custom_hooks = [
    dict(type='SafeCheckpointHook', priority='VERY_HIGH'),
    dict(type='EMAHook', ema_type='ExponentialMovingAverage', momentum=0.001, priority=49),
]
default_hooks = dict(checkpoint=dict(save_best='tal/average_mAP', rule='greater'),
                     logger=dict(interval=20))
