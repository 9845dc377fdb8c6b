# The main job, out of the box: VideoMAE V2 dual-masking pretraining of a tiny ViT (patch 8) on
# the embedded SyntheticMotion set, on a 2-core CPU in about 10 minutes. Watch the loss fall in
# the log / TensorBoard and the reconstructions improve in <work_dir>/reconstructions/.
_base_ = [
    '../_base_/datasets/synthetic_motion_pretrain.py',
    '../_base_/schedules/pretrain_adamw_800e.py',
    '../_base_/default_runtime.py',
]

# a "tiny" ViT: 128 wide, 4 blocks, 16x64x64 clips -> 8x8x8 = 512 tokens of 2x8x8 pixels.
# Its one change of design: per-axis sine positions ('3d') instead of the official table of the
# flattened token index. At 64-128 channels the 1-D table has too few frequencies to tell rows
# and columns apart, and the model then reconstructs a position-blind blob where the shape
# should be (measured in vmae2/models/layers/pos_embed.py and tests/models/test_pos_embed.py).
arch = dict(embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512, patch_size=8)
model = dict(
    type='VideoMAEV2',
    backbone=dict(type='VideoViT', arch=arch, tubelet_size=2, pos_embed_type='3d'),
    decoder=dict(type='VideoMAEDecoder', embed_dims=64, num_heads=2, num_layers=2),
    encoder_mask=dict(type='TubeMaskGenerator', ratio=0.9),
    decoder_mask=dict(type='RunningCellMaskGenerator', ratio=0.5),
    # Raw-pixel targets here (the paper's per-tubelet normalised targets stay on in the
    # real-data configs): the synthetic backgrounds are fine noise, which per-patch
    # normalisation blows up into unpredictable targets that pin the loss near 1, and pictures of
    # normalised predictions borrow each true patch's mean and std. With raw pixels the falling
    # loss and the reconstructions show what the model has learned.
    norm_pix_loss=False)

# schedule: what differs from the paper's is its length and, for a tiny model trained for a few
# hundred steps, a 30x larger base lr (per 256 clips, num_sample not counted, as officially)
lr = 3e-2 * 8 * 1 / 256  # 8 clips per step, 1 process
optim_wrapper = dict(optimizer=dict(lr=lr))
param_scheduler = dict(warmup=5, start_factor=1e-3)  # epochs; min lr = lr / 100 as the base
train_cfg = dict(max_epochs=60)

default_hooks = dict(
    logger=dict(interval=8),
    checkpoint=dict(interval=10, save_best=None, max_keep_ckpts=2))
custom_hooks = [
    dict(type='SafeCheckpointHook', priority='VERY_HIGH'),
    dict(type='ReconstructionVisHook', interval=320, num_clips=2, max_frames=8, scale=3),
]
