# Kinetics-400 pretraining (official VideoMAE V2 recipe, see videomae_pretrain_224.py).
# List: `tools/data/build_list.py data/kinetics400/videos_train data/kinetics400/train_pretrain.txt`
_base_ = ['./videomae_pretrain_224.py']

train_dataloader = dict(
    dataset=dict(sources=[
        dict(name='k400', ann_file='kinetics400/train_pretrain.txt',
             root='kinetics400/videos_train', frame_interval=4),
    ]))
