# VideoMAE V2 video classifier for fine-tuning (official layout): VideoViT with mean pooling ->
# fc_norm -> dropout -> Linear head initialised with trunc-normal(0.02) x 0.001, and the
# recipe's regularisation: Mixup 0.8 / CutMix 1.0, one of the two per batch (timm's switch_prob
# 0.5), label smoothing 0.1 on the mixed labels (same as timm's mixup of smoothed one-hots: both
# are linear). The head's width follows the backbone's arch and the blending's number of classes
# follows the head (VideoMAERecognizer): a leaf picks `arch`, a dataset base sets `num_classes`.
model = dict(
    type='VideoMAERecognizer',
    backbone=dict(type='VideoViT', arch='b', tubelet_size=2, use_mean_pooling=True,
                  drop_path_rate=0.1, with_cp=False),
    cls_head=dict(type='VideoMAEHead', num_classes=400, dropout_ratio=0.5, init_scale=0.001,
                  label_smooth_eps=0.1, average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW',
        blending=dict(
            type='RandomBatchAugment',
            augments=[dict(type='MixupBlending', alpha=0.8),
                      dict(type='CutmixBlending', alpha=1.0)],
            probs=[0.5, 0.5])))
