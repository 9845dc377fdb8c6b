# HMDB51 fine-tuning data (split 1): the Kinetics recipe (16 x 4 frames, 5 clips x 3 crops at
# test) on mmaction2's HMDB51 video lists.
_base_ = ['./k400_finetune.py']

data_root = 'data/hmdb51/videos'
data_root_val = data_root
ann_file_train = 'data/hmdb51/hmdb51_train_split_1_videos.txt'
ann_file_val = 'data/hmdb51/hmdb51_val_split_1_videos.txt'
num_classes = 51

model = dict(cls_head=dict(num_classes=num_classes))

train_dataloader = dict(dataset=dict(ann_file=ann_file_train, data_prefix=dict(video=data_root)))
val_dataloader = dict(dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root_val)))
test_dataloader = dict(dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root_val)))
