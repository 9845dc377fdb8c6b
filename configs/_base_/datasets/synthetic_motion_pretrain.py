# Pretraining on SyntheticMotion, the toolbox's embedded default data: 8 motion classes, 320
# clips of 32 frames at 64x64, generated in data/synthetic_motion on first use (~2 s, no
# download). Pretraining uses the train split only, so val stays unseen for fine-tuning.
# Same recipe as videomae_pretrain_224.py at toy size: 16 frames x interval 2, 64x64, 2 views.
num_frames = 16
input_size = 64
frame_interval = 2  # 16 x 2 = the 32 frames of a clip
num_sample = 2  # views (crops, each with its own masks drawn by the model) per decoded clip
synthetic_root = 'data/synthetic_motion'
synthetic_motion = dict(num_classes=8, clips_per_class=40, num_frames=32, size=64, seed=0)

load_pipeline = [
    dict(type='VideoInit', backends=('decord', 'pyav')),
    dict(type='SampleClip', clip_len=num_frames, frame_interval=frame_interval),
    dict(type='VideoDecode', backends=('decord', 'pyav')),
]
view_pipeline = [
    dict(type='MultiScaleCrop', input_size=input_size, scales=(1, .875, .75, .66),
         max_wh_scale_gap=1, random_crop=False, num_fixed_crops=13),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),  # (C, T, H, W) uint8
    dict(type='PackActionInputs',
         meta_keys=('img_shape', 'filename', 'frame_inds', 'view_idx', 'sample_idx', 'mask_seed')),
]

train_dataloader = dict(
    batch_size=8,  # x num_sample = 16 views per step
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='EpochSeededSampler', shuffle=True),
    collate_fn=dict(type='flatten_views_collate'),
    dataset=dict(
        type='SyntheticMotionPretrainDataset',
        root=synthetic_root,
        generator=synthetic_motion,
        pipeline=load_pipeline,
        view_pipeline=view_pipeline,
        num_sample=num_sample,
    ))
