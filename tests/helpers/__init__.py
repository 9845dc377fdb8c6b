"""Helpers shared by the tests (not fixtures; those are in ``tests/conftest.py``).

``REPO`` is the repository root; ``DATA_ROOT`` the real sample data (read-only, beside the
repository; a user's clone may lack it: tests reach it through the ``test_data_root`` /
``real_videos`` fixtures, which skip when it is absent).
"""
import os
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA_ROOT = os.environ.get('VMAE2_TEST_DATA', osp.join(REPO, '..', 'shared', 'data'))

# the real clips of DATA_ROOT/videos -> frame counts
REAL_VIDEOS = {'arm_wrestling_k400.mp4': 280, 'pool_cleaning.mp4': 300, 'eye_makeup.avi': 164}

# 8 classes x 4 clips (3 train + 1 val) of 32 frames at 64x64: about 0.3 s to generate
SMALL_SYNTHETIC = dict(num_classes=8, clips_per_class=4, num_frames=32, size=64, val_ratio=0.25,
                       seed=0)
