# ViT-g K400 fine-tuning from the K710 post-pretrained model (step 3) sharded with FSDP.
_base_ = ['../finetune/videomaev2_vit-g-p14_ft-16x4_8xb4-3e_k400.py', '../_base_/strategies/fsdp_bf16.py']
