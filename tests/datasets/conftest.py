"""Fixtures of the dataset tests: the real clips of ../shared/data and a small SyntheticMotion."""
import os
import os.path as osp

import pytest

TEST_DATA = os.environ.get(
    'VMAE2_TEST_DATA',
    osp.normpath(osp.join(osp.dirname(__file__), '..', '..', '..', 'shared', 'data')))
REAL_VIDEOS = {'arm_wrestling_k400.mp4': 280, 'pool_cleaning.mp4': 300, 'eye_makeup.avi': 164}

# 8 classes x 4 clips (3 train + 1 val) of 32 frames at 64x64: about 0.3 s to generate
SMALL_SYNTHETIC = dict(num_classes=8, clips_per_class=4, num_frames=32, size=64, val_ratio=0.25,
                       seed=0)


@pytest.fixture(scope='session')
def real_videos():
    """Paths of the real test clips -> expected frame counts; skips when they are absent."""
    folder = osp.join(TEST_DATA, 'videos')
    paths = {osp.join(folder, name): n for name, n in REAL_VIDEOS.items()}
    missing = [p for p in paths if not osp.isfile(p)]
    if missing:
        pytest.skip(f'real test clips not found ({missing[0]}); set VMAE2_TEST_DATA')
    return paths


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory):
    """A small SyntheticMotion set, generated once per test session."""
    from vmae2.datasets import generate_synthetic_motion
    root = str(tmp_path_factory.mktemp('synthetic') / 'synthetic_motion')
    generate_synthetic_motion(root, **SMALL_SYNTHETIC)
    return root
