# VideoMAE V2 fine-tuning, ViT-L on Kinetics-400.
# Recipe: lr 2e-3 per 256 clips, layer decay 0.75, drop path 0.2, 35 epochs.
_base_ = [
    '../_base_/models/vit-l-p16_cls.py', '../_base_/datasets/k400_finetune.py',
    '../_base_/schedules/finetune_adamw_cosine.py'
]

num_gpus, batch_per_gpu = 8, 8
max_epochs, warmup_epochs = 35, 5
lr = 2e-3 * batch_per_gpu * num_gpus / 256
# the pretrained encoder (encoder.* keys, converted by OfficialCheckpointHook)
load_from = 'work_dirs/videomaev2_vit-l-p16_dual-mask_8xb32-800e_k400/epoch_800.pth'

model = dict(
    backbone=dict(drop_path_rate=0.2),
    cls_head=_base_.finetune_head,
    data_preprocessor=_base_.finetune_preprocessor)
train_dataloader = dict(batch_size=batch_per_gpu)
optim_wrapper = dict(optimizer=dict(lr=lr), paramwise_cfg=dict(layer_decay_rate=0.75))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs,
         eta_min_ratio=_base_.min_lr / lr, by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
