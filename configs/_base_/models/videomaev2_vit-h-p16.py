# VideoMAE V2 pretraining model, ViT-H/16 encoder + 512-wide 4-block decoder (8 heads),
# VideoMAE V2 Table 1; everything else as the ViT-S base (dual masking, normalised pixels).
_base_ = './videomaev2_vit-s-p16.py'
model = dict(backbone=dict(arch='h'), decoder=dict(embed_dims=512, num_heads=8))
