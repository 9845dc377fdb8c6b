# Kinetics-600 fine-tuning data: the Kinetics-400 recipe (see k400_finetune.py) on K600 lists.
_base_ = ['./k400_finetune.py']

data_root = 'data/kinetics600/videos_train'
data_root_val = 'data/kinetics600/videos_val'
ann_file_train = 'data/kinetics600/kinetics600_train_list_videos.txt'
ann_file_val = 'data/kinetics600/kinetics600_val_list_videos.txt'
num_classes = 600

blending = dict(
    type='RandomBatchAugment',
    augments=[dict(type='MixupBlending', num_classes=num_classes, alpha=0.8),
              dict(type='CutmixBlending', num_classes=num_classes, alpha=1.0)],
    probs=[0.5, 0.5])
finetune_head = dict(num_classes=num_classes, label_smooth_eps=0.1)
finetune_preprocessor = dict(blending=blending)

train_dataloader = dict(dataset=dict(ann_file=ann_file_train, data_prefix=dict(video=data_root)))
val_dataloader = dict(dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root_val)))
test_dataloader = dict(dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root_val)))
