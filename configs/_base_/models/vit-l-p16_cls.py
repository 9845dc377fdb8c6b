# ViT-L/16 video classifier for fine-tuning (official layout): mean pooling -> fc_norm ->
# dropout -> Linear head initialised with trunc-normal(0.02) x 0.001.
model = dict(
    type='Recognizer3D',
    backbone=dict(type='VideoViT', arch='l', tubelet_size=2, use_mean_pooling=True,
                  drop_path_rate=0.2, with_cp=False),
    cls_head=dict(type='VideoMAEHead', num_classes=400, in_channels=1024, dropout_ratio=0.5,
                  init_scale=0.001, average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'))
