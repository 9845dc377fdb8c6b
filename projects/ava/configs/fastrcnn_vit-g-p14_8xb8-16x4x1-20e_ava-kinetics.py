# VideoMAE V2 ViT-g/14 in FastRCNN on AVA-Kinetics (frames), evaluated on AVA v2.2 val:
# 16 frames x interval 4,
# 8 GPUs x 8 clips, 20 epochs. lr and layer decay:
# the rule (README): lr x depth / 12, decay^(L+1) = ViT-L's 0.8^25.
_base_ = ['./_base_/models/fastrcnn_vit-g-p14.py', './_base_/datasets/ava_kinetics_frames.py',
          './_base_/schedules/ava_adamw_20e.py']

lr = 1.25e-4 * 40 / 12 * _base_.batch_per_gpu * _base_.num_gpus / 64
optim_wrapper = dict(optimizer=dict(lr=lr), paramwise_cfg=dict(layer_decay_rate=0.873))
# any layout the loader knows: official fine-tuned / distilled / pretrained, vmae2, HF
checkpoint = 'checkpoints/vit_g_hybrid_pt_1200e_k710_ft.pth'
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=checkpoint)))

# ViT-g/14 needs whole patches: crops of 252 (18 x 14) and a short side of 252 at test time
train_pipeline = [dict(t, size=252) if t['type'] == 'RandomCrop' else
                  dict(t, scale_range=(252, 320)) if t['type'] == 'RandomRescale' else t
                  for t in _base_.train_pipeline]
val_pipeline = [dict(t, scale=(-1, 252)) if t['type'] == 'Resize' else t
                for t in _base_.val_pipeline]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
