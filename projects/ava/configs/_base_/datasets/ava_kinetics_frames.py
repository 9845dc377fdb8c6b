# AVA-Kinetics (frames only, as mmaction2): AVA v2.2 + the Kinetics-700 clips annotated the AVA
# way, data/ava_kinetics/rawframes/<id>/ (Kinetics clips named <youtube_id>_<start>_<end>),
# trained on together; evaluated on AVA v2.2 val (how mmaction2's 33.6 / 38.7 are measured).
_base_ = ['./ava22_frames.py']
dataset_type = 'AVAKineticsVmae2Dataset'
data_root = 'data/ava_kinetics/rawframes'
anno_root = 'data/ava_kinetics/annotations'
ann_file_train = f'{anno_root}/ava_train_v2.2.csv'
ann_file_val = f'{anno_root}/ava_val_v2.2.csv'
exclude_file_train = f'{anno_root}/ava_train_excluded_timestamps_v2.2.csv'
exclude_file_val = f'{anno_root}/ava_val_excluded_timestamps_v2.2.csv'
proposal_file_train = f'{anno_root}/ava_dense_proposals_train.FAIR.recall_93.9.pkl'
proposal_file_val = f'{anno_root}/ava_dense_proposals_val.FAIR.recall_93.9.pkl'
_files = dict(type=dataset_type, data_prefix=dict(img=data_root))
train_dataloader = dict(dataset=dict(_files, ann_file=ann_file_train,
                                     exclude_file=exclude_file_train,
                                     proposal_file=proposal_file_train))
val_dataloader = dict(dataset=dict(_files, ann_file=ann_file_val, exclude_file=exclude_file_val,
                                   proposal_file=proposal_file_val))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=ann_file_val, exclude_file=exclude_file_val)
test_evaluator = val_evaluator
