# Dual-masking pretraining of the main job's tiny ViT on the SyntheticAVA train videos and the
# set's unlabelled videos (no labels used), before detection
# (fastrcnn_vit-t-p8_..._synthetic-ava-pretrained.py): the core main job's model, views and
# schedule, shortened to 120 epochs (3840 steps), on clips of the detector's format (8 frames x
# interval 2 = 2 s at 8 fps, crops of 64x64 -> 4 x 8 x 8 tokens). The 128 videos (12 s) are
# listed twice per epoch: 256 clips, 32 steps. 40 epochs (1280 steps, the data-efficiency
# experiment's length) were too few here (raw-pixel targets then): the detector from 120 epochs
# scored 0.631 at epoch 20 where 40 gave 0.571 (seed 0, the same detection recipe).
# Two changes from the main job (projects/ava/README.md):
# * 75 % tube masking instead of 90 %: with 64 token columns per clip, 90 % leaves 6 visible and
#   most persons (2-6 columns each) unseen, and the encoder then learned features that a linear
#   probe reads actions from worse than from a random encoder (val probe AP 0.33 vs 0.42).
# * the paper's per-tubelet normalised targets (`norm_pix_loss`), which the main job turns off
#   for readable loss curves: with raw pixels the loss is mostly the static background and the
#   detector from this pretraining scored below scratch (0.654 vs 0.712, mean of 3 seeds); with
#   normalised targets it scores above it (0.801 vs 0.713).
_base_ = ['vmae2::pretrain/videomaev2_vit-t-p8_dual-mask_1xb8-60e_synthetic-motion.py',
          '../_base_/datasets/synthetic_ava_set.py']

custom_imports = dict(imports=['projects.ava.ava_vmae2'], allow_failed_imports=False)
load_pipeline = [dict(t, clip_len=8) if t['type'] == 'SampleClip' else t
                 for t in _base_.load_pipeline]
train_dataloader = dict(
    # restated: a base value a leaf reads (`_base_.x`) carries its scope into the dicts of the
    # base, and a collate function takes no `_scope_` argument
    collate_fn=dict(_delete_=True, type='flatten_views_collate'),
    dataset=dict(_delete_=True, type='SyntheticAVAPretrainDataset',
                 root=_base_.synthetic_ava_root,
                 generator=_base_.synthetic_ava, frame_interval=2, repeats=2,
                 pipeline=load_pipeline, view_pipeline=_base_.view_pipeline,
                 num_sample=_base_.num_sample))
model = dict(encoder_mask=dict(ratio=0.75), norm_pix_loss=True)
val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
param_scheduler = dict(warmup=8)  # epochs
train_cfg = dict(max_epochs=120)
default_hooks = dict(checkpoint=dict(interval=40, max_keep_ckpts=3))
custom_hooks = [dict(type='SafeCheckpointHook', priority='VERY_HIGH')]
