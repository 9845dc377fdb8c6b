# VideoMAE V2 pretraining model, ViT-S/16 encoder + 192-wide 4-block decoder (VideoMAE V2 Table 1).
# Dual masking: tube masking (90 %) for the encoder, running-cell masking (50 %) picks the decoder
# queries. The model owns the masks: it draws each view's pair from the view's `mask_seed`.
model = dict(
    type='VideoMAEV2',
    backbone=dict(type='VideoViT', arch='s', tubelet_size=2, drop_path_rate=0.0, with_cp=False),
    # MLP width follows the encoder's ratio; head predicts 3 x 2 x 16 x 16 pixels per token
    decoder=dict(type='VideoMAEDecoder', embed_dims=192, num_heads=3, num_layers=4, with_cp=False),
    encoder_mask=dict(type='TubeMaskGenerator', ratio=0.9),
    decoder_mask=dict(type='RunningCellMaskGenerator', ratio=0.5),
    norm_pix_loss=True,
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'))
