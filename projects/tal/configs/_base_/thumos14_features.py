# THUMOS14 on clip features (ActionFormer's annotation JSON): train on the 200 Validation
# videos, test on the Test videos (video_test_0001292 has only 'Ambiguous' annotations: it is
# not in ActionFormer's file, or left out with a warning when it has none).
# Features: 16-frame windows every 4 frames at the videos' own fps, from
#   python tools/extract_features.py CONFIG CKPT --videos data/thumos14/videos \
#       --out data/thumos14/features_vmae2_g --stride 4
# (with the manifest), or the released VideoMAE V2-g features: set manifest=None, window=16,
# feat_stride=4 in both datasets (fps then comes from the JSON).
data_root = 'data/thumos14'
ann_file = 'data/thumos14/annotations/thumos14.json'
feature_dir = 'data/thumos14/features_vmae2_g'
tiou_thresholds = [0.3, 0.4, 0.5, 0.6, 0.7]

train_pipeline = [
    dict(type='LoadTALFeatures'),
    dict(type='RandomTruncateFeats', max_seq_len=2304, trunc_thresh=0.5,
         crop_ratio=(0.9, 1.0)),
    dict(type='PackTALInputs'),
]
test_pipeline = [dict(type='LoadTALFeatures'), dict(type='PackTALInputs')]

train_dataloader = dict(
    batch_size=2, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='TALFeatureDataset', ann_file=ann_file, feature_dir=feature_dir,
                 subset='validation', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='TALFeatureDataset', ann_file=ann_file, feature_dir=feature_dir,
                 subset='test', pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='TALMetric', tiou_thresholds=tiou_thresholds, ann_file=ann_file,
                     subset='test')
test_evaluator = val_evaluator
