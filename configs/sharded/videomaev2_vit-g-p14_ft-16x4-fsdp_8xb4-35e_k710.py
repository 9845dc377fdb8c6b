# ViT-g K710 post-pretraining (progressive training, step 2) sharded with FSDP on 8 GPUs. Layer
# decay and the no-weight-decay rule are decided on the unsharded model, by parameter name.
_base_ = ['../finetune/videomaev2_vit-g-p14_ft-16x4_8xb4-35e_k710.py', '../_base_/strategies/fsdp_bf16.py']
