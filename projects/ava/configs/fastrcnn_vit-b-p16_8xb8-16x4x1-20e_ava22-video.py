# VideoMAE V2 ViT-B/16 in FastRCNN on AVA v2.2 read from videos: 16 frames x interval 4,
# 8 GPUs x 8 clips, 20 epochs. lr and layer decay:
# mmaction2's ViT-B AVA recipe.
_base_ = ['./_base_/models/fastrcnn_vit-b-p16.py', './_base_/datasets/ava22_videos.py',
          './_base_/schedules/ava_adamw_20e.py']

lr = 1.25e-4 * _base_.batch_per_gpu * _base_.num_gpus / 64
optim_wrapper = dict(optimizer=dict(lr=lr), paramwise_cfg=dict(layer_decay_rate=0.75))
# any layout the loader knows: official fine-tuned / distilled / pretrained, vmae2, HF
checkpoint = 'checkpoints/vit_b_k710_dl_from_giant.pth'
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=checkpoint)))
