# Kinetics-400 pretraining data, as the official VideoMAE V2 scripts: 16 frames every 4th,
# one decode -> num_sample=4 views, each a multi-scale crop (1, .875, .75, .66; max distortion 1;
# 13 fixed offsets) resized to 224, with its own tube (0.9) and running-cell (0.5) masks.
# List file: official `path start_idx total_frames` (total_frames < 0: a video file) or
# mmaction2's `path label`.
data_root = 'data/kinetics400'
ann_file = 'train.txt'
video_root = 'videos_train'

num_frames = 16
frame_interval = 4
input_size = 224
patch_size = 16
tubelet_size = 2
num_sample = 4
batch_per_gpu = 32
num_workers = 10
# The masks, drawn per view in the pipeline (True = masked); leaf configs override these
# (ViT-g: patch_size 14).
encoder_mask = dict(type='TubeMaskGenerator', ratio=0.9)
decoder_mask = dict(type='RunningCellMaskGenerator', ratio=0.5)

pipeline = [
    dict(type='VideoInit'),
    dict(type='SampleClip', clip_len=num_frames, frame_interval=frame_interval),
    dict(type='VideoDecode'),
]
view_pipeline = [
    dict(type='MultiScaleCrop', input_size=input_size, scales=(1, .875, .75, .66),
         random_crop=False, max_wh_scale_gap=1, num_fixed_crops=13),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),
    dict(type='GenerateMasks', input_size=(num_frames, input_size, input_size),
         patch_size=patch_size, tubelet_size=tubelet_size, encoder=encoder_mask,
         decoder=decoder_mask),
    dict(type='PackActionInputs', meta_keys=('encoder_mask', 'decoder_mask')),
]
train_dataloader = dict(
    batch_size=batch_per_gpu,
    num_workers=num_workers,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='EpochSeededSampler', shuffle=True),
    collate_fn=dict(type='flatten_views_collate'),
    dataset=dict(
        type='VideoPretrainDataset',
        data_root=data_root,
        sources=[dict(name='k400', ann_file=ann_file, root=video_root,
                      frame_interval=frame_interval)],
        num_sample=num_sample,
        pipeline=pipeline,
        view_pipeline=view_pipeline))
