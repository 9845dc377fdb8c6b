# AVA v2.2 from videos instead of frames: data/ava/videos_15min/<video_id>.<ext>, each cut to
# start at 900 s and re-encoded at 30 fps (projects/ava/README.md "Videos"), read by vmae2's
# readers (torchcodec, decord, PyAV: the first that opens a file reads it). Everything else as
# ava22_frames.py.
_base_ = ['./ava22_frames.py']
data_root = 'data/ava/videos_15min'
_video = dict(data_prefix=dict(img=data_root), use_frames=False, video_ext='auto')
train_dataloader = dict(dataset=_video)
val_dataloader = dict(dataset=_video)
test_dataloader = val_dataloader
