# VideoMAE V2 pretraining schedule (official `run_mae_pretraining.py` defaults): AdamW
# betas (0.9, 0.95), weight decay 0.05, base lr 1e-3 and min lr 1e-5 per 256 clips of batch,
# where the batch is (clips per GPU x GPUs) and does NOT count `num_sample` repeats, warmup then
# cosine decay, per iteration. A leaf sets the lr, `param_scheduler.warmup` and
# `train_cfg.max_epochs`; the cosine ends with the train loop (WarmupCosineLR).
# clips per optimizer step over all GPUs (32 per GPU x 8 GPUs); `num_sample` views not counted
lr_batch_size = 32 * 8
lr = 1e-3 * lr_batch_size / 256

optim_wrapper = dict(
    type='OptimWrapper',
    # fused: one kernel for all parameters (~0.15 s of a ViT-B CPU step), CPU and GPU alike
    optimizer=dict(type='AdamW', lr=lr, betas=(0.9, 0.95), weight_decay=0.05, fused=True),
    # 1-D parameters (norms, biases, q_bias/v_bias) and the mask token get no weight decay
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0,
                       custom_keys={'mask_token': dict(decay_mult=0.0)}),
    clip_grad=None,
)
# min lr 1e-5 per 256 clips = 1/100 of the base lr, whatever the batch
param_scheduler = dict(type='WarmupCosineLR', warmup=40, start_factor=1e-6,
                       eta_min_ratio=1e-5 / 1e-3, by_epoch=True, convert_to_iter_based=True)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=800)
val_cfg = None
test_cfg = None
auto_scale_lr = dict(enable=False, base_batch_size=256)
