_base_ = [
    '../_base_/models/videomaev2_vit-g-p14.py', '../_base_/datasets/k400_pretrain.py',
    '../_base_/schedules/pretrain_adamw_800e.py', '../_base_/default_runtime.py'
]
# activation checkpointing: recompute each block in backward to fit the encoder in memory
model = dict(backbone=dict(with_cp=True), decoder=dict(with_cp=True))
# ViT-g (official recipe): base lr 6e-4 per 256 clips and gradient clipping at 0.02
optim_wrapper = dict(optimizer=dict(lr=6e-4 * _base_.lr_batch_size / 256),
                     clip_grad=dict(_delete_=True, max_norm=0.02))
# ViT-g has 14x14 patches: the pipeline's masks are drawn on its 8x16x16 token grid
view_pipeline = [
    *_base_.view_pipeline[:3],
    dict(type='GenerateMasks', input_size=(16, 224, 224), patch_size=14, tubelet_size=2,
         encoder=_base_.encoder_mask, decoder=_base_.decoder_mask),
    _base_.view_pipeline[4],
]
train_dataloader = dict(dataset=dict(view_pipeline=view_pipeline))
