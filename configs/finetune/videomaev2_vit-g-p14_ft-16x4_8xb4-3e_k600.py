# VideoMAE V2 fine-tuning, ViT-G on Kinetics-600 from the K710 post-pretrained model
# (progressive training, step 3).
# Recipe: lr 1e-5 per 256 clips, layer decay 0.9, drop path 0.25, 3 epochs.
_base_ = ['../_base_/datasets/k600_finetune.py', '../_base_/schedules/finetune_adamw_cosine.py']

num_gpus, batch_per_gpu = 8, 4
model = dict(backbone=dict(arch='g', drop_path_rate=0.25))
train_dataloader = dict(batch_size=batch_per_gpu)
optim_wrapper = dict(optimizer=dict(lr=1e-5 * batch_per_gpu * num_gpus / 256),
                     paramwise_cfg=dict(layer_decay_rate=0.9))
param_scheduler = dict(warmup=0)  # epochs
train_cfg = dict(max_epochs=3)
# the post-pretrained K710 model; its 710-class head is cut to this dataset's classes
load_from = 'work_dirs/videomaev2_vit-g-p14_ft-16x4_8xb4-35e_k710/epoch_35.pth'
