# Pretraining data on the embedded SyntheticMotion set (generated on first use under `data_root`,
# no download): moving shapes whose class is their motion, written as real H.264 files, so the
# real decode path runs. One decode per video -> `num_sample` views, each with its own
# multi-scale crop and its own tube / running-cell masks (official repeated augmentation).
data_root = 'data/synthetic_motion'
generator = dict(num_classes=8, clips_per_class=40, num_frames=32, size=64, seed=0)

num_frames = 16
frame_interval = 2
input_size = 64
patch_size = 8
tubelet_size = 2
num_sample = 2
batch_per_gpu = 8
num_workers = 2
# The masks, drawn per view in the pipeline (True = masked); leaf configs override these.
encoder_mask = dict(type='TubeMaskGenerator', ratio=0.9)
decoder_mask = dict(type='RunningCellMaskGenerator', ratio=0.5)

pipeline = [
    dict(type='VideoInit'),
    dict(type='SampleClip', clip_len=num_frames, frame_interval=frame_interval),
    dict(type='VideoDecode'),
]
view_pipeline = [
    # official GroupMultiScaleCrop: scales (1, .875, .75, .66), max distortion 1, 13 fixed
    # corner / centre offsets
    dict(type='MultiScaleCrop', input_size=input_size, scales=(1, .875, .75, .66),
         random_crop=False, max_wh_scale_gap=1, num_fixed_crops=13),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),  # (C, T, H, W) uint8
    dict(type='GenerateMasks', input_size=(num_frames, input_size, input_size),
         patch_size=patch_size, tubelet_size=tubelet_size, encoder=encoder_mask,
         decoder=decoder_mask),
    dict(type='PackActionInputs', meta_keys=('encoder_mask', 'decoder_mask')),
]
train_dataloader = dict(
    batch_size=batch_per_gpu,
    num_workers=num_workers,
    persistent_workers=True,
    # yields (index, epoch, seed): crops and masks depend on those only, not on the workers
    sampler=dict(type='EpochSeededSampler', shuffle=True),
    collate_fn=dict(type='flatten_views_collate'),
    dataset=dict(
        type='SyntheticMotionPretrainDataset',
        root=data_root,
        generator=generator,
        num_sample=num_sample,
        pipeline=pipeline,
        view_pipeline=view_pipeline))
