# ActionFormer on VideoMAE V2-g features (1408-d, 16 frames / stride 16) for FineAction, the
# paper's setting (18.2 average mAP at tIoU 0.5:0.05:0.95): a class-agnostic localizer on
# features resized to 192 steps, its segments labelled with the video-level classifier's top-2
# classes (score sqrt(segment x class)), as ActionFormer's ActivityNet recipe: width 256, local
# windows 7 (global at the last level), absolute positions, lr 1e-3, 5 warmup + 10 cosine
# epochs, batch 16, label smoothing 0.1, DIoU weight 2, Soft-NMS sigma 0.75, 100 per video.
# FineAction's annotation (ActivityNet layout, 'training' / 'validation' subsets, fps from
# `frame_num / duration` when the file has no fps); the per-video classifier scores are a JSON
# {video: [106 scores] | {class: score}} (see tal_vmae2/evaluation/fusion.py).
_base_ = ['./_base_/actionformer.py']

data_root = 'data/fineaction'
ann_file = 'data/fineaction/annotations/annotations_gt.json'
feature_dir = 'data/fineaction/features_vmae2_g'
video_scores = 'data/fineaction/annotations/video_scores.json'
length = 192
tiou_thresholds = [0.5 + 0.05 * i for i in range(10)]

model = dict(
    data_preprocessor=dict(max_seq_len=length),
    backbone=dict(in_channels=1408, embed_dims=256, window=[7, 7, 7, 7, 7, -1],
                  use_abs_pe=True),
    neck=dict(in_channels=256),
    head=dict(num_classes=1, in_channels=256, feat_channels=256, init_loss_norm=200,
              label_smoothing=0.1, reg_loss_weight=2.0,
              test_cfg=dict(pre_nms_topk=2000, duration_thresh=0.001, nms_sigma=0.75,
                            max_per_video=100, class_agnostic_nms=True)))

train_pipeline = [
    dict(type='LoadTALFeatures'),
    dict(type='ResizeFeats', length=length),
    dict(type='RandomTruncateFeats', max_seq_len=length, trunc_thresh=0.5,
         crop_ratio=(0.9, 1.0)),
    dict(type='PackTALInputs'),
]
test_pipeline = [dict(type='LoadTALFeatures'), dict(type='ResizeFeats', length=length),
                 dict(type='PackTALInputs')]
dataset = dict(type='TALFeatureDataset', ann_file=ann_file, feature_dir=feature_dir,
               class_agnostic=True, window=16, feat_stride=16)
train_dataloader = dict(
    batch_size=16, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(dataset, subset='training', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(dataset, subset='validation', pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='TALMetric', tiou_thresholds=tiou_thresholds, ann_file=ann_file,
                     subset='validation', video_scores=video_scores, fusion_topk=2)
test_evaluator = val_evaluator

optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_epochs=15, val_interval=5)
