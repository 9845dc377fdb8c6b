# The AVA detector around a VideoViT, as mmaction2's AVA ViT configs lay it out: mmdet's FastRCNN
# (no RPN: person proposals come with the data), mmaction2's AVARoIHead with SingleRoIExtractor3D
# (mmcv RoIAlign to 8x8, the time axis averaged first) and BBoxHeadAVA (81 outputs: index 0 is the
# background slot, left out of the loss and the results; multi-label BCE). The per-arch bases
# (fastrcnn_vit-*.py) put the core fine-tuning base's backbone (arch, tubelet, drop path) under
# `ava_backbone`, which turns it into the pretraining-encoder layout with a feature-map output.
# featmap_stride (= patch size) and in_channels (= width) follow the backbone (AVAFastRCNN).
custom_imports = dict(imports=['projects.ava.ava_vmae2'], allow_failed_imports=False)

ava_backbone = dict(
    type='AVAVideoViT',
    use_mean_pooling=False,  # final `norm`, no fc_norm: the AVA-ViT layout
    out_type='featmap',  # (B, D, T/2, H/p, W/p)
    # the pretrained grid's table resized to each clip's grid (measured in the README)
    pos_embed_mode='interpolate',
    pretrain_size=(16, 224, 224))
ava_detector = dict(
    type='AVAFastRCNN',
    roi_head=dict(
        type='AVARoIHead',
        _scope_='mmdet',  # where mmaction2 registers the AVA heads and their assigner
        bbox_roi_extractor=dict(type='SingleRoIExtractor3D', roi_layer_type='RoIAlign',
                                output_size=8, with_temporal_pool=True, featmap_stride=None),
        bbox_head=dict(type='BBoxHeadAVA', background_class=True, in_channels=None,
                       num_classes=81, multilabel=True, dropout_ratio=0.5)),
    data_preprocessor=dict(
        type='ActionDataPreprocessor', _scope_='mmaction', mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], format_shape='NCTHW'),
    train_cfg=dict(
        rcnn=dict(
            assigner=dict(type='MaxIoUAssignerAVA', pos_iou_thr=0.9, neg_iou_thr=0.9,
                          min_pos_iou=0.9),
            sampler=dict(type='RandomSampler', num=32, pos_fraction=1, neg_pos_ub=-1,
                         add_gt_as_proposals=True),
            pos_weight=1.0)),
    test_cfg=dict(rcnn=None))
