# Something-Something V2 pretraining data: as Kinetics-400 but 16 frames every 2nd (SSv2 clips
# are short and motion-centred, the official setting).
_base_ = ['./k400_pretrain.py']

data_root = 'data/sthv2'
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        sources=[dict(name='ssv2', ann_file='train.txt', root='videos', frame_interval=2)]))
