# Kinetics-710 (post-pretraining) data: the Kinetics-400 recipe on the union of K400/600/700
# train sets without any of their validation videos, 710 classes in the official head order.
# Build the lists with `python tools/data/build_k710_lists.py` (see docs/progressive_training.md);
# their paths are relative to `data_root`, e.g. `k400/train/<youtube_id>_000010_000020.mp4`.
_base_ = ['./k400_finetune.py']

data_root = 'data/kinetics710/videos'
data_root_val = data_root
ann_file_train = 'data/kinetics710/k710_train_list_videos.txt'
ann_file_val = 'data/kinetics710/k710_val_list_videos.txt'
num_classes = 710

model = dict(cls_head=dict(num_classes=num_classes))

train_dataloader = dict(dataset=dict(ann_file=ann_file_train, data_prefix=dict(video=data_root)))
val_dataloader = dict(dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root_val)))
test_dataloader = dict(dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root_val)))
