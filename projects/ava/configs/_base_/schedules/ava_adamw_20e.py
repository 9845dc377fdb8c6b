# The AVA fine-tuning schedule of mmaction2's VideoMAE configs: AdamW (weight decay 0.05, none on
# 1-D parameters and biases) with layer-wise lr decay (vmae2's constructor: the backbone under
# `backbone.` is found by its get_layer_depth, the RoI head is the last layer, scale 1), 20
# epochs, linear warmup from 0.1x for 5 epochs then cosine to 0, gradients clipped at 40, one
# val per epoch. A leaf sets `lr` (written per 64 clips = 8 GPUs x 8) and the layer decay.
_base_ = ['vmae2::_base_/default_runtime.py']

num_gpus, batch_per_gpu = 8, 8
max_epochs, warmup_epochs = 20, 5
lr = 1.25e-4 * batch_per_gpu * num_gpus / 64

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=lr, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.75),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=0, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=2,
                                     save_best='ava/frame_mAP@0.5', rule='greater'))
auto_scale_lr = dict(enable=False, base_batch_size=64)
