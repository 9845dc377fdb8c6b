# Distillation of the ViT-g teacher into a ViT-S student: the ViT-B distillation recipe with the
# student's encoder swapped for ViT-S (and its pretrained checkpoint).
_base_ = ['./kd_vit-b-p16_vit-g-p14-teacher_8xb8-90e_k400.py']

model = dict(student=dict(backbone=dict(arch='s')))  # the head's width follows the arch
load_from = 'work_dirs/videomaev2_vit-s-p16_dual-mask_8xb32-800e_k400/epoch_800.pth'
