# Data-efficiency experiment, baseline: the same tiny ViT and fine-tuning budget, from scratch.
_base_ = ['./data_efficiency_finetune_vit-t-p8_1xb16-30e_synthetic-motion.py']

load_from = None
