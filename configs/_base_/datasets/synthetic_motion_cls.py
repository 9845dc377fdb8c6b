# SyntheticMotion classification (train/val splits), mmaction2 VideoDataset style, for
# fine-tuning on the embedded default data. 8 motion classes, 256 train / 64 val clips of 32
# frames at 64x64, generated in data/synthetic_motion on first use.
# No horizontal flip: it would swap 'moving_left' and 'moving_right' (and rotation senses),
# as it would swap SSv2 classes. The classifier (../models/vit_cls.py) takes `num_classes`.
_base_ = ['../models/vit_cls.py']

num_frames = 16
frame_interval = 2
input_size = 64
synthetic_root = 'data/synthetic_motion'
synthetic_motion = dict(num_classes=8, clips_per_class=40, num_frames=32, size=64, seed=0)
num_classes = synthetic_motion['num_classes']
model = dict(cls_head=dict(num_classes=num_classes))

train_pipeline = [
    dict(type='VideoInit'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=frame_interval, num_clips=1,
         out_of_bound_opt='repeat_last'),
    dict(type='VideoDecode'),
    dict(type='RandomResizedCrop', area_range=(0.5, 1.0)),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='VideoInit'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=frame_interval, num_clips=1,
         out_of_bound_opt='repeat_last', test_mode=True),
    dict(type='VideoDecode'),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = val_pipeline

train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='SyntheticMotionDataset', root=synthetic_root, split='train',
                 generator=synthetic_motion, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='SyntheticMotionDataset', root=synthetic_root, split='val',
                 generator=synthetic_motion, pipeline=val_pipeline, test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='RobustAccMetric')
test_evaluator = val_evaluator
