# The main job reading its clips from packed shards instead of a list file: the streaming path
# of million-clip mixes (README "Scaling up") at toy size. Pack the set first (it is generated
# on the way):
#   python tools/data/pack_shards.py \
#       configs/pretrain/videomaev2_vit-t-p8_dual-mask_1xb8-60e_synthetic-motion.py \
#       data/synthetic_motion_shards
# Only the data differs from the main job: same clips, pipeline, views and schedule.
_base_ = ['./videomaev2_vit-t-p8_dual-mask_1xb8-60e_synthetic-motion.py']

train_dataloader = dict(
    # shards shuffled, then the clips inside each; equal blocks per rank; resumable position
    sampler=dict(type='ShardAwareSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='StreamingPretrainDataset',
        shards='data/synthetic_motion_shards',
        pipeline={{_base_.load_pipeline}},
        view_pipeline={{_base_.view_pipeline}},
        num_sample={{_base_.num_sample}},
    ))

# checkpoints inside the epoch (30 steps here; thousands on a million-clip mix), which resume
# where they were saved: StreamingResumeHook stores the sampler's position in each of them
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=15, max_keep_ckpts=2))
custom_hooks = [
    dict(type='SafeCheckpointHook', priority='VERY_HIGH'),
    dict(type='StreamingResumeHook'),
    dict(type='ReconstructionVisHook', interval=320, num_clips=2, max_frames=8, scale=3),
]
