# Runtime shared by every vmae2 config: scope, hooks, logging, environment.
default_scope = 'vmae2'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # MMEngine's CheckpointHook, crash-safe: temp file + fsync + rename, then last_checkpoint,
    # then old checkpoints deleted; never saves NaN/inf weights (vmae2/engine/hooks)
    checkpoint=dict(type='AtomicCheckpointHook', interval=1, save_best='auto', max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'),
    # a NaN/inf loss stops the run before its update, naming the iteration, the loss terms and
    # the last good checkpoint; action='skip' skips such steps (counted); fp16 AMP: stops after
    # `max_amp_skips` gradient-scaler skips in a row
    nonfinite_loss=dict(type='NonFiniteLossHook', action='stop', max_amp_skips=20),
    # drop path / dropout / mixup drawn per step from (seed, iteration, rank): a resumed run
    # replays the uninterrupted one step for step (vmae2/engine/hooks/step_seed_hook.py)
    step_seed=dict(type='StepSeedHook'),
)
# Keeps checkpoints loadable with torch.load(weights_only=True): the message hub's history
# buffers are saved as plain data and restored on resume (see vmae2/engine/hooks).
custom_hooks = [dict(type='SafeCheckpointHook', priority='VERY_HIGH')]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # 'nccl' on GPUs; tools/train.py switches to 'gloo' when there is no GPU
    dist_cfg=dict(backend='nccl'),
)

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)

vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, diff_rank_seed=True, deterministic=False)
