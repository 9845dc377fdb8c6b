# VideoMAE V2 fine-tuning, ViT-G on Kinetics-710 (post-pretraining, progressive training step 2).
# Recipe: lr 1e-3 per 256 clips, layer decay 0.9, drop path 0.3, 35 epochs, weight decay 0.1.
_base_ = ['../_base_/datasets/k710_finetune.py', '../_base_/schedules/finetune_adamw_cosine.py']

num_gpus, batch_per_gpu = 8, 4
model = dict(backbone=dict(arch='g', drop_path_rate=0.3))
train_dataloader = dict(batch_size=batch_per_gpu)
optim_wrapper = dict(optimizer=dict(lr=1e-3 * batch_per_gpu * num_gpus / 256, weight_decay=0.1),
                     paramwise_cfg=dict(layer_decay_rate=0.9))
param_scheduler = dict(warmup=5)  # epochs
train_cfg = dict(max_epochs=35)
# the pretrained encoder (encoder.* keys, converted by OfficialCheckpointHook)
load_from = 'work_dirs/videomaev2_vit-g-p14_dual-mask_8xb32-800e_k400/epoch_800.pth'
