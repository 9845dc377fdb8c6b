# Official VideoMAE V2 pretraining data recipe (16 x 224^2 clips, repeated augmentation x4).
# Shared by k400_pretrain.py, ssv2_pretrain.py and hybrid_pretrain.py, which only declare their
# sources. The masks belong to the model (its patch size gives their grid): every view carries a
# `mask_seed` the model draws them from.
num_frames = 16
input_size = 224
frame_interval = 4  # default of SampleClip; a source's own frame_interval wins
num_sample = 4  # views (crops, each with its own masks) per decoded clip
data_root = 'data/'

# Once per video: open (torchcodec, then decord and PyAV as fallbacks: the order chosen by
# benchmark_pipeline.py --backends, README "Video backends"), random-start clip, decode the
# needed frames.
load_pipeline = [
    dict(type='VideoInit', backends=('torchcodec', 'decord', 'pyav')),
    dict(type='SampleClip', clip_len=num_frames, frame_interval=frame_interval),
    dict(type='VideoDecode', backends=('torchcodec', 'decord', 'pyav')),
]
# Once per view. MultiScaleCrop with these arguments is the official GroupMultiScaleCrop(224,
# [1, .875, .75, .66]): max distortion 1, 13 fixed corner/centre offsets. Frames stay uint8:
# the data preprocessor normalises them on the device.
view_pipeline = [
    dict(type='MultiScaleCrop', input_size=input_size, scales=(1, .875, .75, .66),
         max_wh_scale_gap=1, random_crop=False, num_fixed_crops=13),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),  # (C, T, H, W) uint8
    # the dataset seeds every view from (seed, epoch, index, view); `mask_seed` is that seed
    dict(type='PackActionInputs',
         meta_keys=('img_shape', 'filename', 'frame_dir', 'frame_inds', 'view_idx',
                    'sample_idx', 'source_idx', 'mask_seed')),
]

# 32 clips per GPU, each giving `num_sample` views: the model sees 32 x 4 = 128 views per GPU.
train_dataloader = dict(
    batch_size=32,
    num_workers=10,
    persistent_workers=True,
    # DefaultSampler that also hands (epoch, seed) to the dataset: augmentation independent of
    # the number of workers
    sampler=dict(type='EpochSeededSampler', shuffle=True),
    collate_fn=dict(type='flatten_views_collate'),
    dataset=dict(
        type='VideoPretrainDataset',
        data_root=data_root,
        sources=[],  # set by the dataset config that inherits this one
        pipeline=load_pipeline,
        view_pipeline=view_pipeline,
        num_sample=num_sample,
        max_bad_ratio=0.05,
    ))
