# VideoMAE V2 fine-tuning schedule (official `run_class_finetuning.py`): AdamW betas
# (0.9, 0.999), weight decay 0.05 except on 1-D parameters and biases, layer-wise lr decay
# (`ld^(L+1-i)`, see vmae2/engine/optimizers), linear warmup then cosine to `min_lr`, per
# iteration. A leaf sets its lr (written per 256 clips of batch: `base * batch / 256`, where the
# batch is clips per GPU x GPUs and does NOT count the repeated-augmentation views), the layer
# decay, `param_scheduler.warmup` and `train_cfg.max_epochs`; the cosine ends with the train
# loop whatever its length (WarmupCosineLR, see vmae2/engine/schedulers).
_base_ = ['../default_runtime.py']

num_gpus = 8
batch_per_gpu = 8
min_lr = 1e-6  # absolute, as the official default; every layer ends at min_lr x its scale
lr = 1e-3 * batch_per_gpu * num_gpus / 256

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=lr, betas=(0.9, 0.999), weight_decay=0.05, fused=True),
    constructor='LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.75),
    clip_grad=None,
)
param_scheduler = dict(type='WarmupCosineLR', warmup=5, start_factor=1e-3, eta_min=min_lr,
                       by_epoch=True, convert_to_iter_based=True)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=90, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=256)

# `load_from` may name any checkpoint layout: a pretraining one (encoder.* keys), an official or
# HF one, or a K710 post-pretrained recognizer for a K400/600/700 model (head rows mapped with
# the official index lists); see vmae2/engine/hooks/official_checkpoint_hook.py
custom_hooks = [
    dict(type='SafeCheckpointHook', priority='VERY_HIGH'),
    dict(type='OfficialCheckpointHook'),
]
