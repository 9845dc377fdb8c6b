# Distillation (VideoMAE V2, Sec. 4.3): a ViT-B student matches the softened predictions of the
# frozen ViT-g teacher (K710 -> K400 fine-tuned) on the same augmented clips. Data, optimiser
# and schedule are the ViT-B K400 fine-tuning recipe; the student starts from its pretrained
# encoder (`load_from` of that recipe).
_base_ = ['../finetune/videomaev2_vit-b-p16_ft-16x4_8xb8-90e_k400.py']


student = _base_.model
model = dict(
    _delete_=True,
    type='KDRecognizer',
    student=student,
    teacher='{{ fileDirname }}/../finetune/videomaev2_vit-g-p14_ft-16x4_8xb4-3e_k400.py',
    teacher_ckpt='work_dirs/videomaev2_vit-g-p14_ft-16x4_8xb4-3e_k400/epoch_3.pth',
    temperature=1.0,
    kd_weight=1.0,
    hard_weight=0.0,  # > 0 adds the student's label loss (mixup + smoothing) with this weight
    data_preprocessor=student.data_preprocessor)
