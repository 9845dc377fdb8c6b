# The embedded default: ActionFormer at toy size on SyntheticTAL features (4 motion classes,
# 128 train / 32 test videos of 320-480 frames at 16 fps; 96-d features of the tiny ViT of
# extract/vit-t-p16_1xb16-4e_synthetic-tal-windows.py, 16-frame windows every 4 frames). The
# chain (generate -> fine-tune the ViT -> extract -> train -> test) is
# projects/tal/tools/synthetic_chain.py.
_base_ = ['./_base_/actionformer.py']

data_root = 'data/synthetic_tal'
ann_file = 'data/synthetic_tal/annotations.json'
feature_dir = 'data/synthetic_tal/features_vit-t'
max_seq_len = 128  # the longest video has 117 features
width = 128

model = dict(
    data_preprocessor=dict(max_seq_len=max_seq_len),
    backbone=dict(in_channels=96, embed_dims=width, window=9),
    neck=dict(in_channels=width),
    head=dict(num_classes=4, in_channels=width, feat_channels=width, init_loss_norm=20))

train_pipeline = [
    dict(type='LoadTALFeatures'),
    dict(type='RandomTruncateFeats', max_seq_len=max_seq_len, trunc_thresh=0.5,
         crop_ratio=(0.9, 1.0)),
    dict(type='PackTALInputs'),
]
test_pipeline = [dict(type='LoadTALFeatures'), dict(type='PackTALInputs')]
train_dataloader = dict(
    batch_size=8, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='TALFeatureDataset', ann_file=ann_file, feature_dir=feature_dir,
                 subset='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='TALFeatureDataset', ann_file=ann_file, feature_dir=feature_dir,
                 subset='test', pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='TALMetric', tiou_thresholds=[0.3, 0.4, 0.5, 0.6, 0.7],
                     ann_file=ann_file, subset='test')
test_evaluator = val_evaluator

# 16 iterations an epoch: a larger lr than THUMOS14's and a faster EMA (decay 0.99), else the
# averaged weights would still be mostly the initial ones after 400 steps
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_epochs=25, val_interval=5)
custom_hooks = [
    dict(type='SafeCheckpointHook', priority='VERY_HIGH'),
    dict(type='EMAHook', ema_type='ExponentialMovingAverage', momentum=0.01, priority=49),
]
default_hooks = dict(logger=dict(interval=16), checkpoint=dict(interval=5))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(vis_backends=vis_backends)
