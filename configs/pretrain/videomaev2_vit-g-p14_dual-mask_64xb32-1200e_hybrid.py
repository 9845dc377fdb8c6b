# The paper's ViT-g pretraining: dual masking on UnlabeledHybrid, 64 GPUs x 32 clips, 1200 epochs
# (VideoMAE V2 Sec. 4.1). Model, masks, pipeline and optimiser as the ViT-g K400 recipe; the data
# and the length differ.
_base_ = ['./videomaev2_vit-g-p14_dual-mask_8xb32-800e_k400.py']

# UnlabeledHybrid: ~1.35M unlabelled clips from several sources, each with its own root, list
# file and frame interval (4 for Kinetics-like footage, 2 for SSv2-like). Without weights every
# clip is drawn once per epoch (sources in proportion to their size, like the official merged
# list); give every source a `weight` to draw them in chosen proportions instead. Frame-folder
# sources add `filename_tmpl`.
data_root = 'data/hybrid'
sources = [
    dict(name='k710', ann_file='lists/k710_train.txt', root='k710', frame_interval=4),
    dict(name='ssv2', ann_file='lists/ssv2_train.txt', root='sthv2', frame_interval=2),
    dict(name='ava', ann_file='lists/ava_clips.txt', root='ava_clips', frame_interval=4),
    dict(name='webvid', ann_file='lists/webvid_subset.txt', root='webvid', frame_interval=4),
    dict(name='own', ann_file='lists/own_videos.txt', root='own', frame_interval=4),
]
train_dataloader = dict(dataset=dict(data_root=data_root, sources=sources))

lr_batch_size = 32 * 64
optim_wrapper = dict(optimizer=dict(lr=6e-4 * lr_batch_size / 256))
param_scheduler = dict(warmup=30)  # epochs; min lr 1e-5 per 256 clips as the K400 recipe
train_cfg = dict(max_epochs=1200)
