# Something-Something V2 pretraining: 16 frames x interval 2 (SSv2 clips are short, ~4 s at 12
# fps), otherwise the official VideoMAE V2 recipe of videomae_pretrain_224.py.
_base_ = ['./videomae_pretrain_224.py']

frame_interval = 2
train_dataloader = dict(
    dataset=dict(sources=[
        dict(name='ssv2', ann_file='sthv2/train_pretrain.txt', root='sthv2/videos',
             frame_interval=frame_interval),
    ]))
