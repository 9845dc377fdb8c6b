# ViT-H K400 fine-tuning with DeepSpeed ZeRO-2 (needs `pip install deepspeed==0.19.8`).
_base_ = ['../finetune/videomaev2_vit-h-p16_ft-16x4_8xb4-40e_k400.py', '../_base_/strategies/zero2_bf16.py']

optim_wrapper = dict(type='DeepSpeedOptimWrapper')
