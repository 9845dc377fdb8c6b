# SyntheticAVA, the embedded default (projects/ava/ava_vmae2/synthetic.py): 32 train / 8 val
# videos of 12 s at 8 fps, 80x64, generated in data/synthetic_ava on first use (~10 s, no
# download), in real AVA's layout. The AVA recipe at toy size: 8 frames x interval 2 (2 s)
# around each keyframe; train RandomRescale 64-80 -> RandomCrop 64 (the pretraining grid), val
# whole frames at short side 64 (80 wide: another grid). No flip: it would swap move_left and
# move_right.
_base_ = ['./synthetic_ava_set.py']
synthetic_root = _base_.synthetic_ava_root
use_frames = True
clip_len, frame_interval = 8, 2
meta_keys = ('img_shape', 'img_key', 'video_id', 'timestamp', 'unreadable')
train_pipeline = [
    dict(type='VideoInit', backends=('decord', 'pyav')),
    dict(type='SampleAVAClip', clip_len=clip_len, frame_interval=frame_interval),
    dict(type='AVADecode', backends=('decord', 'pyav')),
    dict(type='RandomRescale', scale_range=(64, 80)),
    dict(type='RandomCrop', size=64),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),
    dict(type='PackActionInputs', meta_keys=meta_keys),
]
val_pipeline = [
    dict(type='VideoInit', backends=('decord', 'pyav')),
    dict(type='SampleAVAClip', clip_len=clip_len, frame_interval=frame_interval, test_mode=True),
    dict(type='AVADecode', backends=('decord', 'pyav')),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),
    dict(type='PackActionInputs', meta_keys=meta_keys),
]
_data = dict(type='SyntheticAVADataset', root=synthetic_root, generator=_base_.synthetic_ava,
             use_frames=use_frames)
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(_data, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(_data, split='val', pipeline=val_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='AVAFrameMAP', ann_file=f'{synthetic_root}/annotations/val.csv',
    label_file=f'{synthetic_root}/annotations/action_list.pbtxt',
    exclude_file=f'{synthetic_root}/annotations/val_excluded_timestamps.csv')
test_evaluator = val_evaluator
