# VideoMAE V2 ViT-L/16 in FastRCNN on AVA v2.2 (frames): 16 frames x interval 4,
# 8 GPUs x 8 clips, 20 epochs. lr and layer decay:
# mmaction2's ViT-L AVA recipe (2.5e-4).
_base_ = ['./_base_/models/fastrcnn_vit-l-p16.py', './_base_/datasets/ava22_frames.py',
          './_base_/schedules/ava_adamw_20e.py']

lr = 1.25e-4 * 24 / 12 * _base_.batch_per_gpu * _base_.num_gpus / 64
optim_wrapper = dict(optimizer=dict(lr=lr), paramwise_cfg=dict(layer_decay_rate=0.8))
# any layout the loader knows: official fine-tuned / distilled / pretrained, vmae2, HF
checkpoint = 'checkpoints/vit-l-p16_k710.pth'
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=checkpoint)))
