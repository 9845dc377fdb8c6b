# The AVA detector out of the box: a tiny ViT in FastRCNN trained from scratch on the embedded
# SyntheticAVA set, on a 2-core CPU in a few minutes, evaluated (frame mAP@0.5) every epoch.
# The AVA schedule (AdamW, warmup + cosine, clip 40) shortened to 20 epochs of 36 steps, with a
# larger lr for a tiny model and few steps, and no layer decay (rate 1.0): the AVA recipe's 0.75
# gives the first of 4 blocks 0.32x the head's lr, and cost both inits (README: from scratch
# 0.608 with 0.75, 0.672 with 1.0 at epoch 20, seed 0). The pretrained variant inherits this
# recipe.
_base_ = ['../_base_/models/fastrcnn_vit-t-p8.py', '../_base_/datasets/synthetic_ava.py',
          '../_base_/schedules/ava_adamw_20e.py']

num_gpus, batch_per_gpu = 1, 8
max_epochs, warmup_epochs = 20, 2
lr = 1e-3 * batch_per_gpu * num_gpus / 8
optim_wrapper = dict(optimizer=dict(lr=lr), paramwise_cfg=dict(layer_decay_rate=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=0, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=9),
                     checkpoint=dict(interval=max_epochs, save_best=None, max_keep_ckpts=1))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
auto_scale_lr = dict(base_batch_size=8)
