# ActionFormer on VideoMAE V2-g features (1408-d, 16 frames / stride 4) for THUMOS14: the
# paper's localization setting (69.6 average mAP at tIoU 0.3:0.1:0.7; ActionFormer with I3D:
# 66.8). Recipe: AdamW lr 1e-4, wd 0.05, batch 2, 5 warmup + 30 cosine epochs, EMA 0.999 for
# evaluation, clipping 1.0, random crops of at most 2304 steps.
# CliffDiving is always annotated as Diving too: both labels are kept and the target
# assignment sets both classes on such a segment (ActionFormer drops CliffDiving in training
# instead; `drop_labels=['CliffDiving']` in the train dataset does the same here).
_base_ = ['./_base_/actionformer.py', './_base_/thumos14_features.py']
