# AVA v2.2 from raw frames (mmaction2's layout, see projects/ava/README.md "Preparing AVA"):
# data/ava/rawframes/<video_id>/img_00001.jpg ... at 30 fps from 900 s, data/ava/annotations/
# with the official CSVs and the FAIR person proposals. The recipe: 16 frames x interval 4
# around each keyframe; train RandomRescale 256-320 -> RandomCrop 256 -> Flip; val short side 256.
# Evaluation: frame mAP@0.5 over the 60 AVA v2.2 classes by the official rules (AVAFrameMAP),
# with mmaction2's AVAMetric figure beside it.
dataset_type = 'AVAVmae2Dataset'
data_root = 'data/ava/rawframes'
anno_root = 'data/ava/annotations'
use_frames = True
ann_file_train = f'{anno_root}/ava_train_v2.2.csv'
ann_file_val = f'{anno_root}/ava_val_v2.2.csv'
exclude_file_train = f'{anno_root}/ava_train_excluded_timestamps_v2.2.csv'
exclude_file_val = f'{anno_root}/ava_val_excluded_timestamps_v2.2.csv'
# the 60 evaluated classes, shipped with the project (the classes trained on, too)
label_file = '{{ fileDirname }}/../../../ava_vmae2/label_maps/' \
    'ava_action_list_v2.2_for_activitynet_2019.pbtxt'
proposal_file_train = f'{anno_root}/ava_dense_proposals_train.FAIR.recall_93.9.pkl'
proposal_file_val = f'{anno_root}/ava_dense_proposals_val.FAIR.recall_93.9.pkl'

clip_len, frame_interval = 16, 4
short_side, crop_size = 256, 256
# `unreadable` marks the black clip of an unreadable val sample (scored as a miss)
meta_keys = ('img_shape', 'img_key', 'video_id', 'timestamp', 'unreadable')
train_pipeline = [
    dict(type='VideoInit', backends=('decord', 'pyav')),
    dict(type='SampleAVAClip', clip_len=clip_len, frame_interval=frame_interval),
    dict(type='AVADecode', backends=('decord', 'pyav')),
    dict(type='RandomRescale', scale_range=(256, 320)),
    dict(type='RandomCrop', size=crop_size),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),
    dict(type='PackActionInputs', meta_keys=meta_keys),
]
val_pipeline = [  # no crop, no flip: whole frames at short side 256, any width
    dict(type='VideoInit', backends=('decord', 'pyav')),
    dict(type='SampleAVAClip', clip_len=clip_len, frame_interval=frame_interval, test_mode=True),
    dict(type='AVADecode', backends=('decord', 'pyav')),
    dict(type='Resize', scale=(-1, short_side)),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),
    dict(type='PackActionInputs', meta_keys=meta_keys),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file_train, exclude_file=exclude_file_train,
                 label_file=label_file, proposal_file=proposal_file_train,
                 data_prefix=dict(img=data_root), use_frames=use_frames, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,  # AVARoIHead predicts one clip at a time
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_val, exclude_file=exclude_file_val,
                 label_file=label_file, proposal_file=proposal_file_val,
                 data_prefix=dict(img=data_root), use_frames=use_frames, pipeline=val_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='AVAFrameMAP', ann_file=ann_file_val, label_file=label_file,
                     exclude_file=exclude_file_val)
test_evaluator = val_evaluator
