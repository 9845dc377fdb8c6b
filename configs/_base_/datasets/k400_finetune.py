# Kinetics-400 fine-tuning data of VideoMAE V2: `path label` video lists (mmaction2 layout).
# Train: 16 frames x interval 4, one decode -> 2 augmented views (repeated augmentation), each
# RandAugment rand-m7-n4-mstd0.5-inc1 (same ops on every frame) -> random resized crop
# (area 0.08-1, aspect 3/4-4/3) to 224 -> flip -> random erasing 0.25.
# Val: 1 clip, centre crop. Test: 5 clips x 3 crops (short side 224, crops along the long
# side), softmax per view averaged per video (the head's average_clips='prob').
# The classifier (../models/vit_cls.py) comes with the data: its head and its Mixup/CutMix
# blending take this base's `num_classes`.
# Unreadable videos (a few in every Kinetics download): replaced by another video and counted in
# training (vmae2's RepeatAugDataset), scored as misses and listed in val/test
# (RobustVideoDataset + RobustAccMetric: `num_unreadable` in the metrics). VideoInit/VideoDecode
# decode with decord, fall back to PyAV, and give up on a video after `decode_timeout` s.
_base_ = ['../models/vit_cls.py']

dataset_type = 'RobustVideoDataset'
data_root = 'data/kinetics400/videos_train'
data_root_val = 'data/kinetics400/videos_val'
ann_file_train = 'data/kinetics400/kinetics400_train_list_videos.txt'
ann_file_val = 'data/kinetics400/kinetics400_val_list_videos.txt'
ann_file_test = ann_file_val
num_classes = 400
input_size = 224
clip_len, frame_interval = 16, 4
num_repeats = 2  # repeated augmentation: views per decoded clip
test_clips, test_crops = 5, 3
decode_timeout = 120  # seconds per video (decode watchdog)

model = dict(cls_head=dict(num_classes=num_classes))

train_pipeline = [
    # RepeatAugDataset: an opener, a sampler and a decoder first (one decode for all views)
    dict(type='VideoInit', timeout=decode_timeout),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1),
    dict(type='VideoDecode'),
    dict(type='VideoRandAugment', config_str='rand-m7-n4-mstd0.5-inc1'),
    dict(type='RandomResizedCrop', area_range=(0.08, 1.0), aspect_ratio_range=(3 / 4, 4 / 3)),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    # one box for all frames (the official code erases one box per frame), random pixels
    dict(type='RandomErasing', erase_prob=0.25, mode='rand'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='VideoInit', timeout=decode_timeout),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1,
         test_mode=True),
    dict(type='VideoDecode'),
    dict(type='Resize', scale=(-1, input_size)),
    dict(type='CenterCrop', crop_size=input_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='VideoInit', timeout=decode_timeout),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval,
         num_clips=test_clips, test_mode=True),
    dict(type='VideoDecode'),
    dict(type='Resize', scale=(-1, input_size)),
    dict(type='ThreeCrop', crop_size=input_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='repeat_pseudo_collate'),
    dataset=dict(
        type='RepeatAugDataset',
        num_repeats=num_repeats,
        sample_once=True,  # the official views share their frames, differ in augmentation
        ann_file=ann_file_train,
        data_prefix=dict(video=data_root),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_val,
        data_prefix=dict(video=data_root_val),
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_test,
        data_prefix=dict(video=data_root_val),
        pipeline=test_pipeline,
        test_mode=True))

# top-1, top-5, mean class accuracy and num_unreadable; `tools/test.py --dump FILE` adds the
# per-video scores
val_evaluator = dict(type='RobustAccMetric',
                     metric_list=('top_k_accuracy', 'mean_class_accuracy'))
test_evaluator = val_evaluator
