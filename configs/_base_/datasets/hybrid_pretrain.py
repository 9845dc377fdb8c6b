# UnlabeledHybrid, the VideoMAE V2 billion-scale pretraining mix (1.35M clips): Kinetics-710,
# Something-Something V2, AVA, WebVid-2M and self-collected videos. Each source states its own
# frame interval (the official code instead looks for 'SomethingV2' in the path). Roots and list
# files are placeholders under data/; build the lists with tools/data/build_list.py (frame
# folders: `--frames`, with their file template below).
_base_ = ['./videomae_pretrain_224.py']

train_dataloader = dict(
    dataset=dict(sources=[
        dict(name='k710', ann_file='k710/train_pretrain.txt', root='k710/videos',
             frame_interval=4),
        dict(name='ssv2', ann_file='sthv2/train_pretrain.txt', root='sthv2/videos',
             frame_interval=2),
        dict(name='ava', ann_file='ava/train_pretrain.txt', root='ava/rawframes',
             frame_interval=4, filename_tmpl='img_{:05}.jpg'),
        dict(name='webvid', ann_file='webvid2m/train_pretrain.txt', root='webvid2m/videos',
             frame_interval=4),
        dict(name='user', ann_file='user_videos/train_pretrain.txt', root='user_videos',
             frame_interval=4),
    ]))
