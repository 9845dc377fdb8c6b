# VideoMAE V2 pretraining model, ViT-B/16 encoder + 384-wide 4-block decoder (6 heads),
# VideoMAE V2 Table 1; everything else as the ViT-S base (dual masking, normalised pixels).
_base_ = './videomaev2_vit-s-p16.py'
model = dict(backbone=dict(arch='b'), decoder=dict(embed_dims=384, num_heads=6))
