# The paper's ViT-g pretraining (dual masking, UnlabeledHybrid, 64 GPUs x 32 clips, 1200 epochs)
# sharded with FSDP: each GPU holds 1/64 of the parameters, gradients and AdamW state (estimate:
# tools/analysis_tools/estimate_memory.py). Launch: README, "Scaling up".
_base_ = ['../pretrain/videomaev2_vit-g-p14_dual-mask_64xb32-1200e_hybrid.py',
          '../_base_/strategies/fsdp_bf16.py']

# the strategy recomputes every block (encoder and decoder); the model's own with_cp would
# recompute them a second time
model = dict(backbone=dict(with_cp=False), decoder=dict(with_cp=False))
# the recipe's clip 0.02 by the norm over all shards (FSDP's clip_grad_norm_)
