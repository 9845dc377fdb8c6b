# VideoMAE V2 fine-tuning, ViT-B on Kinetics-400.
# Recipe: lr 7e-4 per 256 clips, layer decay 0.75, drop path 0.1, 90 epochs.
_base_ = ['../_base_/datasets/k400_finetune.py', '../_base_/schedules/finetune_adamw_cosine.py']

num_gpus, batch_per_gpu = 8, 8
model = dict(backbone=dict(arch='b', drop_path_rate=0.1))
train_dataloader = dict(batch_size=batch_per_gpu)
optim_wrapper = dict(optimizer=dict(lr=7e-4 * batch_per_gpu * num_gpus / 256),
                     paramwise_cfg=dict(layer_decay_rate=0.75))
param_scheduler = dict(warmup=5)  # epochs
train_cfg = dict(max_epochs=90)
# the pretrained encoder (encoder.* keys, converted by OfficialCheckpointHook)
load_from = 'work_dirs/videomaev2_vit-b-p16_dual-mask_8xb32-800e_k400/epoch_800.pth'
