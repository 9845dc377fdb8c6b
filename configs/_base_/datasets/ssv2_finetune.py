# Something-Something V2 fine-tuning data: segment-based sampling (16 segments, one frame
# each; random in training, fixed offsets at test) and no horizontal flip (left/right matter:
# "pushing something from left to right"). Test: 2 temporal views x 3 crops.
_base_ = ['./k400_finetune.py']

data_root = 'data/sthv2/videos'
data_root_val = data_root
ann_file_train = 'data/sthv2/sthv2_train_list_videos.txt'
ann_file_val = 'data/sthv2/sthv2_val_list_videos.txt'
num_classes = 174
input_size = 224
clip_len = 16
test_clips = 2
decode_timeout = 120  # seconds per video (decode watchdog)

model = dict(cls_head=dict(num_classes=num_classes))

train_pipeline = [
    dict(type='VideoInit', timeout=decode_timeout),
    dict(type='UniformSample', clip_len=clip_len, num_clips=1),
    dict(type='VideoDecode'),
    dict(type='VideoRandAugment', config_str='rand-m7-n4-mstd0.5-inc1'),
    dict(type='RandomResizedCrop', area_range=(0.08, 1.0), aspect_ratio_range=(3 / 4, 4 / 3)),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='VideoInit', timeout=decode_timeout),
    dict(type='UniformSample', clip_len=clip_len, num_clips=1, test_mode=True),
    dict(type='VideoDecode'),
    dict(type='Resize', scale=(-1, input_size)),
    dict(type='CenterCrop', crop_size=input_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='VideoInit', timeout=decode_timeout),
    dict(type='UniformSample', clip_len=clip_len, num_clips=test_clips, test_mode=True),
    dict(type='VideoDecode'),
    dict(type='Resize', scale=(-1, input_size)),
    dict(type='ThreeCrop', crop_size=input_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]

train_dataloader = dict(
    dataset=dict(ann_file=ann_file_train, data_prefix=dict(video=data_root),
                 pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root_val),
                 pipeline=val_pipeline))
test_dataloader = dict(
    dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root_val),
                 pipeline=test_pipeline))
