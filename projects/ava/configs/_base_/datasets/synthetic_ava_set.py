# The generated SyntheticAVA set itself (projects/ava/ava_vmae2/synthetic.py): where it lives and
# its settings, shared by the detection and the pretraining configs so that both read the same
# set (a folder generated with other settings is refused, not overwritten).
synthetic_ava_root = 'data/synthetic_ava'
# 32 labelled train videos, 8 val videos, and 96 more without labels for pretraining (as a
# pretraining set is larger than the labelled one)
synthetic_ava = dict(num_videos=(32, 8), num_unlabelled=96, duration=12, segment=4, fps=8,
                     height=64, width=80, seed=0)
