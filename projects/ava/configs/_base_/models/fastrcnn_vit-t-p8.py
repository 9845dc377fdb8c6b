# The AVA detector around the main job's tiny ViT (128 wide, 4 blocks, patch 8, per-axis '3d'
# sine positions; configs/pretrain/videomaev2_vit-t-p8_dual-mask_1xb8-60e_synthetic-motion.py),
# for the embedded SyntheticAVA set: 8 actions -> 9 outputs (index 0 is the background slot).
_base_ = ['./ava_fastrcnn_vit.py']
tiny = dict(embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512, patch_size=8)
model = dict(
    backbone=dict(
        _base_.ava_backbone, arch=tiny, tubelet_size=2, pos_embed_type='3d', drop_path_rate=0.1,
        pretrain_size=(8, 64, 64)),  # the pretraining clips: 8 x 64 x 64 (4 x 8 x 8 tokens)
    **_base_.ava_detector)
model['roi_head']['bbox_head'].update(num_classes=9, dropout_ratio=0.2)
