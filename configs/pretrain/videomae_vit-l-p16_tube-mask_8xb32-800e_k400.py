# VideoMAE (V1) recipe: encoder masking only; the decoder reconstructs every masked token.
_base_ = './videomaev2_vit-l-p16_dual-mask_8xb32-800e_k400.py'
model = dict(decoder_mask=None)
